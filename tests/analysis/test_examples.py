"""Rust symcc's example applications (``data/cedar-examples``): every policy is encoded,
every query over them answers, and every counterexample replays."""

from __future__ import annotations

from pathlib import Path

import pytest

from cedarlang import PolicySet, Schema
from cedarlang.analysis import Analyzer, Outcome
from cedarlang.analysis.lints import lint

from .soundness import replays

pytest.importorskip("cvc5")

DATA = Path(__file__).parent / "data" / "cedar-examples"
EXAMPLES = sorted(p.name for p in DATA.iterdir() if p.is_dir())


@pytest.mark.parametrize("name", EXAMPLES)
def test_example(name: str) -> None:
    schema = Schema.from_str((DATA / name / "policies.cedarschema").read_text())
    policies = PolicySet.from_str((DATA / name / "policies.cedar").read_text())
    static = PolicySet()
    for p in policies.policies():
        static.add(p)
    analyzer = Analyzer(schema)
    empty = PolicySet()
    results = [
        (analyzer.never_errors(static), static, empty),
        (analyzer.always_allows(static), static, empty),
        (analyzer.always_denies(static), static, empty),
        (analyzer.implies(static, empty), static, empty),
        (analyzer.equivalent(static, static), static, static),
    ]
    for result, a, b in results:
        for r in result.envs:
            assert r.outcome is not Outcome.UNKNOWN, (result.query, r.reasons)
            if r.counterexample is not None:
                assert replays(result, r.counterexample, a, b), (result.query, r.counterexample.to_json())
    assert results[-1][0].holds  # a set is equivalent to itself
    assert lint(analyzer, static).not_analysed == []
