"""The repository's static checks, run as tests: ``ruff check``, ``ruff format --check``
and ``mypy --strict`` (pyproject.toml's ``[tool.mypy]``) over src/, tests/ and tinytodo/.

The tools are part of the ``test`` extra, pinned to exact versions (another ruff formats
differently, another mypy finds different things), so a missing or different tool is a
failure here, not a skip."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TOOLS = ("mypy", "ruff")
# Generous: mypy on everything takes a minute or two without its cache.
TIMEOUT = 1200


def pinned_versions() -> dict[str, set[str]]:
    """Every ``tool==version`` pin of the tools in pyproject.toml's optional dependencies."""
    with open(REPO / "pyproject.toml", "rb") as f:
        extras: dict[str, list[str]] = tomllib.load(f)["project"]["optional-dependencies"]
    pins: dict[str, set[str]] = {tool: set() for tool in TOOLS}
    for requirements in extras.values():
        for requirement in requirements:
            m = re.fullmatch(r"([A-Za-z0-9_.-]+)==([^\s;]+)", requirement)
            if m and m.group(1).lower() in pins:
                pins[m.group(1).lower()].add(m.group(2))
    return pins


@pytest.mark.parametrize("tool", TOOLS)
def test_tool_is_installed_at_its_pinned_version(tool: str) -> None:
    pins = pinned_versions()[tool]
    assert len(pins) == 1, f"pyproject.toml should pin {tool} to exactly one version, found {pins}"
    (pinned,) = pins
    try:
        installed = importlib.metadata.version(tool)
    except importlib.metadata.PackageNotFoundError:
        pytest.fail(f"{tool} is not installed: install the test extra (pip install -e '.[test]')")
    assert installed == pinned, f"{tool} {installed} is installed, pyproject.toml pins {pinned}"


@pytest.mark.parametrize(
    "args",
    [
        ("ruff", "check", "."),
        ("ruff", "format", "--check", "."),
        ("mypy", "src", "tests", "tinytodo"),
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_static_check_passes(args: tuple[str, ...]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert proc.returncode == 0, f"`{' '.join(args)}` failed:\n{proc.stdout}{proc.stderr}"
