"""``cedar serve`` throughput: cedarlang vs the cedarpy engine behind the same server, same run.

    python benchmarks/serve.py                          # 1,000 users, 10,000 records, 4 s a run
    python benchmarks/serve.py --records 2000 --seconds 2

The store is the AuthZEN Search scenario's (examples/authzen/search: its schema and six
policies) over generated users and records. For each engine (cedarlang; cedarpy, the Rust
engine through PyO3, with pre-parsed policy, entity and schema handles) and 1 and 2 uvicorn
worker processes, a load generator (httpx, asyncio, ``--concurrency`` connections, in this
process) sends for ``--seconds``:

* ``evaluation``: single ``POST /access/v1/evaluation`` requests (random user, action, record);
* ``batch``: ``POST /access/v1/evaluations`` with 100 evaluations (one subject and action,
  100 records), the form the Todo app uses.

Printed per row: requests/s, p50 and p99 latency (ms) seen by the client, and the share of
the servers' request-handling time spent deciding (the engine call, request mapping
included; added up over the workers) — the rest is HTTP, JSON and the framework. Both engines answer
200 identical sample requests before any timing. The server and the load generator share
the machine's cores, so absolute numbers are lower bounds; the ratios are the point.

The module is also the servers' ASGI factory (``serve:app_factory``, engine from
``SERVE_BENCH_ENGINE``, run by ``cedarlang_serve.server.run`` as ``cedar serve`` runs): it adds ``GET /bench/stats`` (time spent, per process).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "authzen" / "search"
ACTIONS = ("view", "edit", "delete")
DEPARTMENTS = ("Sales", "Legal", "Finance", "Accounting", "Marketing", "Support")
ROLES = ("manager", "employee", "contractor")
BATCH = 100

# -- the server side (runs in the uvicorn worker processes) --------------------------

_STATS = {"decide_s": 0.0, "handle_s": 0.0, "requests": 0, "decisions": 0}


def _cedarpy_decider() -> Any:
    import cedarpy

    from cedarlang_serve.pdp import Evaluation, Outcome
    from cedarlang_serve.store import Snapshot

    handles: dict[str, Any] = {}

    def decide(snapshot: Snapshot, ev: Evaluation) -> Outcome:
        if handles.get("version") != snapshot.version:
            handles.update(
                version=snapshot.version,
                policies=cedarpy.PolicySet.from_str(snapshot.sources.policy_text()),
                entities=cedarpy.Entities.from_json_str(snapshot.sources.entities or "[]"),
                schema=cedarpy.Schema.from_str(snapshot.sources.schema) if snapshot.sources.schema else None,
            )
        if ev.subject.properties or ev.resource.properties:
            raise ValueError("the cedarpy engine of this benchmark takes no per-request properties")
        mapping = snapshot.mapping
        request = {
            "principal": f"{mapping.cedar_type(ev.subject.type)}::{json.dumps(ev.subject.id)}",
            "action": f"{mapping.action_type}::{json.dumps(ev.action)}",
            "resource": f"{mapping.cedar_type(ev.resource.type)}::{json.dumps(ev.resource.id)}",
            "context": ev.context,
        }
        result = cedarpy.is_authorized(request, handles["policies"], handles["entities"], handles["schema"])
        return Outcome(result.allowed, sorted(result.diagnostics.reasons), list(result.diagnostics.errors))

    return decide


def app_factory() -> Any:
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from cedarlang_serve import logs
    from cedarlang_serve.app import create_app, open_store
    from cedarlang_serve.config import ServeConfig
    from cedarlang_serve.pdp import cedarlang_decider

    engine = _cedarpy_decider() if os.environ.get("SERVE_BENCH_ENGINE") == "cedarpy" else cedarlang_decider

    def timed_decider(snapshot: Any, ev: Any) -> Any:
        started = time.perf_counter()
        try:
            return engine(snapshot, ev)
        finally:
            _STATS["decide_s"] += time.perf_counter() - started
            _STATS["decisions"] += 1

    config = ServeConfig.from_env()
    logs.configure(None, "warning")
    app = create_app(open_store(config), config, timed_decider)

    async def stats(request: Request) -> JSONResponse:
        return JSONResponse({**_STATS, "pid": os.getpid()})

    app.router.routes.append(Route("/bench/stats", stats, methods=["GET"]))

    async def timing(scope: Any, receive: Any, send: Any) -> None:
        started = time.perf_counter()
        await app(scope, receive, send)
        if scope["type"] == "http" and scope["path"].startswith("/access/"):
            _STATS["handle_s"] += time.perf_counter() - started
            _STATS["requests"] += 1

    return timing


# -- the driver -------------------------------------------------------------------------


def make_store(into: Path, users: int, records: int, seed: int = 7) -> tuple[list[str], list[str]]:
    rnd = random.Random(seed)
    for name in ("policies.cedar", "search.cedarschema"):
        shutil.copy(EXAMPLE / name, into / name)
    user_ids = [f"user{i}" for i in range(users)]
    record_ids = [str(100_000 + i) for i in range(records)]
    entities: list[dict[str, Any]] = [
        {
            "uid": {"type": "user", "id": u},
            "attrs": {"role": rnd.choice(ROLES), "department": rnd.choice(DEPARTMENTS)},
            "parents": [],
        }
        for u in user_ids
    ]
    entities += [
        {
            "uid": {"type": "record", "id": r},
            "attrs": {
                "title": f"record {r}",
                "department": rnd.choice(DEPARTMENTS),
                "owner": {
                    "__entity": {"type": "user", "id": rnd.choice(user_ids)}
                },  # explicit: cedarpy reads entities without the schema
            },
            "parents": [],
        }
        for r in record_ids
    ]
    (into / "entities.json").write_text(json.dumps(entities))
    return user_ids, record_ids


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, store: Path, engine: str, workers: int) -> None:
        from cedarlang_serve.config import ENV, ServeConfig

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = ServeConfig(
            store=str(store), reload_interval=0, port=self.port, workers=workers, log_level="warning"
        )
        env = {
            **os.environ,
            ENV: config.to_env(),
            "SERVE_BENCH_ENGINE": engine,
            "PYTHONPATH": str(ROOT / "src"),
        }
        # cedar serve's own runner (its worker sockets get TCP_NODELAY), with this module's factory
        run = "from cedarlang_serve.config import ServeConfig; from cedarlang_serve.server import run; run(ServeConfig.from_env(), factory='serve:app_factory')"
        command = [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); {run}",
        ]
        self.process = subprocess.Popen(command, env=env)

    def __enter__(self) -> Server:
        import httpx

        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(self.url + "/health", timeout=2).raise_for_status()
                return self
            except httpx.HTTPError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.2)

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def bodies(kind: str, users: list[str], records: list[str], n: int, seed: int = 11) -> list[bytes]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        subject = {"type": "user", "id": rnd.choice(users)}
        action = {"name": rnd.choice(ACTIONS)}
        if kind == "evaluation":
            body: dict[str, Any] = {
                "subject": subject,
                "action": action,
                "resource": {"type": "record", "id": rnd.choice(records)},
            }
        else:
            items = [{"resource": {"type": "record", "id": rnd.choice(records)}} for _ in range(BATCH)]
            body = {"subject": subject, "action": action, "evaluations": items}
        out.append(json.dumps(body).encode())
    return out


async def load(url: str, path: str, payloads: list[bytes], seconds: float, concurrency: int) -> list[float]:
    import httpx

    latencies: list[float] = []
    headers = {"Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def worker(offset: int, until: float, record: bool) -> None:
            i = offset
            while time.perf_counter() < until:
                started = time.perf_counter()
                response = await client.post(path, content=payloads[i % len(payloads)], headers=headers)
                response.raise_for_status()
                if record:
                    latencies.append(time.perf_counter() - started)
                i += concurrency

        warm_until = time.perf_counter() + min(1.0, seconds / 4)
        await asyncio.gather(*(worker(k, warm_until, False) for k in range(concurrency)))
        until = time.perf_counter() + seconds
        await asyncio.gather(*(worker(k, until, True) for k in range(concurrency)))
    return latencies


def stats(url: str, workers: int) -> dict[str, float]:
    """Time spent, added up over the worker processes (each answers on its own connections:
    ask on new connections until every process has answered)."""
    import httpx

    seen: dict[int, dict[str, float]] = {}
    for _ in range(200):
        data = httpx.get(url + "/bench/stats", headers={"Connection": "close"}).json()
        seen[data["pid"]] = data
        if len(seen) == workers:
            break
    else:
        raise RuntimeError(f"only {len(seen)} of {workers} workers answered")
    return {key: sum(d[key] for d in seen.values()) for key in ("decide_s", "handle_s")}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def agree(store: Path, users: list[str], records: list[str]) -> None:
    import httpx

    sample = bodies("evaluation", users, records, 200, seed=3)
    answers = []
    for engine in ("cedarlang", "cedarpy"):
        with Server(store, engine, 1) as server:
            answers.append([httpx.post(server.url + "/access/v1/evaluation", content=b, headers={"Content-Type": "application/json"}).json()["decision"] for b in sample])  # fmt: skip
    if answers[0] != answers[1]:
        raise SystemExit("the engines disagree: no timing")
    print(f"engines agree on {len(sample)} sample requests ({sum(answers[0])} allowed)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))

    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp)
        users, records = make_store(store, args.users, args.records)
        print(
            f"store: {args.users} users, {args.records} records; {args.seconds} s a run, {args.concurrency} connections; cpus: {os.cpu_count()}"
        )
        agree(store, users, records)
        rows = []
        for workers in (1, 2):
            for engine in ("cedarlang", "cedarpy"):
                with Server(store, engine, workers) as server:
                    for kind, path in (
                        ("evaluation", "/access/v1/evaluation"),
                        ("batch", "/access/v1/evaluations"),
                    ):
                        before = stats(server.url, workers)
                        latencies = asyncio.run(
                            load(
                                server.url,
                                path,
                                bodies(kind, users, records, 500),
                                args.seconds,
                                args.concurrency,
                            )
                        )
                        after = stats(server.url, workers)
                        handled = after["handle_s"] - before["handle_s"]
                        share = f"{100 * (after['decide_s'] - before['decide_s']) / handled:.0f}%"
                        rate = len(latencies) / args.seconds
                        per = BATCH if kind == "batch" else 1
                        rows.append(
                            (
                                kind,
                                engine,
                                workers,
                                rate,
                                rate * per,
                                percentile(latencies, 0.5) * 1e3,
                                percentile(latencies, 0.99) * 1e3,
                                share,
                            )
                        )
                        print(f"  {kind:10} {engine:9} {workers} worker(s): {rate:8.1f} req/s", flush=True)
        print()
        print("| endpoint | engine | workers | requests/s | decisions/s | p50 ms | p99 ms | time deciding |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for kind, engine, workers, rate, decisions, p50, p99, share in sorted(
            rows, key=lambda r: (r[0] != "evaluation", r[0], r[2], r[1])
        ):
            print(
                f"| {kind} | {engine} | {workers} | {rate:.0f} | {decisions:.0f} | {p50:.1f} | {p99:.1f} | {share} |"
            )


if __name__ == "__main__":
    main()
