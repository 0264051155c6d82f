"""Soundness of partial evaluation: bind every unknown of a response at random; then
``reauthorize`` decides exactly as the full authorizer does on the bound request and
bound entities (cedarlang alone, generated cases)."""

from __future__ import annotations

import os

import pytest

from .harness import describe, run

EXAMPLES = int(os.environ.get("CEDAR_PARTIAL_SOUNDNESS_EXAMPLES", "2600"))
SEED = int(os.environ.get("CEDAR_PARTIAL_SEED", "20261130"))


def test_reauthorize_with_every_unknown_bound_equals_full_authorization() -> None:
    result = run(EXAMPLES, SEED + 1, check="soundness")
    stats = result.stats
    print(f"soundness: {dict(stats)}")
    if result.failures:
        pytest.fail(f"{stats['mismatches']} unsound cases:\n\n{describe(result)}", pytrace=False)
    assert stats["checked"] >= 2000
    assert stats["with nontrivial residuals"] >= 0.30 * stats["cases"]
