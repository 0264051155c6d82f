"""Long differential run of the validator against cedarpy.

    python -m tests.validator.run_long [N] [--seed S] [--out mismatches.txt]

Prints ``N cases, M mismatches`` (plus the pass/reject mix) and writes every mismatch to the
``--out`` file.
"""

from __future__ import annotations

import argparse
import sys
import time

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from .harness import agree, describe, python_outcome, rust_outcome
from .strategies import cases, guard_cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", nargs="?", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--out", default="validator-mismatches.txt")
    args = parser.parse_args(argv)
    stats = {"cases": 0, "mismatches": 0, "passed": 0, "rejected": 0}
    found: list[str] = []
    start = time.monotonic()

    @settings(
        max_examples=args.n,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.one_of(cases(), guard_cases()))
    def run(case: tuple[str, str]) -> None:
        schema_text, policy_text = case
        ours = python_outcome(schema_text, policy_text)
        rust = rust_outcome(schema_text, policy_text)
        stats["cases"] += 1
        stats["passed"] += rust.passed
        stats["rejected"] += rust.rejected
        if not agree(ours, rust):
            stats["mismatches"] += 1
            found.append(describe(schema_text, policy_text, ours, rust))
        if stats["cases"] % 2000 == 0:
            print(
                f"... {stats['cases']} cases, {stats['mismatches']} mismatches", file=sys.stderr, flush=True
            )

    if args.seed is not None:
        run = seed(args.seed)(run)
    run()
    elapsed = time.monotonic() - start
    if found:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write("\n-----\n".join(found))
    print(f"{stats['cases']} cases, {stats['mismatches']} mismatches")
    print(
        f"(rust passed {stats['passed']}, rejected {stats['rejected']}; {elapsed:.0f}s"
        + (f"; details in {args.out})" if found else ")")
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
