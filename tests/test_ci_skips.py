"""The CI rules of tests/conftest.py: an unlisted skip fails under CI=true, a listed one
stays a skip, and a test that requires a missing service skips locally but fails in CI.

Each case runs pytest in a subprocess on a throwaway folder whose conftest.py uses the
suite's hooks, so the outcome is the one a real run reports."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

CONFTEST = """
from tests import skips
skips.ALLOWED_SKIPS["test_cases.py::test_listed_skip"] = "listed for this test"
from tests.conftest import (  # noqa: F401  (the hooks)
    pytest_configure, pytest_make_collect_report, pytest_runtest_makereport, pytest_runtest_setup,
)
"""

CASES = """
import pytest
from tests.skips import requires_service

def test_unlisted_skip():
    pytest.skip("no reason that CI accepts")

def test_listed_skip():
    pytest.skip("a listed skip")

@pytest.mark.skipif(True, reason="a skipif mark")
def test_skipif_mark():
    pass

@requires_service("postgresql")
def test_needs_postgres():
    pass

@pytest.fixture(params=["local", pytest.param("pg", marks=requires_service("postgresql"))])
def backend(request):
    return request.param

def test_with_backend(backend):
    assert backend in ("local", "pg")

def test_runs():
    pass
"""

SKIPPED_MODULE = """
import pytest
pytest.importorskip("a_module_that_does_not_exist_anywhere")

def test_never_collected():
    pass
"""


def run_pytest(folder: Path, *, ci: str | None) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "TINYTODO_TEST_POSTGRES_URL")}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "src"), env.get("PYTHONPATH", "")])
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the inner runs need no plugin; starts faster
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-rA",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(folder),
            str(folder),
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "conftest.py").write_text(textwrap.dedent(CONFTEST))
    (tmp_path / "test_cases.py").write_text(textwrap.dedent(CASES))
    return tmp_path


def outcomes(output: str) -> dict[str, str]:
    """test name (with parameters) -> PASSED / SKIPPED / FAILED / ERROR, from the -rA summary."""
    found: dict[str, str] = {}
    for line in output.splitlines():
        word, _, rest = line.partition(" ")
        if word in ("PASSED", "SKIPPED", "FAILED", "ERROR") and "::" in rest:
            found[rest.split("::", 1)[1].split(" ", 1)[0]] = word
    return found


def test_outside_ci_skips_stay_skips(folder: Path) -> None:
    code, output = run_pytest(folder, ci=None)
    assert code == 0, output
    assert "2 passed, 5 skipped" in output, output


def test_under_ci_only_listed_skips_remain(folder: Path) -> None:
    code, output = run_pytest(folder, ci="true")
    assert code == 1, output
    got = outcomes(output)
    assert got["test_unlisted_skip"] == "FAILED", output
    assert got["test_skipif_mark"] == "ERROR", output  # a skipif skips in setup: now a setup error
    assert got["test_needs_postgres"] == "ERROR", output
    assert got["test_with_backend[pg]"] == "ERROR", output
    assert got["test_with_backend[local]"] == "PASSED", output
    assert got["test_runs"] == "PASSED", output
    assert "1 skipped" in output, output  # test_listed_skip
    assert "tests/skips.py does not list it: no reason that CI accepts" in output
    assert "needs postgresql: set TINYTODO_TEST_POSTGRES_URL" in output
    assert "CI=true: a missing service fails the run" in output


def test_under_ci_a_skipped_module_fails_collection(folder: Path) -> None:
    (folder / "test_skipped_module.py").write_text(textwrap.dedent(SKIPPED_MODULE))
    code, output = run_pytest(folder, ci="true")
    assert code == 2, output  # a collection error interrupts the run
    assert "test_skipped_module.py skipped under CI=true" in output, output
    assert "a_module_that_does_not_exist_anywhere" in output
    code, output = run_pytest(folder, ci="false")
    assert code == 0, output
