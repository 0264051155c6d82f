"""Differential tests: cedarlang must answer exactly like the Rust engine (cedarpy).

For every generated case (policy text with templates and links, entity JSON,
1-3 requests) we compare, per request, the decision, the set of determining
policies (reasons) and the set of policies that raised evaluation errors.  Inputs
that the Rust engine rejects must be rejected by cedarlang too, and vice versa:
policy text Rust cannot parse must raise ``cedarlang.ParseError``; entity JSON
and request uids/contexts must be refused by both or by neither.

All mismatches of a run are collected; the test then fails with one minimised
repro per distinct signature (policy text, entities, request, both answers).

Knobs (environment variables):

* ``CEDAR_DIFF_EXAMPLES``  total generated cases over the three profiles
  (default 6000: ~35s on this 2-core machine when nothing mismatches);
* ``CEDAR_DIFF_SEED``      base seed (default fixed, so CI is reproducible);
* ``CEDAR_DIFF_MINIMIZE_SECONDS``  time for minimising repros per profile (default 30).
"""

from __future__ import annotations

import os

import pytest

from .runner import PROFILES, RunResult, report, run_profile

TOTAL = int(os.environ.get("CEDAR_DIFF_EXAMPLES", "6000"))
SEED = int(os.environ.get("CEDAR_DIFF_SEED", "20240601"))
MINIMIZE_SECONDS = float(os.environ.get("CEDAR_DIFF_MINIMIZE_SECONDS", "30"))
SHARES = {"mixed": 0.5, "extensions": 0.25, "hierarchy": 0.25}

# Filled in as the profile tests run (read by conftest's terminal summary and by
# test_differential_totals).
RESULTS: dict[str, RunResult] = {}


@pytest.mark.parametrize("profile", list(SHARES))
def test_cedarlang_matches_cedarpy(profile: str) -> None:
    examples = max(1, round(TOTAL * SHARES[profile]))
    result = run_profile(PROFILES[profile], examples, SEED + list(SHARES).index(profile))
    RESULTS[profile] = result
    assert result.stats["cases"] == examples
    if result.mismatches:
        pytest.fail(
            f"cedarlang disagrees with cedarpy (profile {profile!r}):\n\n"
            + report(result, minimize_seconds=MINIMIZE_SECONDS),
            pytrace=False,
        )


def test_differential_totals() -> None:
    """The generator keeps producing a useful mix (allow / deny / errors / rejections)."""
    if set(RESULTS) != set(SHARES):
        pytest.skip("needs every profile run in this process")
    total = RunResult()
    for r in RESULTS.values():
        total.merge(r)
    s = total.stats
    assert s["cases"] == sum(max(1, round(TOTAL * f)) for f in SHARES.values())
    if TOTAL >= 1000:
        decided = s["decision allow"] + s["decision deny"]
        assert s["decision allow"] >= 0.08 * decided, dict(s)
        assert s["requests with evaluation errors"] >= 0.08 * decided, dict(s)
        assert s["policies rejected"] >= 0.02 * s["cases"], dict(s)
        assert s["entities rejected"] >= 0.02 * s["cases"], dict(s)
        assert s["requests rejected"] >= 0.02 * s["requests"], dict(s)
