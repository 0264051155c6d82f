"""cedarlang vs cedarpy (the Rust engine, pre-parsed handles) on the same workloads, same run.

    python benchmarks/bench.py            # the full grid (several minutes)
    python benchmarks/bench.py --quick    # a small grid

Prints one table: per-request median and p99, batch throughput, policy-set parse
time, entity load time and memory per entity, with the ratio ours / cedarpy
(below 1 means cedarlang is faster or smaller).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cedarpy
from apps import APPS, Workload
from handwritten import tinytodo_by_hand, tinytodo_store

import cedarlang


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def best_of(fn: Callable[[], Any], repeat: int) -> float:
    """Seconds per call: the best of ``repeat`` rounds, each long enough (≥ 0.2 s, as
    ``timeit`` picks) that sub-millisecond calls are not lost in clock noise."""
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    return min(timer.timeit(number) / number for _ in range(repeat))


def best_of_both(ours: Callable[[], Any], rust: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """``best_of`` for both engines, their rounds alternating, in CPU time of this process
    (cedarpy runs on the calling thread): on a shared machine, a burst of load from other
    processes then slows neither engine's best round in particular."""
    timers = [timeit.Timer(fn, timer=time.process_time) for fn in (ours, rust)]
    numbers = [timer.autorange()[0] for timer in timers]
    best = [float("inf"), float("inf")]
    for _ in range(repeat):
        for i, timer in enumerate(timers):
            best[i] = min(best[i], timer.timeit(numbers[i]) / numbers[i])
    return best[0], best[1]


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


_RSS_PROBE = """
import ctypes, gc, json, os, sys
import cedarpy
libc = ctypes.CDLL("libc.so.6")
def rss():
    gc.collect()
    libc.malloc_trim(0)  # hand freed heap pages back, so RSS counts live memory
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
text = open(sys.argv[1]).read()
first = json.dumps(json.loads(text)[:1])
warm = cedarpy.Entities.from_json_str(first)  # one-time initialisation is not per-entity memory
del warm, first
before = rss()
handle = cedarpy.Entities.from_json_str(text)
print(rss() - before)
"""


