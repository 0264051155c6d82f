"""Differential tests: cedarlang must answer exactly like the Rust engine (cedarpy).

For every generated case (policy text with templates and links, entity JSON, an
optional schema, 1-3 requests) we compare, per request, the decision, the set of
determining policies (reasons) and the set of policies that raised evaluation
errors together with the *kind* of each error.  Inputs that the Rust engine
rejects must be rejected by cedarlang too, for the same kind of reason (parse,
uid, JSON, extension value, schema conformance, ...: ``harness.rejection_kind``),
and vice versa.

Most cases come from the schema-shaped generator (``schemacases``): requests that
policies decide (allow / forbid), with a minority of errors and non-conforming
data.  The free-form profiles (``strategies``) keep odd and malformed inputs in
the mix.  The run is split into chunks so that ``pytest -n`` spreads it; the mix
of a complete run (how many answers a policy decided, ...) is printed and checked
at the end of the session by ``conftest.py``, with or without xdist.

All mismatches of a chunk are collected; the test then fails with one minimised
repro per distinct signature (policy text, entities, request, both answers).

Knobs (environment variables):

* ``CEDAR_DIFF_EXAMPLES``  total generated cases over all profiles (default 8000);
* ``CEDAR_DIFF_SEED``      base seed (default fixed, so CI is reproducible);
* ``CEDAR_DIFF_MINIMIZE_SECONDS``  time for minimising repros per chunk (default 30).
"""

from __future__ import annotations

import os

import pytest

from .runner import PROFILES, SHARES, RunResult, report, run_profile

TOTAL = int(os.environ.get("CEDAR_DIFF_EXAMPLES", "8000"))
SEED = int(os.environ.get("CEDAR_DIFF_SEED", "20240601"))
MINIMIZE_SECONDS = float(os.environ.get("CEDAR_DIFF_MINIMIZE_SECONDS", "30"))
CHUNK = 800


def chunks() -> list[tuple[str, int, int]]:
    """(profile, chunk index, examples) for the whole run."""
    out = []
    for profile, share in SHARES.items():
        left = max(1, round(TOTAL * share))
        i = 0
        while left > 0:
            n = min(CHUNK, left)
            out.append((profile, i, n))
            left -= n
            i += 1
    return out


CHUNKS = chunks()

# Filled in as the chunks run in this process (read by conftest.py).
RESULTS: dict[str, RunResult] = {}


@pytest.mark.parametrize(("profile", "index", "examples"), CHUNKS, ids=[f"{p}-{i}" for p, i, _ in CHUNKS])
def test_cedarlang_matches_cedarpy(profile: str, index: int, examples: int) -> None:
    seed_value = SEED + 1000 * list(SHARES).index(profile) + index
    result = run_profile(PROFILES[profile], examples, seed_value)
    result.stats["chunks"] += 1
    RESULTS[f"{profile}-{index}"] = result
    assert result.stats["cases"] == examples
    if result.mismatches:
        pytest.fail(
            f"cedarlang disagrees with cedarpy (profile {profile!r}, chunk {index}):\n\n"
            + report(result, minimize_seconds=MINIMIZE_SECONDS),
            pytrace=False,
        )
