"""Persistence: one storage interface, a SQLite and a PostgreSQL implementation.

A storage loads the whole :class:`~tinytodo_server.model.State` at start-up and
then writes each command's operations in **one transaction** (:meth:`Storage.commit`).
The server answers a request only after that commit returned, so a killed
server never loses an acknowledged write.

With no database configured the server uses an in-memory SQLite database,
so it starts empty on every run (as upstream TinyTodo does).
"""

from __future__ import annotations

import abc
import logging
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from cedarlang import CedarError, EntityUid, parse_entity_uid

from .model import (
    LIST_TYPE,
    AddLink,
    AddParent,
    DeleteList,
    DeleteTeam,
    Link,
    Op,
    PutList,
    PutTeam,
    RemoveLink,
    RemoveParent,
    SetCounter,
    State,
    Task,
    TodoList,
)

log = logging.getLogger("tinytodo_server.storage")

SCHEMA_VERSION = "1"

_DDL = (
    "CREATE TABLE IF NOT EXISTS tinytodo_meta ( key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS tinytodo_lists ("
    " eid TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL,"
    " readers TEXT, editors TEXT)",
    "CREATE TABLE IF NOT EXISTS tinytodo_tasks ("
    " list_eid TEXT NOT NULL, id BIGINT NOT NULL, name TEXT NOT NULL, state TEXT NOT NULL,"
    " PRIMARY KEY (list_eid, id))",
    "CREATE TABLE IF NOT EXISTS tinytodo_teams (uid TEXT PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS tinytodo_parents ("
    " child TEXT NOT NULL, parent TEXT NOT NULL, PRIMARY KEY (child, parent))",
    "CREATE TABLE IF NOT EXISTS tinytodo_links ("
    " policy_id TEXT PRIMARY KEY, template_id TEXT NOT NULL,"
    " principal TEXT NOT NULL, resource TEXT NOT NULL)",
)


class StorageError(Exception):
    """The database could not be opened, read or written."""


class Storage(abc.ABC):
    """Where TinyTodo keeps its lists, tasks, shares and template links."""

    description: str = "storage"

    @abc.abstractmethod
    def load(self) -> State:
        """Read the whole state."""

    @abc.abstractmethod
    def commit(self, ops: Sequence[Op]) -> None:
        """Write ``ops`` atomically: all of them, durably, or none (raises StorageError)."""

    @abc.abstractmethod
    def close(self) -> None: ...


