"""Long TPE soundness run: ``python -m tests.tpe.run_long --cases 20000 --seed 1``.

Checks the property of :mod:`tests.tpe.soundness` on ``--cases`` generated cases (one
process; run it under ``nice``), prints progress per chunk, the totals and the first
failures. Exit status 1 when any view contradicted concrete authorization.
"""

from __future__ import annotations

import argparse
import sys
import time

from .soundness import Stats, run, summary

CHUNK = 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=20000, help="number of generated cases (default 20000)")
    ap.add_argument("--seed", type=int, default=None, help="base seed (default: time-based)")
    args = ap.parse_args(argv)
    base = args.seed if args.seed is not None else int(time.time())
    total = Stats()
    start = time.monotonic()
    done = 0
    chunk_index = 0
    while done < args.cases:
        n = min(CHUNK, args.cases - done)
        total.merge(run(n, base * 100_003 + chunk_index))
        done += n
        chunk_index += 1
        print(f"[{time.monotonic() - start:7.1f}s] {total.line()}", flush=True)
    print(f"seed {base}: {summary(total, 10)}")
    return 1 if total.failures else 0


if __name__ == "__main__":
    sys.exit(main())