def rust_entities_rss(entities_json: str) -> float:
    """Resident memory cedarpy's entity store adds, measured in a fresh process with freed
    pages trimmed (the Rust heap is invisible to tracemalloc)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        f.write(entities_json)
        f.flush()
        out = subprocess.run(
            [sys.executable, "-c", _RSS_PROBE, f.name], capture_output=True, text=True, check=True
        )
    return max(0.0, float(out.stdout.strip()))


def latencies(fn: Callable[[dict[str, Any]], Any], requests: list[dict[str, Any]]) -> list[float]:
    out = []
    clock = time.perf_counter
    for req in requests:
        start = clock()
        fn(req)
        out.append(clock() - start)
    return out


def paired_latencies(
    first: Callable[[dict[str, Any]], Any],
    second: Callable[[dict[str, Any]], Any],
    requests: list[dict[str, Any]],
) -> tuple[list[float], list[float]]:
    """``latencies`` of two functions, each request timed with one then the other, so that
    load from other processes on a shared machine falls on both alike."""
    out: tuple[list[float], list[float]] = ([], [])
    clock = time.perf_counter
    for req in requests:
        start = clock()
        first(req)
        middle = clock()
        second(req)
        out[0].append(middle - start)
        out[1].append(clock() - middle)
    return out


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def run(w: Workload, rows: list[tuple[str, str, float, float, str]]) -> None:
    label = f"{w.name} {len(w.entities):>6}e {len(w.links) + w.policies.count(';'):>5}p"
    entities_json = json.dumps(w.entities)

    # -- policy set: parse + link
    # cedarpy names templates by their @id annotation; ours are policy0, policy1, ...
    templates = {t.annotations.get("id"): t.id for t in cedarlang.PolicySet.from_str(w.policies).templates()}
    our_links = [{**link, "template_id": templates[link["template_id"]]} for link in w.links]

    def ours_policies() -> cedarlang.PolicySet:
        ps = cedarlang.PolicySet.from_str(w.policies)
        ps.link_many(our_links)
        return ps

    def ours_compiled() -> cedarlang.PolicySet:
        """Parse, link and compile every policy now (normally each compiles on first use)."""
        ps = ours_policies()
        for policy in ps.policies():
            policy.function  # noqa: B018 - compiles it
        return ps

    def rust_policies() -> Any:
        ps = cedarpy.PolicySet.from_str(w.policies)
        return ps.with_linked_batch(w.links) if w.links else ps

    repeat = 3 if len(w.links) + w.policies.count(";") < 50_000 else 1
    t_ours, t_rust = best_of_both(ours_policies, rust_policies, repeat)
    rows.append((label, "policy set parse+link (ms)", t_ours * 1e3, t_rust * 1e3, "lower"))
    t_compiled = best_of(ours_compiled, repeat)
    rows.append((label, "  ... and compile all (ms)", t_compiled * 1e3, t_rust * 1e3, "lower"))
    ours_ps, rust_ps = ours_policies(), rust_policies()

    # -- entities: load from JSON text
    t_ours, t_rust = best_of_both(
        lambda: cedarlang.Entities.from_json(entities_json),
        lambda: cedarpy.Entities.from_json_str(entities_json),
        5,
    )
    rows.append((label, "entity load (ms)", t_ours * 1e3, t_rust * 1e3, "lower"))

    gc.collect()
    tracemalloc.start()
    ours_es = cedarlang.Entities.from_json(entities_json)
    ours_mem = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    rust_es = cedarpy.Entities.from_json_str(entities_json)
    rust_mem = rust_entities_rss(entities_json)
    n = len(w.entities)
    rows.append((label, "memory per entity (bytes)", ours_mem / n, rust_mem / n, "rss delta"))

    # -- per-request latency (request construction included on both sides)
    authorizer = cedarlang.Authorizer()

    def ours(req: dict[str, Any]) -> Any:  # the request as cedarpy takes it: a JSON-style dict
        return authorizer.is_authorized(req, ours_ps, ours_es)

    def ours_object(req: dict[str, Any]) -> Any:  # the same through a Request object
        r = cedarlang.Request(req["principal"], req["action"], req["resource"], req["context"])
        return authorizer.is_authorized(r, ours_ps, ours_es)

    def rust(req: dict[str, Any]) -> Any:
        return cedarpy.is_authorized(req, rust_ps, rust_es)

    for req in w.requests[:50]:  # answers must agree before timing means anything
        a, b = ours(req), rust(req)
        if a.allowed != (b.decision == cedarpy.Decision.Allow):
            raise SystemExit(f"decision mismatch on {req}: ours {a.decision}, cedarpy {b.decision}")
    ours(w.requests[0]), rust(w.requests[0])
    lat_ours = latencies(ours, w.requests)
    lat_rust = latencies(rust, w.requests)
    rows.append(
        (
            label,
            "request median (us)",
            statistics.median(lat_ours) * 1e6,
            statistics.median(lat_rust) * 1e6,
            "",
        )
    )
    rows.append((label, "request p99 (us)", p99(lat_ours) * 1e6, p99(lat_rust) * 1e6, ""))
    if w.name == "tinytodo":  # the same rules written by hand: the distance to the limit
        by_hand = tinytodo_by_hand(tinytodo_store(w.entities), w.links)
        for req in w.requests:
            if by_hand(req) != ours(req).allowed:
                raise SystemExit(f"hand-written decision differs on {req}")
        for metric, function in (
            ("request median, hand-written (us)", ours),
            ("  ... with a Request object (us)", ours_object),
        ):
            paired_ours, paired_hand = paired_latencies(function, by_hand, w.requests * 3)
            rows.append(
                (
                    label,
                    metric,
                    statistics.median(paired_ours) * 1e6,
                    statistics.median(paired_hand) * 1e6,
                    "vs hand",
                )
            )

    # -- batch throughput
    requests = [
        cedarlang.Request(r["principal"], r["action"], r["resource"], r["context"]) for r in w.requests
    ]
    t_ours = timed(lambda: authorizer.is_authorized_batch(requests, ours_ps, ours_es))[0]
    t_rust = timed(lambda: cedarpy.is_authorized_batch(w.requests, rust_ps, rust_es))[0]
    count = len(w.requests)
    rows.append((label, "batch (requests/s)", count / t_ours, count / t_rust, "higher"))


GRIDS = {
    "full": [(e, p) for e in (100, 1000, 10_000, 100_000) for p in (None, 1000, 10_000)],
    "quick": [(100, None), (1000, None), (10_000, 1000)],
}
MIXED_GRIDS = {
    "full": [(100_000, p) for p in (1000, 10_000, 100_000)],
    "quick": [(10_000, 1000)],
}
"""The mixed-scope sets (``apps.mixed``): static policies of every scope form, 100k entities."""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a small grid")
    parser.add_argument("--apps", default="tinytodo,gdrive,github,mixed")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--summary", action="store_true", help="also print one Markdown row per workload")
    args = parser.parse_args()
    size = "quick" if args.quick else "full"
    rows: list[tuple[str, str, float, float, str]] = []
    for app in args.apps.split(","):
        for n_entities, n_policies in (MIXED_GRIDS if app == "mixed" else GRIDS)[size]:
            natural = n_policies is None
            w = APPS[app](n_entities, n_policies or 0, args.requests if n_entities < 100_000 else 300)
            run(w, rows)
            print(
                f"... {app} {n_entities} entities {'natural' if natural else n_policies} policies done",
                file=sys.stderr,
                flush=True,
            )
    print(
        f"\ncedarlang {cedarlang.__version__} vs cedarpy (Rust cedar-policy), Python {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} cores"
    )
    if args.markdown:
        print("\n| workload | metric | cedarlang | cedarpy | ratio |\n|---|---|---:|---:|---:|")
    for label, metric, ours, rust, _ in rows:
        ratio = ratio_of(metric, ours, rust)
        if args.markdown:
            print(f"| {label} | {metric} | {ours:,.1f} | {rust:,.1f} | {ratio:.3f} |")
        else:
            print(f"{label}  {metric:<28} ours {ours:>12,.1f}  cedarpy {rust:>12,.1f}  ratio {ratio:8.3f}")
    print(
        "\nratio = cedarlang cost / cedarpy cost (for throughput: cedarpy / cedarlang; for the "
        "hand-written row: cedarlang / the hand-written function); below 1 is better."
    )
    if args.summary:
        print_summary(rows)


def ratio_of(metric: str, ours: float, rust: float) -> float:
    if not (ours and rust):
        return float("nan")
    return rust / ours if "requests/s" in metric else ours / rust


SUMMARY_COLUMNS = [
    ("request median (us)", "request median"),
    ("request p99 (us)", "p99"),
    ("batch (requests/s)", "batch"),
    ("policy set parse+link (ms)", "parse+link"),
    ("  ... and compile all (ms)", "+compile all"),
    ("entity load (ms)", "entity load"),
]


def print_summary(rows: list[tuple[str, str, float, float, str]]) -> None:
    """One Markdown row per workload: ratios (ours / cedarpy) and our absolute numbers."""
    table: dict[str, dict[str, tuple[float, float]]] = {}
    for label, metric, ours, rust, _ in rows:
        table.setdefault(label, {})[metric] = (ours, rust)
    heads = " | ".join(name for _, name in SUMMARY_COLUMNS)
    print(
        f"\n| workload | {heads} | bytes/entity (ours, cedarpy) | median µs (ours, cedarpy) "
        "| × hand-written (µs); with a Request object |"
    )
    print("|---|" + "---:|" * (len(SUMMARY_COLUMNS) + 3))
    for label, metrics in table.items():
        cells = [f"{ratio_of(metric, *metrics[metric]):.3f}" for metric, _ in SUMMARY_COLUMNS]
        mem = metrics["memory per entity (bytes)"]
        med = metrics["request median (us)"]
        hand = metrics.get("request median, hand-written (us)")
        hand_object = metrics.get("  ... with a Request object (us)")
        by_hand = (
            f"{hand[0] / hand[1]:.2f} ({hand[1]:.2f}); {hand_object[0] / hand_object[1]:.2f}"
            if hand and hand_object
            else ""
        )
        print(
            f"| {' '.join(label.split())} | {' | '.join(cells)} | {mem[0]:,.0f}, {mem[1]:,.0f} "
            f"| {med[0]:,.1f}, {med[1]:,.1f} | {by_hand} |"
        )
    print(
        "\nRatios are cedarlang / cedarpy (for batch: cedarpy's time over ours); below 1 means "
        "cedarlang is faster. `e` = entities, `p` = policies (most template-linked above 10)."
    )


if __name__ == "__main__":
    main()
