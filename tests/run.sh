#!/usr/bin/env bash
# Install pagi with its test dependencies into ./.venv and run the whole suite:
# lint (ruff), types (mypy), then pytest (unit + integration, real processes).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
# atheris (coverage-guided fuzzing) where it installs; else the fuzz test uses hypothesis.
.venv/bin/python -m pip install --quiet -e '.[fuzz]' ||
  echo "atheris did not install: bench.fuzz falls back to hypothesis"
echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy"
tools/typecheck.sh
echo "== pytest"
.venv/bin/python -m pytest "$@"
