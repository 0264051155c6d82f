"""A policy store in PostgreSQL, shared by any number of replicas.

One table holds the parts (``policies``, ``schema``, ``entities``, ``mapping``), each
with a version from a sequence. A write (the admin API on any replica) replaces a part and
sends ``NOTIFY cedar_serve_store`` in the same transaction; every replica LISTENs on a
connection of its own and reloads at once, so a change reaches the others well within a
second. The reloader also polls the highest version (``--reload-interval``) in case a
notification is lost (a dropped connection), and the listener reconnects.

``--seed DIR`` fills an empty store from a folder (its policy files joined in one text).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg

from .errors import StoreError, StoreUnavailable
from .store import POLICIES_FILE, DirectoryStore, Sources

log = logging.getLogger("cedarlang_serve.pg_store")

T = TypeVar("T")

TABLE = "cedar_serve_store"
CHANNEL = "cedar_serve_store"

_SETUP = f"""
CREATE SEQUENCE IF NOT EXISTS {TABLE}_version;
CREATE TABLE IF NOT EXISTS {TABLE} (
    part text PRIMARY KEY CHECK (part IN ('policies', 'schema', 'entities', 'mapping')),
    body text NOT NULL,
    version bigint NOT NULL DEFAULT nextval('{TABLE}_version')
);
"""


class PostgresStore:
    def __init__(self, url: str, *, seed: str | None = None) -> None:
        self.url = url
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener: threading.Thread | None = None
        self._seen: int | None = None
        try:
            self._conn = psycopg.connect(url, autocommit=True)
            with self._lock, self._conn.transaction():
                self._conn.execute(f"SELECT pg_advisory_xact_lock(hashtext('{TABLE}'))")
                for statement in _SETUP.split(";"):
                    if statement.strip():
                        self._conn.execute(statement)
                empty = self._conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone() == (0,)
                if empty and seed is not None:
                    self._seed(DirectoryStore(seed).read())
        except psycopg.Error as err:
            raise StoreError(f"cannot open the PostgreSQL store {self.describe()}: {err}") from err

    def _seed(self, sources: Sources) -> None:
        parts = {
            "policies": sources.policy_text(),
            "schema": sources.schema,
            "entities": sources.entities,
            "mapping": sources.mapping,
        }
        for part, body in parts.items():
            if body is not None:
                self._conn.execute(f"INSERT INTO {TABLE} (part, body) VALUES (%s, %s)", (part, body))
        log.info("seeded the PostgreSQL store %s", self.describe())

    def _run(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """``work`` on the shared connection; if the connection broke (a restarted or
        failed-over server), once more on a new one."""
        with self._lock:
            try:
                return work(self._conn)
            except psycopg.OperationalError:
                if not (self._conn.closed or self._conn.broken):
                    raise
            self._conn = psycopg.connect(self.url, autocommit=True)
            log.info("reconnected to the PostgreSQL store %s", self.describe())
            return work(self._conn)

    def describe(self) -> str:
        return re.sub(r"//([^:@/]*):[^@/]*@", r"//\1:***@", self.url)

    def read(self) -> Sources:
        try:
            rows = self._run(lambda c: c.execute(f"SELECT part, body, version FROM {TABLE}").fetchall())
        except psycopg.Error as err:
            raise StoreError(f"cannot read the PostgreSQL store {self.describe()}: {err}") from err
        parts: dict[str, Any] = {part: body for part, body, _ in rows}
        self._seen = max((version for _, _, version in rows), default=0)
        if "policies" not in parts:
            raise StoreError(
                f"the PostgreSQL store {self.describe()} has no policies (start once with --seed DIR)"
            )
        return Sources(
            {POLICIES_FILE: parts["policies"]},
            parts.get("schema"),
            parts.get("entities"),
            parts.get("mapping"),
        )

    def changed(self) -> bool:
        try:
            row = self._run(lambda c: c.execute(f"SELECT coalesce(max(version), 0) FROM {TABLE}").fetchone())
        except psycopg.Error:
            return True  # let read() try, and report why it cannot
        return row is None or row[0] != self._seen

    def write(self, part: str, text: str | None) -> None:
        def work(conn: psycopg.Connection[Any]) -> None:
            with conn.transaction():
                if text is None:
                    conn.execute(f"DELETE FROM {TABLE} WHERE part = %s", (part,))
                else:
                    conn.execute(
                        f"INSERT INTO {TABLE} (part, body) VALUES (%s, %s) ON CONFLICT (part) DO UPDATE "
                        f"SET body = EXCLUDED.body, version = nextval('{TABLE}_version')",
                        (part, text),
                    )
                conn.execute(f"SELECT pg_notify('{CHANNEL}', %s)", (part,))

        try:
            self._run(work)
        except psycopg.Error as err:
            raise StoreUnavailable(f"cannot write the PostgreSQL store {self.describe()}: {err}") from err

    # -- change notifications ----------------------------------------------------

    def listen(self, on_change: Callable[[], Any]) -> None:
        """Call ``on_change`` (from a thread of its own) whenever a replica changes the store."""
        self._listener = threading.Thread(
            target=self._listen, args=(on_change,), name="cedar-serve-listen", daemon=True
        )
        self._listener.start()

    def _listen(self, on_change: Callable[[], Any]) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    on_change()  # anything missed while (re)connecting
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=0.25, stop_after=1):
                            on_change()
            except psycopg.Error as err:
                log.warning("PostgreSQL store listener: %s; reconnecting", err)
                self._stop.wait(1.0)

    def close(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.join(timeout=5)
        with self._lock:
            self._conn.close()
