"""Long differential run: ``python -m tests.differential.run_long --examples 50000``.

Generates many cases (the same strategies as the pytest suite), compares
cedarlang with cedarpy on each, prints progress, then the mix of the run (the
same line as the pytest summary: how many answers a policy decided, errors,
rejections) and whether it meets ``runner.MIX_THRESHOLDS``, then
``N cases, M mismatches`` followed by one minimised repro per distinct mismatch
signature.  Exit status is 1 when anything mismatched.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time

from .runner import PROFILES, SHARES, RunResult, mix_line, mix_problems, report, run_profile

CHUNK = 500


def _work(args: tuple[str, int, int]) -> RunResult:
    profile, examples, seed_value = args
    return run_profile(PROFILES[profile], examples, seed_value)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=10000, help="number of cases (default 10000)")
    ap.add_argument(
        "--profile",
        default="all",
        choices=["all", *PROFILES],
        help="generator profile (default: all, in the proportions of the CI run)",
    )
    ap.add_argument("--seed", type=int, default=None, help="base seed (default: time-based)")
    ap.add_argument("--jobs", type=int, default=max(1, multiprocessing.cpu_count()), help="worker processes")
    ap.add_argument("--minimize-seconds", type=float, default=120.0, help="total time for minimising repros")
    ap.add_argument("--max-groups", type=int, default=60, help="how many mismatch groups to print")
    args = ap.parse_args(argv)

    base = args.seed if args.seed is not None else int(time.time())
    shares = SHARES if args.profile == "all" else {args.profile: 1.0}
    tasks = []
    i = 0
    for profile, share in shares.items():
        left = round(args.examples * share)
        while left > 0:
            n = min(CHUNK, left)
            tasks.append((profile, n, base * 1000 + i))
            left -= n
            i += 1
    print(f"seed {base}: {args.examples} cases in {len(tasks)} chunks on {args.jobs} processes", flush=True)

    total = RunResult()
    start = time.monotonic()
    if args.jobs > 1:
        with multiprocessing.Pool(args.jobs) as pool:
            for res in pool.imap_unordered(_work, tasks):
                total.merge(res)
                print(
                    f"  {total.stats['cases']} cases, {total.n_mismatching_cases} mismatches "
                    f"({time.monotonic() - start:.0f}s)",
                    flush=True,
                )
    else:
        for t in tasks:
            total.merge(_work(t))
            print(f"  {total.stats['cases']} cases, {total.n_mismatching_cases} mismatches", flush=True)

    s = total.stats
    print()
    print(f"mix: {mix_line(s)}")
    for problem in mix_problems(s):
        print(f"  below the CI threshold: {problem}")
    if total.mismatches:
        print()
        print(report(total, minimize_seconds=args.minimize_seconds, max_groups=args.max_groups))
    print()
    print(f"{s['cases']} cases, {total.n_mismatching_cases} mismatches")
    return 1 if total.mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
