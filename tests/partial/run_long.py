"""Long partial-evaluation run: ``python -m tests.partial.run_long --cases 50000 --seed S``.

Generates cases with unknowns (:mod:`tests.partial.harness`), compares cedarlang's
``is_authorized_partial`` with cedarpy's on each (``--check soundness``: checks
``reauthorize`` against full authorization instead), prints progress, the mix and
``N cases, M mismatches`` with the first mismatching cases. Exit status 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import sys
import time

from .harness import RunResult, describe, run

CHUNK = 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=10000, help="number of generated cases (default 10000)")
    ap.add_argument("--seed", type=int, default=None, help="base seed (default: time-based)")
    ap.add_argument("--check", choices=["compare", "soundness"], default="compare")
    args = ap.parse_args(argv)
    base = args.seed if args.seed is not None else int(time.time())
    print(f"seed {base}: {args.cases} cases ({args.check})", flush=True)
    total = RunResult()
    start = time.monotonic()
    done = 0
    chunk = 0
    while done < args.cases:
        n = min(CHUNK, args.cases - done)
        run(n, base * 1000 + chunk, args.check, total)
        done += n
        chunk += 1
        print(
            f"  {done} generated, {total.stats['mismatches']} mismatches ({time.monotonic() - start:.0f}s)",
            flush=True,
        )
    stats = total.stats
    print()
    print("mix: " + ", ".join(f"{k}: {v}" for k, v in sorted(stats.items())))
    if total.failures:
        print()
        print(describe(total))
    print()
    print(f"{stats['cases']} cases, {stats['mismatches']} mismatches")
    return 1 if stats["mismatches"] else 0


if __name__ == "__main__":
    sys.exit(main())
