#!/usr/bin/env bash
# Install Queue Studio into .venv and open it on a bundled example model.
# Extra arguments go to `queuestudio` (e.g. a model file).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${BASE_PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
exec .venv/bin/queuestudio "$@"
