"""Partial evaluation: ``is_authorized_partial`` per call, cedarlang vs cedarpy, same run.

    python benchmarks/partial.py            # TinyTodo and GitHub-like workloads, 10k entities
    python benchmarks/partial.py --entities 1000 --links 100

Both engines get pre-parsed policy sets and entity stores (cedarpy's handles), and the
same partial requests: the resource unknown (the list page), the principal unknown (the
sharing dialog), and the context unknown. The residuals of both are compared first
(JSON, as cedarpy returns them); then each request is timed (median of several rounds).
Printed: microseconds per call for both and the ratio ours / cedarpy (below 1 means
cedarlang is faster).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cedarpy
from apps import github, tinytodo

from cedarlang.compat import cedarpy as compat


def timed(fn: Any, rounds: int) -> float:
    """Median seconds per call over ``rounds`` rounds of enough calls to last ~50 ms."""
    fn()
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < 0.05:
        fn()
        n += 1
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - t0) / n)
    return statistics.median(samples)


def run(name: str, make: Any, n_entities: int, n_links: int, rounds: int) -> list[tuple[str, ...]]:
    w = make(n_entities, n_links, 20)
    entities_json = json.dumps(w.entities)
    ours_ps = compat.PolicySet.from_str(w.policies)
    rust_ps = cedarpy.PolicySet.from_str(w.policies)
    if w.links:  # the same link dicts for both: the compat layer names templates as cedarpy does
        ours_ps = ours_ps.with_linked_batch(w.links)
        rust_ps = rust_ps.with_linked_batch(w.links)
    ours_es = compat.Entities.from_json_str(entities_json)
    rust_es = cedarpy.Entities.from_json_str(entities_json)
    request = w.requests[0]
    uid = lambda u: f'{u["type"]}::"{u["id"]}"'  # noqa: E731 - ids in the workloads need no escaping
    shapes = {
        "resource unknown": {
            "principal": uid(request["principal"]),
            "action": uid(request["action"]),
            "context": {},
        },
        "principal unknown": {
            "action": uid(request["action"]),
            "resource": uid(request["resource"]),
            "context": {},
        },
        "context unknown": {
            "principal": uid(request["principal"]),
            "action": uid(request["action"]),
            "resource": uid(request["resource"]),
        },
    }
    rows = []
    for label, partial_request in shapes.items():
        ours = compat.is_authorized_partial(partial_request, ours_ps, ours_es)
        rust = cedarpy.is_authorized_partial(partial_request, rust_ps, rust_es)
        if ours.residuals != rust.residuals or ours.decision.name != rust.decision.name:
            raise SystemExit(f"{name} {label}: answers differ from cedarpy")
        t_ours = timed(lambda r=partial_request: compat.is_authorized_partial(r, ours_ps, ours_es), rounds)
        t_rust = timed(lambda r=partial_request: cedarpy.is_authorized_partial(r, rust_ps, rust_es), rounds)
        rows.append(
            (
                name, f"{n_entities:,}", f"{len(w.links) + w.policies.count(';'):,}", label,
                f"{len(rust.residuals):,}", f"{t_ours * 1e6:,.0f}", f"{t_rust * 1e6:,.0f}", f"{t_ours / t_rust:.3f}",
            )
        )  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--links", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    header = ("workload", "entities", "policies", "request", "residuals", "ours µs", "cedarpy µs", "ratio")
    rows = []
    for name, make in (("tinytodo", tinytodo), ("github", github)):
        rows += run(name, make, args.entities, args.links, args.rounds)
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
