"""Partial evaluation must answer exactly like cedarpy's ``is_authorized_partial`` (Rust
``partial-eval``): decision, residual ids, residual JSON, diagnostics (as sets), errors.

Knobs: ``CEDAR_PARTIAL_EXAMPLES`` (default 3500 generated cases, of which cedarpy rejects
the policies of about a tenth) and ``CEDAR_PARTIAL_SEED``.
"""

from __future__ import annotations

import os

import pytest

from .harness import describe, run

EXAMPLES = int(os.environ.get("CEDAR_PARTIAL_EXAMPLES", "3500"))
SEED = int(os.environ.get("CEDAR_PARTIAL_SEED", "20261130"))


def test_partial_evaluation_matches_cedarpy() -> None:
    result = run(EXAMPLES, SEED)
    stats = result.stats
    print(f"partial vs cedarpy: {dict(stats)}")
    if result.failures:
        pytest.fail(f"{stats['mismatches']} mismatching cases:\n\n{describe(result)}", pytrace=False)
    compared = stats["cases"] - stats["inputs rejected"]
    assert stats["cases"] >= 3000
    # the mix: the run must not silently degenerate
    assert stats["with nontrivial residuals"] >= 0.30 * compared
    assert stats["decision Allow"] >= 0.03 * compared
    assert stats["decision Deny"] >= 0.10 * compared
    assert stats["decision None"] >= 0.20 * compared
    assert stats["with errors"] >= 0.01 * compared
    assert stats["with unknown entities"] >= 0.05 * compared
    assert stats["inputs rejected"] >= 0.01 * stats["cases"]
