"""Persistence with real server processes: restart, kill -9 during a burst of
writes, no database = empty on each start. Runs against SQLite always and
against PostgreSQL when TINYTODO_TEST_POSTGRES_URL is set (the PostgreSQL cases
are marked ``requires_service("postgresql")``: they skip without it, and fail
under CI, where .ci/run starts a server)."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tinytodo_server import StorageError, open_storage
from tinytodo_server.model import AddParent, PutList, SetCounter, Task, TodoList
from tinytodo_server.storage import PostgresStorage

from ..skips import requires_service
from .helpers import DENIED, L, ServerProcess

POSTGRES_URL = os.environ.get("TINYTODO_TEST_POSTGRES_URL")


def _with_search_path(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A private schema in the PostgreSQL database of TINYTODO_TEST_POSTGRES_URL."""
    import psycopg

    assert POSTGRES_URL, "the requires_service('postgresql') mark guards this"
    schema = f"tinytodo_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield _with_search_path(POSTGRES_URL, schema)
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


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


# -- the storage layer directly -------------------------------------------------------------


def test_storage_round_trip_and_atomicity(db_url: str) -> None:
    from cedarlang import EntityUid

    storage = open_storage(db_url)
    try:
        lst = TodoList(
            EntityUid("List", "0"),
            EntityUid("User", "andrew"),
            "name with 'quotes' and \"more\" and ünïcode",
            (Task(0, "a"), Task(1, "b", "Checked")),
            EntityUid("Team", "1"),
            EntityUid("Team", "2"),
        )
        storage.commit(
            [PutList(lst), SetCounter(3), AddParent(EntityUid("Team", "interns"), EntityUid("Team", "1"))]
        )
        # A failing transaction leaves nothing behind: its last op cannot be written.
        bad = TodoList(EntityUid("List", "5"), EntityUid("User", "x"), "ok")
        broken = PutList(TodoList(EntityUid("List", "6"), EntityUid("User", "x"), object()))  # type: ignore[arg-type]
        with pytest.raises(StorageError):
            storage.commit([PutList(bad), SetCounter(99), broken])
        state = storage.load()
        assert state.lists == {lst.uid: lst}
        assert state.counter == 3
        assert state.parents == {(EntityUid("Team", "interns"), EntityUid("Team", "1"))}
    finally:
        storage.close()
    storage = open_storage(db_url)
    try:
        assert storage.load().lists[EntityUid("List", "0")] == lst
    finally:
        storage.close()


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        (None, ":memory:"),
        ("", ":memory:"),
        ("sqlite://", ":memory:"),
        ("sqlite:///:memory:", ":memory:"),
    ],
)
def test_open_storage_memory(url: str | None, kind: str) -> None:
    storage = open_storage(url)
    assert storage.description == "in-memory database"
    storage.close()


def test_open_storage_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for url, path in [
        ("plain.db", tmp_path / "plain.db"),
        ("sqlite:///rel.db", tmp_path / "rel.db"),
        (f"sqlite:///{tmp_path / 'abs.db'}", tmp_path / "abs.db"),
    ]:
        open_storage(url).close()
        assert path.exists(), url
    with pytest.raises(StorageError, match="unsupported"):
        open_storage("mysql://x")
    with pytest.raises(StorageError, match="bad SQLite URL"):
        open_storage("sqlite:relative.db")
    with pytest.raises(StorageError):
        open_storage(str(tmp_path / "no" / "such" / "dir" / "x.db"))


def test_server_reports_bad_database(workdir: Path) -> None:
    server = ServerProcess(workdir, db="mysql://nowhere")
    with pytest.raises(RuntimeError, match="unsupported database URL"):
        server.start()
    assert server.proc is not None and server.proc.returncode == 1


@requires_service("postgresql")
def test_postgres_reconnects_after_losing_the_connection(postgres_url: str) -> None:
    import psycopg

    storage = open_storage(postgres_url)
    try:
        storage.commit([SetCounter(1)])
        assert isinstance(storage, PostgresStorage)
        backend = storage._conn.info.backend_pid
        assert POSTGRES_URL
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (backend,))
        storage.commit([SetCounter(7)])
        assert storage.load().counter == 7
    finally:
        storage.close()
