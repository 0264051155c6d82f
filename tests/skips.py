"""The one place that says which tests may skip, and which outside services tests need.

Under CI (``CI=true``; ``.ci/run`` sets it) tests/conftest.py turns every skip into a
failure unless the skipped test's node id is a key of :data:`ALLOWED_SKIPS`, whose value
says why that skip is legitimate. A skip at collection time (a module-level
``pytest.importorskip`` or ``pytest.skip(..., allow_module_level=True)``) is checked the
same way against the module's node id. Outside CI skips behave as usual.

A test that needs an outside service says so with ``@requires_service("postgresql")``
(also usable as a ``pytest.param(..., marks=requires_service(...))`` mark). When the
service is not available it skips locally and fails under CI, with a line saying how to
provide the service.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import pytest

ALLOWED_SKIPS: Final[dict[str, str]] = {
    # "tests/path/test_x.py::test_name[param]": "why this skip is legitimate in a green CI run",
}


@dataclass(frozen=True)
class Service:
    available: Callable[[], bool]
    how_to_provide: str


SERVICES: Final[dict[str, Service]] = {
    "postgresql": Service(
        available=lambda: bool(os.environ.get("TINYTODO_TEST_POSTGRES_URL")),
        how_to_provide=(
            'set TINYTODO_TEST_POSTGRES_URL, e.g. `eval "$(bash scripts/postgres.sh start)"` '
            "(.ci/run does this)"
        ),
    ),
    "chromium": Service(
        available=lambda: chromium_path() is not None,
        how_to_provide=(
            "install Debian's browser, `apt-get install chromium` (.ci/run does this), or set "
            "CHROMIUM to a Chromium executable; no browser is ever downloaded"
        ),
    ),
}


def chromium_path() -> str | None:
    """The Chromium the browser tests drive: ``$CHROMIUM``, else ``chromium`` on the PATH."""
    return os.environ.get("CHROMIUM") or shutil.which("chromium")


requires_service = pytest.mark.requires_service


def on_ci() -> bool:
    """True when running under CI (``CI`` set to true/1/yes), where skips must be listed."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
