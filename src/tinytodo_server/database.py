"""The database connection: SQLite (one process) or PostgreSQL (any number of replicas).

Every command runs as **one transaction** through :meth:`Database.run`. Nothing is
cached between transactions, so two servers on one PostgreSQL database see each
other's writes on their next request. PostgreSQL runs at READ COMMITTED; commands that
change a list lock its row first (``SELECT ... FOR UPDATE``), so changes to one list
are serialized wherever they come from, and a serialization failure or deadlock is
retried. SQLite serializes writers itself; here one lock per process orders them.

URLs: none (an in-memory database, empty on every start, as upstream TinyTodo),
``postgresql://...``, ``sqlite:///relative/path``, ``sqlite:////absolute/path`` or a
plain file path.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from cedarlang import EntityUid

from . import tables
from .directory import Directory

log = logging.getLogger("tinytodo_server.database")

T = TypeVar("T")

DIRECTORY_ORIGIN = "entities.json"
SHARE_ORIGIN = "share"
_RETRIED_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected
ATTEMPTS = 8
POOL_SIZE = 40
"""PostgreSQL connections kept open: anyio's default number of worker threads."""


class DatabaseError(Exception):
    """The database could not be opened, read or written."""


def redact(url: str) -> str:
    """``url`` without its password (for logs and error messages)."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


_IN_MEMORY = ("", "sqlite:", "sqlite://", "sqlite:///:memory:", "sqlite://:memory:", ":memory:")


def _engine(db: str | None) -> sa.Engine:
    if not db or db in _IN_MEMORY:
        return sa.create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    if db.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + db.split("://", 1)[1]
        # Keep as many connections as requests can run at once (the web layer's worker
        # threads), so none is opened and closed per request under load (a new
        # PostgreSQL connection costs a process and several round trips).
        engine = sa.create_engine(url, pool_size=POOL_SIZE, max_overflow=10)
        sa.event.listen(engine, "connect", _custom_plans)
        return engine
    if db.startswith("sqlite:"):
        rest = db[len("sqlite:") :]
        if not rest.startswith("///"):
            raise DatabaseError(
                f"bad SQLite URL {db!r}: use sqlite:///relative/path or sqlite:////absolute/path"
            )
        path = unquote(rest[3:])
    elif "://" in db:
        scheme = db.split("://", 1)[0]
        raise DatabaseError(
            f"unsupported database URL scheme {scheme!r}: use a SQLite file path, "
            "sqlite:///path or postgresql://..."
        )
    else:
        path = str(Path(db))
    return sa.create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 30})


def _custom_plans(dbapi_connection: Any, _record: Any) -> None:
    """Plan each statement for its own parameters. psycopg prepares statements it sees
    often, and PostgreSQL then switches to one generic plan; for get_lists' filter that
    plan walks the whole primary key in order (30 ms on 20,000 lists instead of 0.2 ms).
    And no JIT compilation: every statement here touches a few rows, but the recursive
    ancestry query's row estimate is large enough to trigger it (30 ms to compile a
    0.3 ms query)."""
    with dbapi_connection.cursor() as cur:
        cur.execute("SET plan_cache_mode = force_custom_plan")
        cur.execute("SET jit = off")
    dbapi_connection.commit()


def _sqlstate(err: BaseException) -> str | None:
    orig = getattr(err, "orig", None) or err
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


class Database:
    def __init__(self, db: str | None) -> None:
        try:
            self.engine = _engine(db)
        except sa.exc.ArgumentError as err:
            raise DatabaseError(f"bad database URL: {err}") from err
        self.dialect = self.engine.dialect.name
        in_memory = not db or db in _IN_MEMORY
        self.description = "an in-memory database (empty on each start)" if in_memory else redact(db or "")
        self._lock: threading.Lock | None = threading.Lock() if self.dialect == "sqlite" else None
        # What the driver raises from statements run on it directly (`execute_prepared`).
        self._driver_error: type[Exception] = self.engine.dialect.loaded_dbapi.Error

    def run(self, work: Callable[[sa.Connection], T]) -> T:
        """``work(connection)`` in one transaction, committed if it returns; retried from
        the start on a serialization failure or deadlock (so ``work`` must only touch the
        database); DatabaseError if the database fails."""
        for attempt in range(ATTEMPTS):
            try:
                with self._exclusive(), self.engine.begin() as conn:
                    return work(conn)
            except sa.exc.DBAPIError as err:
                # A connection the server dropped (restart, idle timeout) is discarded by
                # the pool; the transaction never ran, so running it again is safe. (No
                # ping per checkout: that would cost a round trip on every request.)
                retry = err.connection_invalidated or _sqlstate(err) in _RETRIED_SQLSTATES
                if retry and attempt + 1 < ATTEMPTS:
                    time.sleep(random.uniform(0, 0.002 * 2**attempt))
                    continue
                raise DatabaseError(f"database error: {err.orig or err}") from err
            except sa.exc.SQLAlchemyError as err:
                raise DatabaseError(f"database error: {err}") from err
            except (self._driver_error, ConnectionLost) as err:  # from `execute_prepared`
                retry = isinstance(err, ConnectionLost) or _sqlstate(err) in _RETRIED_SQLSTATES
                if retry and attempt + 1 < ATTEMPTS:
                    time.sleep(random.uniform(0, 0.002 * 2**attempt))
                    continue
                raise DatabaseError(f"database error: {err}") from err
        raise AssertionError("unreachable")  # pragma: no cover

    def _exclusive(self) -> threading.Lock | nullcontext[None]:
        return self._lock if self._lock is not None else nullcontext()

    def close(self) -> None:
        self.engine.dispose()

    # -- start-up ----------------------------------------------------------------------

    def prepare(self, directory: Directory) -> None:
        """Create the tables if needed, check the layout version, and make the users, named
        teams and their memberships those of ``entities.json`` (replicas starting together
        take turns: the version row is locked)."""
        try:
            tables.metadata.create_all(self.engine, checkfirst=True)
        except sa.exc.SQLAlchemyError:
            # Two replicas creating the tables at once: one wins, the other checks again.
            time.sleep(0.2)
            try:
                tables.metadata.create_all(self.engine, checkfirst=True)
            except sa.exc.SQLAlchemyError as err:
                raise DatabaseError(f"cannot create the tables: {err}") from err
        self.run(lambda conn: _sync(conn, directory))


def _sync(conn: sa.Connection, directory: Directory) -> None:
    meta, counters = tables.meta, tables.counters
    insert_ignoring_duplicates(conn, meta, [{"key": "layout", "value": tables.LAYOUT_VERSION}])
    insert_ignoring_duplicates(conn, counters, [{"name": "ids", "value": 0}])
    query = sa.select(meta.c.value).where(meta.c.key == "layout")
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    version = conn.execute(query).scalar_one()
    if version != tables.LAYOUT_VERSION:
        raise DatabaseError(
            f"the database's table layout is version {version}; this server needs {tables.LAYOUT_VERSION}"
        )
    users, teams, parents = tables.users, tables.teams, tables.parents
    conn.execute(sa.delete(parents).where(parents.c.origin == DIRECTORY_ORIGIN))
    conn.execute(sa.delete(users))
    conn.execute(sa.delete(teams).where(teams.c.list_id.is_(None)))
    rows = [
        {"id": u.uid.id, "joblevel": u.joblevel, "location": u.location} for u in directory.users.values()
    ]
    if rows:
        conn.execute(sa.insert(users), rows)
    insert_ignoring_duplicates(conn, teams, [{"id": t.id, "list_id": None} for t in directory.teams])
    edges: list[tuple[EntityUid, EntityUid]] = [
        (u.uid, p) for u in directory.users.values() for p in u.parents
    ]
    edges += [(t, p) for t, ps in directory.teams.items() for p in ps]
    insert_ignoring_duplicates(
        conn,
        parents,
        [
            {
                "child_type": c.type,
                "child_id": c.id,
                "parent_type": p.type,
                "parent_id": p.id,
                "origin": DIRECTORY_ORIGIN,
            }
            for c, p in sorted(set(edges), key=lambda e: (str(e[0]), str(e[1])))
        ],
    )
    log.info(
        "Synchronized %d users and %d teams from entities.json", len(directory.users), len(directory.teams)
    )


@dataclass(frozen=True)
class Prepared:
    """A statement compiled once for PostgreSQL's driver (psycopg) and run on it directly
    (:func:`execute_prepared`): a request's few hot statements skip SQLAlchemy's
    per-execution work, which costs more CPU than psycopg's; ``literals`` are the values
    of the parameters the statement itself sets."""

    sql: str
    literals: Mapping[str, object]

    @classmethod
    def of(cls, statement: sa.ClauseElement) -> Prepared:
        from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
        from sqlalchemy.sql.compiler import SQLCompiler

        compiled = statement.compile(dialect=PGDialect_psycopg())  # type: ignore[no-untyped-call]
        assert isinstance(compiled, SQLCompiler)
        literals = {
            name: bind.effective_value for bind, name in compiled.bind_names.items() if not bind.required
        }
        return cls(str(compiled), literals)


def execute_prepared(
    conn: sa.Connection, prepared: Prepared, params: Mapping[str, object]
) -> tuple[list[tuple[Any, ...]], int]:
    """Run ``prepared`` on ``conn``'s PostgreSQL connection, in its transaction; its rows
    (none if it returns none) and row count. psycopg prepares it server-side once it is
    used often. Driver errors are raised as they are (:meth:`Database.run` retries a
    deadlock or serialization failure as it does SQLAlchemy's)."""
    raw = conn.connection.driver_connection
    assert raw is not None
    try:
        with raw.cursor() as cursor:
            cursor.execute(prepared.sql, {**prepared.literals, **params})
            return (cursor.fetchall() if cursor.description else []), cursor.rowcount
    except conn.dialect.loaded_dbapi.Error as err:
        if raw.broken or raw.closed:
            conn.invalidate(err)  # the pool drops it, as SQLAlchemy does for its own statements
            raise ConnectionLost(str(err)) from err
        raise


class ConnectionLost(Exception):
    """The server closed the connection under :func:`execute_prepared` (the transaction
    did not commit; :meth:`Database.run` runs it again on a new connection)."""


def insert_ignoring_duplicates(
    conn: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, object]]
) -> int:
    """Insert ``rows``, skipping those whose primary key is already there (no error, even
    when another transaction inserts the same key concurrently); how many were inserted."""
    if not rows:
        return 0
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).on_conflict_do_nothing()
    return conn.execute(statement, rows).rowcount
