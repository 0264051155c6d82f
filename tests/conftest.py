"""Suite-wide rules: under CI a skip is a failure unless tests/skips.py lists it, and a
test marked ``requires_service`` skips (locally) or fails (CI) without that service."""

from __future__ import annotations

from collections.abc import Generator

import pytest

from tests.skips import ALLOWED_SKIPS, SERVICES, on_ci


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requires_service(name): the test needs an outside service (see tests/skips.py SERVICES); "
        "it skips without it, and fails under CI=true",
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("requires_service"):
        for name in mark.args:
            service = SERVICES.get(name)
            if service is None:
                pytest.fail(f"unknown service {name!r} in requires_service (known: {sorted(SERVICES)})")
            if service.available():
                continue
            message = f"needs {name}: {service.how_to_provide}"
            if on_ci():
                pytest.fail(f"{message} [CI=true: a missing service fails the run]", pytrace=False)
            pytest.skip(message)


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        path, line, reason = longrepr
        return f"{reason.removeprefix('Skipped: ')} ({path}:{line})"
    return str(longrepr)


def _unlisted_skip_fails(report: pytest.TestReport | pytest.CollectReport) -> None:
    if not on_ci() or not report.skipped or hasattr(report, "wasxfail"):
        return
    if report.nodeid in ALLOWED_SKIPS:
        return
    reason = _skip_reason(report)
    report.outcome = "failed"
    report.longrepr = (
        f"{report.nodeid} skipped under CI=true, but tests/skips.py does not list it: {reason}\n"
        "Make the test run, or add its node id to ALLOWED_SKIPS with the reason."
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    _unlisted_skip_fails(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    _unlisted_skip_fails(report)
    return report
