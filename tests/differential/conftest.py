"""Print a one-line summary of the differential run at the end of the session."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from .runner import RunResult
    from .test_vs_cedarpy import RESULTS

    if not RESULTS:
        return
    total = RunResult()
    for r in RESULTS.values():
        total.merge(r)
    s = total.stats
    terminalreporter.write_line(
        f"differential vs cedarpy: {s['cases']} cases ({s['requests']} requests: "
        f"{s['decision allow']} allow, {s['decision deny']} deny, "
        f"{s['requests with evaluation errors']} with evaluation errors, "
        f"{s['requests rejected']} rejected; {s['policies rejected']} policy sets and "
        f"{s['entities rejected']} entity sets rejected), "
        f"{total.n_mismatching_cases} mismatching cases"
    )
