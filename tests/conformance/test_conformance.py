"""All of Cedar's official conformance requests, through the public API.

The chunked tests run every request of every test file; ``test_request_count``
pins how many there are, so together they show 62,546 / 62,546.
"""

from __future__ import annotations

import json

import pytest

from .runner import conformance_files, run_file

FILES = conformance_files()
CHUNK = 200


def test_conformance_data_is_complete() -> None:
    assert len(FILES) == 7831


def test_request_count() -> None:
    total = sum(len(json.loads(path.read_text(encoding="utf-8"))["requests"]) for path in FILES)
    assert total == 62546


@pytest.mark.parametrize("start", range(0, len(FILES), CHUNK), ids=lambda s: f"files{s}")
def test_conformance_chunk(start: int) -> None:
    results = [run_file(path) for path in FILES[start : start + CHUNK]]
    failures = [f for r in results for f in r.failures]
    assert sum(r.passed for r in results) == sum(r.requests for r in results), "\n".join(failures[:20])
