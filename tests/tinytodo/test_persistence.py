"""Persistence with real server processes: restart, kill -9 during a burst of
writes, no database = empty on each start. Runs against SQLite always and
against PostgreSQL when TINYTODO_TEST_POSTGRES_URL is set (the PostgreSQL cases
are marked ``requires_service("postgresql")``: they skip without it, and fail
under CI, where .ci/run starts a server)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from cedarlang import EntityUid
from tinytodo_server import Database, DatabaseError, store, tables
from tinytodo_server.directory import Directory

from ..skips import requires_service
from .conftest import POSTGRES_URL
from .helpers import DENIED, L, ServerProcess


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=requires_service("postgresql"))])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: a SQLite file, or a private PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'todo.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.mark.parametrize("templates", [False, True], ids=["teams", "templates"])
def test_restart_keeps_lists_tasks_and_shares(workdir: Path, db_url: str, templates: bool) -> None:
    server = ServerProcess(workdir, db=db_url, templates=templates).start()
    try:
        api = server.api()
        a = api.new_list("andrew", "Cedar blog post")
        api.ok(api.create_task("andrew", a, "Draft the post"))
        api.ok(api.create_task("andrew", a, "Revise and polish"))
        api.ok(api.update_task("andrew", a, 0, state="Checked"))
        api.ok(api.share("andrew", a, "interns", "Reader"))
        api.ok(api.share("andrew", a, "kesha", "Editor"))
        b = api.new_list("kesha", "doomed")
        api.ok(api.delete_list("kesha", b))
        before = api.ok(api.get_list("andrew", a))
    finally:
        assert server.stop() in (0, -15)  # uvicorn re-raises SIGTERM after a clean shutdown
    server = ServerProcess(workdir, db=db_url, templates=templates).start()
    try:
        api = server.api()
        assert api.ok(api.get_list("andrew", a)) == before
        assert before["tasks"][0] == {"id": 0, "name": "Draft the post", "state": "Checked"}
        assert api.ok(api.get_list("aaron", a))["name"] == "Cedar blog post"  # team share
        api.ok(api.create_task("kesha", a, "by kesha"))  # editor share
        assert api.get_list("emina", a).json() == DENIED
        assert api.get_list("andrew", b).status_code == 404
        # Ids are never reused: the counter is stored too.
        c = api.new_list("andrew", "next")
        assert int(c) > int(b)
        assert [x["name"] for x in api.ok(api.get_lists("aaron"))] == ["Cedar blog post"]
        api.ok(api.unshare("andrew", a, "interns", "Reader"))
    finally:
        assert server.stop() in (0, -15)  # uvicorn re-raises SIGTERM after a clean shutdown
    server = ServerProcess(workdir, db=db_url, templates=templates).start()
    try:
        api = server.api()
        assert api.get_list("aaron", a).json() == DENIED  # the unshare was kept too
        assert len(api.ok(api.get_list("andrew", a))["tasks"]) == 3
    finally:
        server.stop()


def test_no_database_starts_empty(workdir: Path) -> None:
    for _ in range(2):
        server = ServerProcess(workdir).start()
        try:
            api = server.api()
            assert api.ok(api.get_lists("andrew")) == []
            assert api.ok(api.create_list("andrew", "x")) == L(0)
        finally:
            server.stop()


def test_kill_9_loses_no_acknowledged_write(workdir: Path, db_url: str) -> None:
    server = ServerProcess(workdir, db=db_url).start()
    api = server.api()
    lst = api.new_list("andrew", "burst")
    acknowledged: list[int] = []
    shared: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[str] = []

    def writer(n: int) -> None:
        client = server.api()
        for i in range(400):  # bounded
            if stop.is_set():
                return
            try:
                resp = client.create_task("andrew", lst, f"w{n}-{i}")
            except Exception:  # the server died mid-request: not acknowledged
                return
            if resp.status_code != 200:
                errors.append(resp.text)
                return
            with lock:
                acknowledged.append(resp.json())

    def sharer() -> None:
        client = server.api()
        for team in ("interns", "temp", "admin"):
            if stop.is_set():
                return
            try:
                resp = client.share("andrew", lst, team, "Reader")
            except Exception:
                return
            if resp.status_code == 200:
                shared.append(team)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    threads.append(threading.Thread(target=sharer))
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while len(acknowledged) < 40 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()  # SIGKILL in the middle of the burst
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    assert len(acknowledged) >= 40, server.log()
    server = ServerProcess(workdir, db=db_url).start()
    try:
        api = server.api()
        ids = {t["id"] for t in api.ok(api.get_list("andrew", lst))["tasks"]}
        missing = set(acknowledged) - ids
        assert not missing, f"acknowledged tasks lost: {sorted(missing)}"
        assert len(acknowledged) == len(set(acknowledged))
        for team in shared:
            member = {"interns": "aaron", "temp": "kesha", "admin": "emina"}[team]
            assert api.ok(api.get_list(member, lst))["uid"] == L(lst)
    finally:
        server.stop()


# -- the database layer directly -------------------------------------------------------------


def _directory() -> Directory:
    from .helpers import TINYTODO_DIR

    return Directory.from_json_text((TINYTODO_DIR / "entities.json").read_text())


def _list_names(conn: sa.Connection) -> list[str]:
    return list(conn.execute(sa.select(tables.lists.c.name).order_by(tables.lists.c.id)).scalars())


def test_transactions_are_atomic_and_durable(db_url: str) -> None:
    andrew = EntityUid("User", "andrew")
    database = Database(db_url)
    try:
        database.prepare(_directory())
        name = "name with 'quotes' and \"more\" and ünïcode"
        database.run(
            lambda conn: store.insert_list(
                conn, store.ListRow(EntityUid("List", "0"), andrew, name, None, None)
            )
        )

        def half_done(conn: sa.Connection) -> None:
            store.insert_list(conn, store.ListRow(EntityUid("List", "5"), andrew, "never", None, None))
            store.insert_list(
                conn, store.ListRow(EntityUid("List", "0"), andrew, "duplicate key", None, None)
            )

        with pytest.raises(DatabaseError):
            database.run(half_done)
        assert database.run(_list_names) == [name]
        assert database.run(lambda conn: store.take_ids(conn, 3)) == 0
        assert database.run(lambda conn: store.take_ids(conn, 1)) == 3
    finally:
        database.close()
    database = Database(db_url)
    try:
        database.prepare(_directory())  # a second start keeps the data
        assert database.run(_list_names) == [name]
        assert database.run(lambda conn: store.take_ids(conn, 1)) == 4
        assert database.run(lambda conn: store.user_exists(conn, andrew))
    finally:
        database.close()


@pytest.mark.parametrize("url", [None, "", "sqlite://", "sqlite:///:memory:"])
def test_in_memory_database(url: str | None) -> None:
    database = Database(url)
    assert database.description == "an in-memory database (empty on each start)"
    database.prepare(_directory())
    assert database.run(_list_names) == []
    database.close()


def test_database_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for url, path in [
        ("plain.db", tmp_path / "plain.db"),
        ("sqlite:///rel.db", tmp_path / "rel.db"),
        (f"sqlite:///{tmp_path / 'abs.db'}", tmp_path / "abs.db"),
    ]:
        database = Database(url)
        database.prepare(_directory())
        database.close()
        assert path.exists(), url
    with pytest.raises(DatabaseError, match="unsupported"):
        Database("mysql://x")
    with pytest.raises(DatabaseError, match="bad SQLite URL"):
        Database("sqlite:relative.db")
    with pytest.raises(DatabaseError):
        Database(str(tmp_path / "no" / "such" / "dir" / "x.db")).prepare(_directory())


def test_server_reports_bad_database(workdir: Path) -> None:
    server = ServerProcess(workdir, db="mysql://nowhere")
    with pytest.raises(RuntimeError, match="unsupported database URL"):
        server.start()
    assert server.proc is not None and server.proc.returncode == 1


@requires_service("postgresql")
def test_postgres_reconnects_after_losing_the_connection(postgres_url: str) -> None:
    import psycopg

    database = Database(postgres_url)
    try:
        database.prepare(_directory())
        backends = database.run(lambda conn: conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
        assert POSTGRES_URL
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (backends,))
        assert database.run(lambda conn: store.take_ids(conn, 7)) == 0
        assert database.run(lambda conn: store.take_ids(conn, 1)) == 7
        # The same when the first statement runs on the driver directly (a list's row).
        for lock in (True, False):

            def read_missing(conn: sa.Connection, lock: bool = lock) -> store.ListRow | None:
                return store.read_list(conn, EntityUid("List", "404"), lock=lock)

            backends = database.run(
                lambda conn: conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
            )
            with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                conn.execute("SELECT pg_terminate_backend(%s)", (backends,))
            assert database.run(read_missing) is None
    finally:
        database.close()
