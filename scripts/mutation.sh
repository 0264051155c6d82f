#!/usr/bin/env bash
# Mutation testing of ops.py, evaluator.py, compiler.py, index.py and authorizer.py with
# mutmut 3 (configuration: [tool.mutmut] in pyproject.toml). One worker, at low priority.
# Arguments go to `mutmut run` (e.g. a glob of mutant names: 'cedarlang.ops*').
# Afterwards: `mutmut results` lists the survivors, `mutmut show NAME` shows one.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PYTHON:-}" ]; then
    PYTHON=.venv/bin/python
    [ -x "$PYTHON" ] || PYTHON=python3
fi
# the copied tests live in mutants/tests, so point them at the shared corpus explicitly
export CEDAR_CONFORMANCE="${CEDAR_CONFORMANCE:-$(cd .. && pwd)/shared/conformance}"
nice -n 10 "$PYTHON" -m mutmut run --max-children 1 "$@"