class SqlStorage(Storage):
    """The SQL shared by both databases; subclasses supply the connection,
    the placeholder style and the transaction."""

    placeholder = "?"

    @abc.abstractmethod
    def _transaction(self) -> AbstractContextManager[Any]:
        """A context giving a cursor (``execute``/``fetchone``/``fetchall``) inside
        one transaction: committed on normal exit, rolled back on an exception."""

    def _sql(self, text: str) -> str:
        return text.replace("?", self.placeholder)

    def _create_tables(self) -> None:
        with self._transaction() as cur:
            for statement in _DDL:
                cur.execute(statement)
            cur.execute(
                self._sql(
                    "INSERT INTO tinytodo_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"
                ),
                ("schema_version", SCHEMA_VERSION),
            )

    def load(self) -> State:
        try:
            with self._transaction() as cur:
                return self._load(cur)
        except StorageError:
            raise
        except Exception as err:
            raise StorageError(f"cannot read the database: {err}") from err

    def _load(self, cur: Any) -> State:
        state = State()
        cur.execute(self._sql("SELECT value FROM tinytodo_meta WHERE key = ?"), ("counter",))
        row = cur.fetchone()
        state.counter = int(row[0]) if row else 0
        tasks: dict[str, list[Task]] = {}
        cur.execute("SELECT list_eid, id, name, state FROM tinytodo_tasks ORDER BY list_eid, id")
        for list_eid, task_id, name, task_state in cur.fetchall():
            if task_state not in ("Checked", "Unchecked"):
                raise StorageError(f"task {task_id} of list {list_eid} has bad state {task_state!r}")
            tasks.setdefault(list_eid, []).append(Task(int(task_id), name, task_state))
        cur.execute("SELECT eid, owner, name, readers, editors FROM tinytodo_lists")
        for eid, owner, name, readers, editors in cur.fetchall():
            uid = EntityUid(LIST_TYPE, eid)
            state.lists[uid] = TodoList(
                uid,
                _uid(owner),
                name,
                tuple(tasks.get(eid, ())),
                _uid(readers) if readers else None,
                _uid(editors) if editors else None,
            )
        cur.execute("SELECT uid FROM tinytodo_teams")
        state.teams = {_uid(row[0]) for row in cur.fetchall()}
        cur.execute("SELECT child, parent FROM tinytodo_parents")
        state.parents = {(_uid(c), _uid(p)) for c, p in cur.fetchall()}
        cur.execute("SELECT policy_id, template_id, principal, resource FROM tinytodo_links")
        for pid, tid, principal, resource in cur.fetchall():
            state.links[pid] = Link(pid, tid, _uid(principal), _uid(resource))
        return state

    def commit(self, ops: Sequence[Op]) -> None:
        if not ops:
            return
        try:
            with self._transaction() as cur:
                for op in ops:
                    self._write(cur, op)
        except StorageError:
            raise
        except Exception as err:
            raise StorageError(f"cannot write to the database: {err}") from err

    def _write(self, cur: Any, op: Op) -> None:
        q = self._sql
        match op:
            case SetCounter(value):
                cur.execute(
                    q(
                        "INSERT INTO tinytodo_meta (key, value) VALUES (?, ?) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                    ),
                    ("counter", str(value)),
                )
            case PutList(lst):
                cur.execute(
                    q(
                        "INSERT INTO tinytodo_lists (eid, owner, name, readers, editors) "
                        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (eid) DO UPDATE SET "
                        "owner = excluded.owner, name = excluded.name, "
                        "readers = excluded.readers, editors = excluded.editors"
                    ),
                    (
                        lst.uid.id,
                        str(lst.owner),
                        lst.name,
                        str(lst.readers) if lst.readers else None,
                        str(lst.editors) if lst.editors else None,
                    ),
                )
                cur.execute(q("DELETE FROM tinytodo_tasks WHERE list_eid = ?"), (lst.uid.id,))
                for task in lst.tasks:
                    cur.execute(
                        q("INSERT INTO tinytodo_tasks (list_eid, id, name, state) VALUES (?, ?, ?, ?)"),
                        (lst.uid.id, task.id, task.name, task.state),
                    )
            case DeleteList(uid):
                cur.execute(q("DELETE FROM tinytodo_tasks WHERE list_eid = ?"), (uid.id,))
                cur.execute(q("DELETE FROM tinytodo_lists WHERE eid = ?"), (uid.id,))
            case PutTeam(uid):
                cur.execute(
                    q("INSERT INTO tinytodo_teams (uid) VALUES (?) ON CONFLICT (uid) DO NOTHING"),
                    (str(uid),),
                )
            case DeleteTeam(uid):
                cur.execute(q("DELETE FROM tinytodo_teams WHERE uid = ?"), (str(uid),))
            case AddParent(child, parent):
                cur.execute(
                    q(
                        "INSERT INTO tinytodo_parents (child, parent) VALUES (?, ?) "
                        "ON CONFLICT (child, parent) DO NOTHING"
                    ),
                    (str(child), str(parent)),
                )
            case RemoveParent(child, parent):
                cur.execute(
                    q("DELETE FROM tinytodo_parents WHERE child = ? AND parent = ?"),
                    (str(child), str(parent)),
                )
            case AddLink(link):
                cur.execute(
                    q(
                        "INSERT INTO tinytodo_links (policy_id, template_id, principal, resource) "
                        "VALUES (?, ?, ?, ?) ON CONFLICT (policy_id) DO UPDATE SET "
                        "template_id = excluded.template_id, principal = excluded.principal, "
                        "resource = excluded.resource"
                    ),
                    (link.policy_id, link.template_id, str(link.principal), str(link.resource)),
                )
            case RemoveLink(policy_id):
                cur.execute(q("DELETE FROM tinytodo_links WHERE policy_id = ?"), (policy_id,))


def _uid(text: str) -> EntityUid:
    try:
        return parse_entity_uid(text)
    except CedarError as err:
        raise StorageError(f"bad entity uid {text!r} in the database: {err}") from err


class SqliteStorage(SqlStorage):
    """SQLite through the standard library (``:memory:`` for a throw-away database)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.description = "in-memory database" if path == ":memory:" else f"SQLite {path}"
        try:
            self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            if path != ":memory:":
                self._conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before we answer (survives power loss too).
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA busy_timeout=5000")
            self._create_tables()
        except sqlite3.Error as err:
            raise StorageError(f"cannot open SQLite database {path}: {err}") from err

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        cur = self._conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
            cur.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        finally:
            cur.close()

    def close(self) -> None:
        self._conn.close()


class PostgresStorage(SqlStorage):
    """PostgreSQL through psycopg 3 (reconnects if the connection broke)."""

    placeholder = "%s"

    def __init__(self, url: str) -> None:
        self.url = url
        self.description = f"PostgreSQL {_redact(url)}"
        self._conn: Any = None
        try:
            self._connect()
            self._create_tables()
        except StorageError:
            raise
        except Exception as err:
            raise StorageError(f"cannot open PostgreSQL database {_redact(url)}: {err}") from err

    def _connect(self) -> Any:
        try:
            import psycopg
        except ImportError as err:  # pragma: no cover - depends on the install
            raise StorageError("PostgreSQL support needs psycopg: pip install 'psycopg[binary]'") from err
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                log.warning("reconnecting to %s", self.description)
            self._conn = psycopg.connect(self.url, autocommit=True)
        return self._conn

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        conn = self._connect()
        with conn.transaction(), conn.cursor() as cur:
            yield cur

    def _lost_connection(self) -> bool:
        return self._conn is not None and bool(self._conn.closed or self._conn.broken)

    def load(self) -> State:
        try:
            return super().load()
        except StorageError:
            if not self._lost_connection():
                raise
            return super().load()

    def commit(self, ops: Sequence[Op]) -> None:
        try:
            super().commit(ops)
        except StorageError:
            if not self._lost_connection():
                raise
            # The connection died (say, PostgreSQL restarted). Every op is an upsert
            # or a delete of complete values, so writing them again is safe even if
            # the first attempt did commit before the connection dropped.
            log.warning("lost the connection to %s; retrying the transaction", self.description)
            super().commit(ops)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def open_storage(db: str | None) -> Storage:
    """Open the database named by ``db``.

    * ``None`` or empty: a fresh in-memory database (nothing survives a restart);
    * ``postgresql://...`` or ``postgres://...``: PostgreSQL;
    * ``sqlite:///relative/path``, ``sqlite:////absolute/path`` or a plain file path: SQLite.
    """
    if not db:
        return SqliteStorage(":memory:")
    if db.startswith(("postgresql://", "postgres://")):
        return PostgresStorage(db)
    if db.startswith("sqlite:"):
        rest = db[len("sqlite:") :]
        if rest in ("", "//", "///:memory:", "//:memory:"):
            return SqliteStorage(":memory:")
        if not rest.startswith("///"):
            raise StorageError(
                f"bad SQLite URL {db!r}: use sqlite:///relative/path or sqlite:////absolute/path"
            )
        return SqliteStorage(unquote(rest[3:]))
    if "://" in db:
        scheme = db.split("://", 1)[0]
        raise StorageError(
            f"unsupported database URL scheme {scheme!r}: use a SQLite file path, "
            "sqlite:///path or postgresql://..."
        )
    return SqliteStorage(str(Path(db)))
