#!/usr/bin/env bash
# Install pagi with its test and framework-test dependencies into ./.venv and run the whole suite:
# lint (ruff), types (mypy), then pytest (unit + integration, real processes).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test,frameworks]'
echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy"
tools/typecheck.sh
echo "== pytest"
.venv/bin/python -m pytest "$@"
