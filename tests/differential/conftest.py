"""The differential run's mix: printed at the end of the session and checked.

Each ``test_vs_cedarpy`` chunk keeps its statistics in ``RESULTS`` of the process
that ran it.  Under xdist every worker sends its totals to the controller through
``workeroutput``; the controller (or the only process, without xdist) adds them
up, prints the mix in the terminal summary and, when every chunk ran, checks it
against ``runner.MIX_THRESHOLDS``: a run whose generator stopped producing
decided requests (or errors, or rejections) fails the session.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

_KEY = "cedarlang_differential"
_TOTALS: Counter[str] = Counter()
_PROBLEMS: list[str] = []


def _local_totals() -> Counter[str]:
    from .test_vs_cedarpy import RESULTS

    total: Counter[str] = Counter()
    for r in RESULTS.values():
        total.update(r.stats)
    return total


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist controller: collect a finished worker's totals."""
    data = getattr(node, "workeroutput", {}).get(_KEY)
    if data:
        _TOTALS.update(json.loads(data))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if hasattr(config, "workerinput"):  # an xdist worker: hand the totals over
        config.workeroutput[_KEY] = json.dumps(_local_totals())  # type: ignore[attr-defined]
        return
    _TOTALS.update(_local_totals())
    from .runner import mix_problems
    from .test_vs_cedarpy import CHUNKS

    if _TOTALS["chunks"] == len(CHUNKS) and session.exitstatus == pytest.ExitCode.OK:
        _PROBLEMS.extend(mix_problems(_TOTALS))
        if _PROBLEMS:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _TOTALS["chunks"]:
        return
    from .runner import mix_line
    from .test_vs_cedarpy import CHUNKS

    tr = terminalreporter
    tr.write_line(f"differential vs cedarpy: {mix_line(_TOTALS)}")
    if _TOTALS["chunks"] != len(CHUNKS):
        tr.write_line(f"  (mix not checked: {_TOTALS['chunks']} of {len(CHUNKS)} chunks ran)")
    for problem in _PROBLEMS:
        tr.write_line(f"  FAILED differential mix: {problem}", red=True)
