"""The fuzz harness in CI: a few thousand mutated inputs through the public API.

Only :class:`~cedarlang.CedarError` may escape, nothing may hit Python's recursion limit,
and no input may take more than two seconds of CPU time. The findings of earlier runs are
regression tests at the end.
"""

from __future__ import annotations

import pytest

from cedarlang import ParseError
from cedarlang.errors import PolicyJsonError
from cedarlang.est import policy_set_from_json
from cedarlang.formatter import format_policies

from .harness import TARGETS, load_seeds, make_input, run, run_input

RUN_SEED = 20261130
CI_INPUTS = 3000


def test_fuzz_run() -> None:
    seeds = load_seeds(60, RUN_SEED)
    totals = run(seeds, RUN_SEED, CI_INPUTS)
    assert totals.inputs == CI_INPUTS
    assert set(TARGETS) <= {make_input(seeds, RUN_SEED, i).target for i in range(len(TARGETS))}
    assert not totals.unknown, totals.summary()
    assert totals.over_limit == 0, totals.summary()


def test_harness_sees_escapes_and_timeouts() -> None:
    """The harness itself: a non-Cedar exception and a slow input are both reported."""
    seeds = load_seeds(2, RUN_SEED)
    item = make_input(seeds, RUN_SEED, 0)
    item.target = "not-a-target"  # exercise() fails its own assertion: an AssertionError escapes
    outcome = run_input(item)
    assert outcome.kind == "AssertionError"
    assert outcome.frames == ()  # raised in the harness, not in cedarlang

    item = make_input(seeds, RUN_SEED, 0)
    item.target = "policy_text"
    item.data = "permit(principal, action, resource) when { " + " + ".join(["1"] * 1500) + " == 0 };"
    slow = run_input(item, limit=1e-6)
    assert slow.timed_out and slow.kind == "timeout"


# Findings of earlier fuzz runs, fixed since: each must now end in a CedarError (or work).
_DEEP_POLICY_JSON = "[" * 100_000
_HUGE_INTEGER_JSON = '{"staticPolicies": {"p": ' + "1" * 5000 + "}}"
_POLICY = '{"staticPolicies": {"p": {"effect": "permit", "principal": {"op": "All"}, "action": {"op": "All"}, "resource": {"op": "All"}, "conditions": [{"kind": "when", "body": %s}]}}}'


@pytest.mark.parametrize(
    "data",
    [
        b"\xff",
        _DEEP_POLICY_JSON,
        _HUGE_INTEGER_JSON,
        _POLICY % '{"Var": {"a": 1}}',
        _POLICY % '{"Slot": ["?principal"]}',
    ],
    ids=["invalid-utf8-bytes", "deep-json", "huge-integer", "var-not-a-string", "slot-not-a-string"],
)
def test_policy_json_findings_fail_cleanly(data: str | bytes) -> None:
    with pytest.raises(PolicyJsonError):
        policy_set_from_json(data)


def test_format_policies_takes_bytes() -> None:
    text = b"permit(principal, action, resource);"
    assert format_policies(text) == format_policies(text.decode())
    with pytest.raises(ParseError, match="not valid UTF-8"):
        format_policies(b"\xff")
