"""TinyTodo on PostgreSQL at scale: get_lists latency and create-task throughput, 1 vs 2 replicas.

    python benchmarks/tinytodo_replicas.py --url postgresql://postgres@127.0.0.1:55432/tinytodo_test
    python benchmarks/tinytodo_replicas.py --url ... --lists 100000 --users 1000   # smaller

In a fresh schema (dropped at the end): ``--users`` users (an ``entities.json`` of that
size), ``--lists`` lists owned by random users, 10% shared with a random user as reader
and 5% as editor (rows in ``todo_parents``), loaded with COPY. Then real server processes
(``python -m tinytodo_server --db ...``) answer over HTTP:

* ``GET /api/lists/get?limit=50`` for ``--sample`` users: p50 / p99 (each a permission
  query turned into SQL, plus reading the page's lists and tasks);
* ``POST /api/task/create`` for ``--seconds`` from ``--procs`` client processes x
  ``--threads`` threads, each user on their own list, against 1 replica, then 2 replicas
  (clients spread over both): acknowledged creates per second, and the ratio.

The client processes run on the same machine as the servers and PostgreSQL, so the
numbers are for the whole system on this machine.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tinytodo_server.auth import hash_password  # noqa: E402
from tinytodo_server.database import Database  # noqa: E402
from tinytodo_server.directory import Directory  # noqa: E402

PASSWORD = "bench-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_workdir(workdir: Path, n_users: int, password_hash: str) -> None:
    for name in ("policies.cedar", "tinytodo.cedarschema"):
        shutil.copy(ROOT / "tinytodo" / name, workdir / name)
    rnd = random.Random(3)
    users = {
        f'User::"u{i}"': {
            "euid": f'User::"u{i}"',
            "location": f"L{i % 7}",
            "joblevel": rnd.randint(1, 9),
            "parents": ['Application::"TinyTodo"'],
        }
        for i in range(n_users)
    }
    entities = {"users": users, "teams": {}, "app": {"euid": 'Application::"TinyTodo"'}}
    (workdir / "entities.json").write_text(json.dumps(entities))
    # One hash for every user (same password): hashing 10,000 would take minutes.
    (workdir / "credentials.json").write_text(json.dumps({"users": dict.fromkeys(users, password_hash)}))


def copy_rows(conn: sa.Connection, table: str, columns: str, rows: list[tuple[str, ...]]) -> None:
    raw = conn.connection.driver_connection
    assert raw is not None
    buffer = io.StringIO("".join("\t".join(row) + "\n" for row in rows))
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)


def populate(db: str, workdir: Path, n_lists: int, n_users: int) -> None:
    database = Database(db)
    database.prepare(Directory.from_json_text((workdir / "entities.json").read_text()))
    rnd = random.Random(7)
    lists, teams, shares = [], [], []
    for i in range(n_lists):
        lists.append((str(i), f"u{rnd.randrange(n_users)}", f"list {i}", f"r{i}", f"e{i}", "0"))
        teams += [(f"r{i}", str(i)), (f"e{i}", str(i))]
        if rnd.random() < 0.10:
            shares.append(("User", f"u{rnd.randrange(n_users)}", "Team", f"r{i}", "share"))
        if rnd.random() < 0.05:
            shares.append(("User", f"u{rnd.randrange(n_users)}", "Team", f"e{i}", "share"))
    with database.engine.begin() as conn:
        copy_rows(conn, "todo_lists", "id, owner_id, name, readers_id, editors_id, next_task", lists)
        copy_rows(conn, "todo_teams", "id, list_id", teams)
        shares = sorted(set(shares))
        copy_rows(conn, "todo_parents", "child_type, child_id, parent_type, parent_id, origin", shares)
        conn.execute(sa.text("UPDATE todo_counters SET value = :v WHERE name = 'ids'"), {"v": n_lists})
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    database.close()
    print(f"# loaded {n_lists:,} lists, {n_users:,} users, {len(shares):,} shares", file=sys.stderr)


class Replica:
    def __init__(self, workdir: Path, db: str, index: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = open(workdir / f"server{index}.log", "ab")  # noqa: SIM115
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), TINYTODO_SECRET="bench-" + "s" * 40)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tinytodo_server", "--port", str(self.port), "--db", db,
             "--log-level", "warning", "--reload-interval", "0", "--max-lists-per-user", "1000000"],
            cwd=workdir, env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"replica {index} exited: see {workdir / f'server{index}.log'}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise SystemExit("a replica did not start")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def login(url: str, user: str) -> str:
    resp = httpx.post(f"{url}/api/login", json={"uid": f'User::"{user}"', "password": PASSWORD}, timeout=30)
    resp.raise_for_status()
    return str(resp.json()["token"])


def writer(args: tuple[list[str], list[tuple[str, str]], float, int]) -> int:
    """One client process: threads creating tasks until the deadline; acknowledged count."""
    import threading

    urls, work, seconds, threads = args
    done = [0] * threads
    deadline = time.monotonic() + seconds

    def run(t: int) -> None:
        token, lst = work[t % len(work)]
        with httpx.Client(base_url=urls[t % len(urls)], timeout=30) as client:
            headers = {"Authorization": f"Bearer {token}"}
            body = {"list": f'List::"{lst}"', "name": "task"}
            while time.monotonic() < deadline:
                if client.post("/api/task/create", json=body, headers=headers).status_code == 200:
                    done[t] += 1

    pool = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for p in pool:
        p.start()
    for p in pool:
        p.join()
    return sum(done)


def throughput(urls: list[str], work: list[tuple[str, str]], args: argparse.Namespace) -> float:
    chunks = [(urls, work[i :: args.procs], args.seconds, args.threads) for i in range(args.procs)]
    with multiprocessing.get_context("spawn").Pool(args.procs) as pool:
        start = time.perf_counter()
        total = sum(pool.map(writer, chunks))
        elapsed = time.perf_counter() - start
    return total / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="postgresql://... (a schema is created and dropped)")
    parser.add_argument("--lists", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=200, help="users whose get_lists is timed")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each write run")
    parser.add_argument("--procs", type=int, default=2, help="client processes")
    parser.add_argument("--threads", type=int, default=10, help="threads per client process")
    args = parser.parse_args()

    schema = f"tinytodo_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in args.url else "?"
    db = f"{args.url}{sep}options={quote(f'-csearch_path={schema}')}"
    replicas: list[Replica] = []
    try:
        with tempfile.TemporaryDirectory(prefix="tinytodo-bench-") as tmp:
            workdir = Path(tmp)
            write_workdir(workdir, args.users, hash_password(PASSWORD))
            start = time.perf_counter()
            populate(db, workdir, args.lists, args.users)
            print(f"# populated in {time.perf_counter() - start:.1f} s", file=sys.stderr)
            replicas.append(Replica(workdir, db, 0))
            rnd = random.Random(11)
            sample = [f"u{rnd.randrange(args.users)}" for _ in range(args.sample)]
            tokens = {u: login(replicas[0].url, u) for u in sample}
            times, sizes = [], []
            with httpx.Client(base_url=replicas[0].url, timeout=30) as client:
                for user in sample:
                    headers = {"Authorization": f"Bearer {tokens[user]}"}
                    t0 = time.perf_counter()
                    resp = client.get("/api/lists/get", params={"limit": "50"}, headers=headers)
                    times.append(time.perf_counter() - t0)
                    resp.raise_for_status()
                    sizes.append(len(resp.json()))
            times.sort()
            p50, p99 = statistics.median(times), times[max(0, int(len(times) * 0.99) - 1)]
            print(
                f"get_lists (first 50, over HTTP): p50 {p50 * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms "
                f"over {len(sample)} users; median page {statistics.median(sizes):.0f} lists; "
                f"{args.lists:,} lists in the database"
            )
            writers = sample[: args.procs * args.threads]
            work = []
            for user in writers:
                created = httpx.post(
                    f"{replicas[0].url}/api/list/create", json={"name": "bench"},
                    headers={"Authorization": f"Bearer {tokens[user]}"}, timeout=30,
                ).json()  # fmt: skip
                work.append((tokens[user], created.split('"')[1]))
            one = throughput([replicas[0].url], work, args)
            print(f"create-task, 1 replica: {one:.0f} acknowledged writes/s "
                  f"({args.procs} x {args.threads} clients, {args.seconds:.0f} s)")  # fmt: skip
            replicas.append(Replica(workdir, db, 1))
            two = throughput([r.url for r in replicas], work, args)
            print(
                f"create-task, 2 replicas: {two:.0f} acknowledged writes/s; 2 / 1 replicas = {two / one:.2f}"
            )
    finally:
        for replica in replicas:
            replica.stop()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
