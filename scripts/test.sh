#!/usr/bin/env bash
# Install Queue Studio with its test extras into .venv and run every check CI runs:
# lint and format (ruff), types (mypy on the engine), then the whole test suite offscreen
# (engine, theory validation, experiments on a real Dask cluster, import boundary, every
# example, desktop, packaging build).
# Extra arguments go to pytest (e.g. -m "not slow" to skip the packaging build).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${BASE_PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test,dask]"
echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy engine/"
.venv/bin/mypy engine
echo "== pytest"
.venv/bin/python -m pytest -q "$@"
