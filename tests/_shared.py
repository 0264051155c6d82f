"""Where the tests find the project's shared data."""

from __future__ import annotations

import os
import pathlib


def conformance_dir() -> pathlib.Path:
    """The conformance data: ``$CEDAR_CONFORMANCE``, else ``<repo>/../shared/conformance``."""
    configured = os.environ.get("CEDAR_CONFORMANCE")
    if configured:
        return pathlib.Path(configured)
    return pathlib.Path(__file__).resolve().parents[2] / "shared" / "conformance"
