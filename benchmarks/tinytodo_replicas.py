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
from collections.abc import Sequence
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


def copy_rows(conn: sa.Connection, table: str, columns: str, rows: Sequence[tuple[str, ...]]) -> None:
    raw = conn.connection.driver_connection
    assert raw is not None
    buffer = io.StringIO("".join("\t".join(row) + "\n" for row in rows))
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
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


Work = list[tuple[str, str]]
"""(token, list id) pairs: one per client thread or connection."""


def writer(args: tuple[str, list[str], Work, float, int]) -> tuple[int, int, float]:
    """One client process: threads creating tasks for ``seconds``; (acknowledged, failed,
    CPU seconds this process spent meanwhile). ``python``: each thread sends prebuilt requests on one kept-alive socket and
    reads each answer (status 200 and a task id); ``httpx``: an ``httpx.Client`` per thread."""
    import threading

    kind, urls, work, seconds, threads = args
    done, failed = [0] * threads, [0] * threads
    cpu = time.process_time()
    deadline = time.monotonic() + seconds

    def run_python(t: int, url: str, token: str, lst: str) -> None:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        body = json.dumps({"list": f'List::"{lst}"', "name": "task"}).encode()
        request = (
            f"POST /api/task/create HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        with socket.create_connection((host, int(port))) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            buffer = b""
            while time.monotonic() < deadline:
                sock.sendall(request)
                while b"\r\n\r\n" not in buffer:
                    buffer += _received(sock)
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
                while len(buffer) < length:
                    buffer += _received(sock)
                answer, buffer = buffer[:length], buffer[length:]
                if head.startswith(b"HTTP/1.1 200 ") and answer.isdigit():
                    done[t] += 1
                else:
                    failed[t] += 1

    def run_httpx(t: int, url: str, token: str, lst: str) -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            headers = {"Authorization": f"Bearer {token}"}
            body = {"list": f'List::"{lst}"', "name": "task"}
            while time.monotonic() < deadline:
                resp = client.post("/api/task/create", json=body, headers=headers)
                if resp.status_code == 200 and isinstance(resp.json(), int):
                    done[t] += 1
                else:
                    failed[t] += 1

    run = run_python if kind == "python" else run_httpx
    pool = [
        threading.Thread(target=run, args=(t, urls[t % len(urls)], *work[t % len(work)]))
        for t in range(threads)
    ]
    for p in pool:
        p.start()
    for p in pool:
        p.join()
    return sum(done), sum(failed), time.process_time() - cpu


def _received(sock: socket.socket) -> bytes:
    data = sock.recv(65536)
    if not data:
        raise ConnectionError("the server closed the connection")
    return data


WRK_SCRIPT = """
local work = {%s}
local i = 0
bad = 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function request()
  i = i + 1
  local w = work[(i %% #work) + 1]
  return wrk.format("POST", "/api/task/create",
    {["Authorization"] = "Bearer " .. w[1], ["Content-Type"] = "application/json"},
    '{"list": "List::\\\\"' .. w[2] .. '\\\\"", "name": "task"}')
end
function response(status, headers, body)
  if status ~= 200 or not string.match(body, "^%%d+$") then bad = bad + 1 end
end
function done(summary, latency, requests)
  local failed = 0
  for _, t in ipairs(threads) do failed = failed + t:get("bad") end
  io.write(string.format("wrk-result %%d %%d\\n", summary.requests, failed))
end
"""


def wrk(urls: list[str], work: Work, args: argparse.Namespace) -> tuple[int, int]:
    """``wrk`` (one process per replica, one thread, its share of the connections)
    rotating over ``work``; (acknowledged, failed)."""
    if shutil.which("wrk") is None:
        raise SystemExit("--client wrk needs wrk (Debian: apt-get install wrk)")
    connections = args.procs * args.threads
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT % ",".join(f'{{"{token}", "{lst}"}}' for token, lst in work))
        script.flush()
        runs = [
            subprocess.Popen(
                [
                    "wrk",
                    "-t1",
                    f"-c{connections // len(urls)}",
                    f"-d{max(1, round(args.seconds))}s",
                    "-s",
                    script.name,
                    url,
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            for url in urls
        ]
        outputs = [run.communicate()[0] for run in runs]
    done = failed = 0
    for output in outputs:
        if "wrk-result " not in output:
            raise SystemExit(f"wrk failed:\n{output}")
        requests, bad = (int(x) for x in output.split("wrk-result ", 1)[1].split()[:2])
        done, failed = done + requests - bad, failed + bad
    return done, failed


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes, and of this one's waited-for children
    (Linux ``/proc``; 0 elsewhere)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:13]) / os.sysconf("SC_CLK_TCK")
    return total


def throughput(urls: list[str], work: Work, servers: list[int], args: argparse.Namespace) -> float:
    """Acknowledged creates per second; prints the CPU each write cost the servers and the
    client, and how busy the whole machine was."""
    server0, machine0 = cpu_seconds(servers), _machine()
    start = time.perf_counter()
    if args.client == "wrk":
        children = os.times()
        done, failed = wrk(urls, work, args)
        after = os.times()
        client = (
            after.children_user + after.children_system - children.children_user - children.children_system
        )
    else:
        chunks = [
            (args.client, urls, work[i :: args.procs], args.seconds, args.threads) for i in range(args.procs)
        ]
        with multiprocessing.get_context("spawn").Pool(args.procs) as pool:
            results = pool.map(writer, chunks)
        done, failed = sum(r[0] for r in results), sum(r[1] for r in results)
        client = sum(r[2] for r in results)
    elapsed = time.perf_counter() - start
    server = cpu_seconds(servers) - server0
    busy, total = (b - a for a, b in zip(machine0, _machine(), strict=True))
    per = 1e3 / max(done, 1)
    print(
        f"  {done:,} acknowledged, {failed} failed; CPU per write: servers {server * per:.2f} ms, "
        f"client {client * per:.2f} ms; the machine {busy / elapsed:.2f} of {total / elapsed:.2f} cores busy"
    )
    # Each client process (and wrk) creates for exactly `seconds` once started.
    return float(done / args.seconds)


def _machine() -> tuple[float, float]:
    """Busy and total CPU seconds of the machine since boot (Linux ``/proc/stat``)."""
    try:
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0, 0.0
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - ticks[3] - ticks[4]) / hz, sum(ticks) / hz


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
    parser.add_argument(
        "--client",
        choices=("python", "wrk", "httpx"),
        default="python",
        help="load generator: python (raw kept-alive sockets, the default), wrk "
        "(apt-get install wrk) or httpx (heavier: its own CPU competes with the servers)",
    )
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
            clients = f"{args.client} client, {args.procs} x {args.threads} connections, {args.seconds:.0f} s"
            one = throughput([replicas[0].url], work, [replicas[0].proc.pid], args)
            print(f"create-task, 1 replica: {one:.0f} acknowledged writes/s ({clients})")
            replicas.append(Replica(workdir, db, 1))
            two = throughput([r.url for r in replicas], work, [r.proc.pid for r in replicas], args)
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
