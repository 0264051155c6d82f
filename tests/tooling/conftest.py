"""Shared paths and helpers for the tooling tests (EST, formatter, CLI, cedarpy compat)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .._shared import conformance_dir

CONFORMANCE = conformance_dir()


def policy_files() -> list[Path]:
    """Every policy file of the conformance data (corpus and hand-written tests)."""
    if not CONFORMANCE.is_dir():
        return []
    files = sorted((CONFORMANCE / "corpus" / "corpus-tests").glob("*.cedar"))
    return files + sorted((CONFORMANCE / "tests").rglob("*.cedar"))


def chunks(files: list[Path], size: int) -> list[list[Path]]:
    return [files[i : i + size] for i in range(0, len(files), size)]


needs_conformance = pytest.mark.skipif(not CONFORMANCE.is_dir(), reason="conformance data not found")
