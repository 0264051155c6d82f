"""Where the tests find the shared data: one place for every test module.

The conformance data (Cedar's ``cedar-integration-tests`` layout) is
``$CEDAR_CONFORMANCE`` if set, else ``shared/conformance`` beside the repository
(``../shared/conformance`` from its root), as on the developers' machines and CI.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
"""The repository's root folder (the one holding ``src/`` and ``tests/``)."""


def conformance_dir() -> Path:
    """The conformance data folder: ``$CEDAR_CONFORMANCE``, else ``../shared/conformance``."""
    configured = os.environ.get("CEDAR_CONFORMANCE")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "conformance"


def corpus_dir() -> Path:
    """The generated corpus inside the conformance data (``corpus/corpus-tests``)."""
    return conformance_dir() / "corpus" / "corpus-tests"
