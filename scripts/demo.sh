#!/usr/bin/env bash
# Main job: create/refresh .venv, install cedarlang + TinyTodo, run the blog's TinyTodo walkthrough.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[tinytodo]"
exec .venv/bin/python scripts/walkthrough.py "$@"
