"""Long run of the string cases against cedarpy (see :mod:`tests.lexical.harness`).

PYTHONPATH=src nice -n 10 python -m tests.lexical.run_long --examples 50000 --seed 1
"""

from __future__ import annotations

import argparse
import random
import sys
import time

from .harness import run_case


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--show", type=int, default=5, help="how many mismatches to print")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    mismatches: list[str] = []
    start = time.monotonic()
    for i in range(args.examples):
        mismatches.extend(run_case(rng))
        if (i + 1) % 5000 == 0:
            print(
                f"{i + 1} cases, {len(mismatches)} mismatches, {time.monotonic() - start:.0f} s", flush=True
            )
    for problem in mismatches[: args.show]:
        print(problem, "\n---")
    print(f"{args.examples} cases, {len(mismatches)} mismatches (seed {args.seed})")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
