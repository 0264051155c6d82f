"""The fuzz harness in CI: a few thousand mutated inputs through the public API.

Only :class:`~cedarlang.CedarError` may escape, nothing may hit Python's recursion limit,
and no input may take more than two seconds of CPU time. Findings in files other helpers
own are listed once, in :data:`~tests.fuzz.harness.KNOWN_FINDINGS`, and each one's
reproducer is an xfail test here (strict: it starts failing once the bug is fixed, so the
entry can be removed).
"""

from __future__ import annotations

import builtins
import contextlib

import pytest

from cedarlang import CedarError

from .harness import KNOWN_FINDINGS, TARGETS, KnownFinding, load_seeds, make_input, run, run_input

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


def _expected_failure(finding: KnownFinding) -> object:
    error = getattr(builtins, finding.kind)
    mark = pytest.mark.xfail(strict=True, raises=error, reason=f"{finding.name}: {finding.reason}")
    return pytest.param(finding, marks=mark, id=finding.name)


@pytest.mark.parametrize("finding", [_expected_failure(k) for k in KNOWN_FINDINGS])
def test_known_finding(finding: KnownFinding) -> None:
    """Each known finding's reproducer must raise nothing but CedarError (xfail until fixed)."""
    with contextlib.suppress(CedarError):
        finding.reproducer()
