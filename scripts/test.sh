#!/usr/bin/env bash
# Create/refresh .venv, install cedarlang with its test dependencies, run the whole suite on
# two workers (pytest-xdist; PYTEST_WORKERS=1 runs it in one process).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
WORKERS="${PYTEST_WORKERS:-2}"
if [ "$WORKERS" -gt 1 ]; then
    exec .venv/bin/python -m pytest -n "$WORKERS" "$@"
fi
exec .venv/bin/python -m pytest "$@"
