"""CI sample of the query exactness property (see ``exactness.py``)."""

from __future__ import annotations

import os

import pytest

from .exactness import SHARES, Outcome, mix_problems, run, summary

TOTAL = int(os.environ.get("CEDAR_QUERY_EXAMPLES", "2400"))
SEED = int(os.environ.get("CEDAR_QUERY_SEED", "20261130"))


@pytest.mark.parametrize("profile", list(SHARES))
def test_queries_equal_brute_force(profile: str) -> None:
    outcome = run(profile, max(1, round(TOTAL * SHARES[profile])), SEED, Outcome())
    print(f"{profile}: {summary(outcome.stats)}")
    assert not outcome.mismatches, "\n\n".join(outcome.mismatches)
    assert not mix_problems(profile, outcome.stats), mix_problems(profile, outcome.stats)
