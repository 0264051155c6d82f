"""Permission queries: ``query_resources`` vs authorizing every candidate, same run.

    python benchmarks/query.py                 # 10k and 100k resources (a few minutes)
    python benchmarks/query.py --sizes 10000   # one size

For each workload (TinyTodo: lists owned or shared through teams and template links;
GitHub-like: repositories readable through per-repository teams, organisation
membership and collaborator links) and each size, a handful of principals ask
"which resources may I <action>?". Printed per row: the median time of
``query_resources`` with warm indexes, the time of the first query on a fresh
entity store (it builds the indexes it needs), the time of the brute force
(``is_authorized`` on every resource of the type) and the ratio query / brute force
(below 1 means the query is faster). Both answers are compared before timing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apps import Workload, github, tinytodo

import cedarlang
from cedarlang.authorizer import Request
from cedarlang.values import EntityUid

# (workload, entities needed for n resources, resource type, actions asked)
WORKLOADS: dict[str, tuple[Any, float, str, tuple[str, ...]]] = {
    "tinytodo": (tinytodo, 1 / 0.3, "List", ("DeleteList", "GetList", "UpdateList")),
    "github": (github, 13.0, "Repository", ("pull", "push")),
}


def build(w: Workload) -> tuple[cedarlang.PolicySet, cedarlang.Entities]:
    ps = cedarlang.PolicySet.from_str(w.policies)
    ids = {t.annotations.get("id"): t.id for t in ps.templates()}
    ps.link_many([{**link, "template_id": ids[link["template_id"]]} for link in w.links])
    return ps, cedarlang.Entities.from_json(w.entities)


def brute(
    principal: EntityUid, action: EntityUid, rtype: str, ps: cedarlang.PolicySet, es: cedarlang.Entities
) -> list[EntityUid]:
    az = cedarlang.Authorizer()
    return sorted(
        e.uid
        for e in es
        if e.uid.type == rtype and az.is_authorized(Request(principal, action, e.uid), ps, es).allowed
    )


def run(name: str, resources: int, principals: int, links: int) -> list[tuple[str, ...]]:
    make, factor, rtype, actions = WORKLOADS[name]
    t0 = time.perf_counter()
    w = make(int(resources * factor), links, 200)
    ps, es = build(w)
    n_resources = sum(1 for e in es if e.uid.type == rtype)
    print(
        f"# {name}: {len(es)} entities, {n_resources} {rtype} resources, {len(ps)} policies "
        f"(built in {time.perf_counter() - t0:.1f} s)",
        file=sys.stderr,
    )
    users = sorted({EntityUid(r["principal"]["type"], r["principal"]["id"]) for r in w.requests})[:principals]
    az = cedarlang.Authorizer()
    rows = []
    for action_id in actions:
        action = EntityUid("Action", action_id)
        # cold: the first query on a fresh store builds the indexes it needs
        _, fresh = build(w) if action_id == actions[0] else (None, None)
        cold = None
        if fresh is not None:
            start = time.perf_counter()
            az.query_resources(users[0], action, rtype, ps, fresh)
            cold = time.perf_counter() - start
        warm_times, brute_times, sizes = [], [], []
        for i, user in enumerate(users):
            start = time.perf_counter()
            got = az.query_resources(user, action, rtype, ps, es)
            warm_times.append(time.perf_counter() - start)
            sizes.append(len(got))
            if i < 3:  # brute force is slow: three principals are enough for its median
                start = time.perf_counter()
                want = brute(user, action, rtype, ps, es)
                brute_times.append(time.perf_counter() - start)
                if got != want:
                    raise SystemExit(f"mismatch for {user} {action}: {len(got)} vs {len(want)}")
        warm, slow = statistics.median(warm_times), statistics.median(brute_times)
        rows.append(
            (
                name,
                f"{n_resources:,}",
                action_id,
                f"{statistics.median(sizes):.0f}",
                f"{warm * 1e3:.2f}",
                "" if cold is None else f"{cold * 1e3:.0f}",
                f"{slow * 1e3:.0f}",
                f"{warm / slow:.4f}",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000", help="resource counts")
    parser.add_argument("--apps", default="tinytodo,github")
    parser.add_argument("--principals", type=int, default=20)
    parser.add_argument("--links", type=int, default=1000, help="template links per workload")
    args = parser.parse_args()
    header = (
        "workload",
        "resources",
        "action",
        "answer size",
        "query ms (warm)",
        "first query ms",
        "brute force ms",
        "ratio",
    )
    rows = [header]
    for size in (int(s) for s in args.sizes.split(",")):
        for name in args.apps.split(","):
            rows.extend(run(name, size, args.principals, args.links))
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows[1:]:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
