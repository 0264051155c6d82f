"""Long fuzz run: ``python -m tests.fuzz.run_long --inputs 100000 --seed S``.

One process (run it under ``nice``). Prints progress every 1000 inputs, then the totals:
inputs, exceptions outside CedarError, RecursionErrors, inputs over the time limit, the
slowest input and up to 20 findings, each
with the ``--seed``/``--only`` that regenerates it. Exit status 1 if anything unknown escaped.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback

from .harness import Outcome, Totals, load_seeds, make_input, run, run_input


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", type=int, default=100_000, help="number of inputs (default 100000)")
    ap.add_argument("--seed", type=int, default=None, help="run seed (default: time-based)")
    ap.add_argument("--cases", type=int, default=400, help="conformance tests to take seeds from")
    ap.add_argument("--only", type=int, default=None, help="run just input number N (a reproducer)")
    args = ap.parse_args(argv)

    seed = args.seed if args.seed is not None else int(time.time())
    seeds = load_seeds(args.cases, seed)
    if args.only is not None:
        item = make_input(seeds, seed, args.only)
        print(item.describe())
        print(repr(item.data))
        outcome = run_input(item)
        print(f"{outcome.kind} in {outcome.seconds:.3f} s CPU at {outcome.where or '-'}")
        if outcome.error is not None:
            traceback.print_exception(outcome.error)
        return 0 if outcome.error is None else 1

    print(f"seed {seed}: {args.inputs} inputs from {len(seeds.cases)} conformance tests", flush=True)
    start = time.monotonic()

    def progress(totals: Totals) -> None:
        print(
            f"  {totals.inputs} inputs, {totals.escaped} escaped, {totals.over_limit} over limit, "
            f"{len(totals.unknown)} unknown ({time.monotonic() - start:.0f}s)",
            flush=True,
        )

    def found(outcome: Outcome) -> None:
        print(f"  FOUND {outcome.kind} at {outcome.where or '?'}: {str(outcome.error)[:160]!r}", flush=True)
        print(f"    {outcome.item.describe()} (--only {outcome.item.index})", flush=True)

    totals = run(seeds, seed, args.inputs, progress, found)
    print(f"seed {seed}, {time.monotonic() - start:.0f}s wall")
    print(totals.summary())
    for outcome in totals.unknown[:20]:
        print(
            f"  reproduce: python -m tests.fuzz.run_long --seed {seed} --cases {args.cases} --only {outcome.item.index}"
        )
    return 1 if totals.unknown else 0


if __name__ == "__main__":
    sys.exit(main())
