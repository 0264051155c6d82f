"""cedarlang against an earlier commit of itself: request median and entity load, A/B.

    python benchmarks/versus_commit.py f1ee2f0                       # the natural sets
    python benchmarks/versus_commit.py f1ee2f0 --rounds 5 tinytodo:1000:1000

Each workload (``app:entities:policies``, policies 0 for the app's own set) is measured
in a fresh process per engine, the processes of the two commits alternating ``--rounds``
times, so that load from other jobs on a shared machine falls on both alike; the medians
of the rounds are printed with their ratio (below 1: this checkout is faster). The earlier
commit is checked out into a temporary git worktree; both run the workloads of this
checkout's ``apps.py``. Each side decides requests in the fastest way its API offers:
the earlier one through ``Request`` objects (a dict was not a request before ``is_authorized``
took one), this one as the dicts cedarpy takes, and through ``Request`` objects too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

_CHILD = r"""
import json, statistics, sys, time, timeit
sys.path.insert(0, sys.argv[5])
from apps import APPS
from bench import latencies
import cedarlang
app, n_entities, n_policies, how = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
w = APPS[app](n_entities, n_policies, 1000 if n_entities < 100_000 else 300)
text = json.dumps(w.entities)
policies = cedarlang.PolicySet.from_str(w.policies)
# (templates named by their @id as bench.py does: older commits lack ids_from_annotation)
templates = {t.annotations.get("id"): t.id for t in policies.templates()}
policies.link_many([{**link, "template_id": templates[link["template_id"]]} for link in w.links])
timer = timeit.Timer(lambda: cedarlang.Entities.from_json(text), timer=time.process_time)
number, _ = timer.autorange()
load = min(timer.timeit(number) / number for _ in range(3))
entities = cedarlang.Entities.from_json(text)
authorizer = cedarlang.Authorizer()
if how == "dict":
    decide = lambda req: authorizer.is_authorized(req, policies, entities)
else:
    Request = cedarlang.Request
    decide = lambda req: authorizer.is_authorized(
        Request(req["principal"], req["action"], req["resource"], req["context"]), policies, entities
    )
for req in w.requests[:50]:  # as bench.py does before timing
    decide(req)
times = latencies(decide, w.requests)  # one pass: most uids are new at 10,000 entities and more
print(json.dumps({"request": statistics.median(times) * 1e6, "load": load * 1e3}))
"""

NATURAL = [f"{app}:{n}:0" for n in (100, 1000, 10_000, 100_000) for app in ("tinytodo", "gdrive", "github")]


def measure(src: Path, how: str, workload: str) -> dict[str, float]:
    app, n_entities, n_policies = workload.split(":")
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, app, n_entities, n_policies, how, str(HERE)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if out.returncode:
        raise SystemExit(f"{workload} ({src}):\n{out.stderr}")
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("commit", help="the earlier commit (any git revision)")
    parser.add_argument("workloads", nargs="*", default=NATURAL, help="app:entities:policies")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_intermixed_args()
    with tempfile.TemporaryDirectory() as tmp:
        worktree = Path(tmp) / "earlier"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(worktree), args.commit],
            check=True,
            capture_output=True,
        )
        try:
            sides = {
                f"{args.commit} (Request)": (worktree / "src", "object"),
                "this (dict)": (ROOT / "src", "dict"),
                "this (Request)": (ROOT / "src", "object"),
            }
            print("| workload | metric | " + " | ".join(sides) + " | ratio (dict) |")
            print("|---|---|" + "---:|" * (len(sides) + 1))
            for workload in args.workloads:
                found: dict[str, dict[str, list[float]]] = {side: {} for side in sides}
                for _ in range(args.rounds):
                    for side, (src, how) in sides.items():
                        for metric, value in measure(src, how, workload).items():
                            found[side].setdefault(metric, []).append(value)
                for metric, unit in (("request", "µs"), ("load", "ms")):
                    medians = [statistics.median(found[side][metric]) for side in sides]
                    cells = " | ".join(f"{m:,.2f}" for m in medians)
                    print(
                        f"| {workload} | {metric} median ({unit}) | {cells} | {medians[1] / medians[0]:.3f} |"
                    )
                sys.stdout.flush()
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)],
                check=False,
                capture_output=True,
            )


if __name__ == "__main__":
    main()
