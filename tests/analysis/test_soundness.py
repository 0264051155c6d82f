"""The soundness cross-check (see :mod:`tests.analysis.soundness`): 1,000 generated
schemas, entity stores and policy-set pairs, every query and lint, 0 contradictions."""

from __future__ import annotations

import pytest

from .soundness import CLAIMS, run

pytest.importorskip("cvc5")

CASES = 1000


def test_analysis_agrees_with_exhaustive_evaluation() -> None:
    tally = run(range(CASES))
    assert tally.contradictions == []
    assert tally.cases >= CASES * 0.9  # few generated inputs are rejected before analysis
    # every query kind was both proved and refuted (with a replayed counterexample) many times
    for query in CLAIMS:
        assert tally.outcomes[f"{query} holds"] >= 5, query
        assert tally.outcomes[f"{query} fails"] >= 10, query
    assert tally.requests > 10 * CASES
    # and every lint kind was checked
    for kind in ("vacuous", "redundant", "shadowed-permit", "shadowed-forbid", "overridden-permit"):
        assert tally.outcomes[f"lint {kind}"] >= 3, kind
