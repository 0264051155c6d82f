"""The planted-bug script (tests/planted_bugs.py) stays usable: every patch still applies."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.planted_bugs import BUGS, Bug

SRC = Path(__file__).resolve().parents[1] / "src" / "cedarlang"


@pytest.mark.parametrize("bug", BUGS, ids=[bug.name for bug in BUGS])
def test_patch_applies(bug: Bug) -> None:
    for rel, old, new in bug.patches:
        assert (SRC / rel).read_text().count(old) == 1, f"{bug.name}: {rel} no longer has the text to patch"
        assert old != new
