"""The SQL filter property on SQLite (see ``harness.py``)."""

from __future__ import annotations

import os

from .harness import Outcome, run, sqlite_engine, summary

TOTAL = int(os.environ.get("CEDAR_SQL_EXAMPLES", "2000"))
SEED = int(os.environ.get("CEDAR_SQL_SEED", "20261130"))


def test_sqlite_answers_equal_brute_force() -> None:
    with sqlite_engine() as engine:
        outcome = run(TOTAL, SEED, Outcome(), engine)
    print(f"sqlite: {summary(outcome.stats)}")
    assert not outcome.mismatches, "\n\n".join(outcome.mismatches)
    stats = outcome.stats
    assert stats["cases"] == TOTAL
    assert stats["nonempty answers"] >= 0.15 * stats["queries"], summary(stats)
    assert stats["exact filters"] >= 0.3 * stats["queries"], summary(stats)
