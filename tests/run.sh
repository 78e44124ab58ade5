#!/usr/bin/env bash
# Install pagi with its test and framework-test dependencies into a venv and run the whole suite:
# lint (ruff), types (mypy), then pytest (unit + integration, real processes).
#
#   bash tests/run.sh [pytest args]                        # python3, ./.venv
#   PYTHON=python3.13 VENV=.venv-3.13 bash tests/run.sh    # another interpreter
#   LINT=0 bash tests/run.sh                               # pytest only
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
venv=${VENV:-.venv}
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
echo "== $("$venv/bin/python" --version) in $venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e '.[test,frameworks]'
# atheris (coverage-guided fuzzing) where it installs; else the fuzz test uses hypothesis.
"$venv/bin/python" -m pip install --quiet -e '.[fuzz]' ||
  echo "atheris did not install: bench.fuzz falls back to hypothesis"
if [ "${LINT:-1}" != 0 ]; then
  echo "== ruff"
  "$venv/bin/ruff" check .
  "$venv/bin/ruff" format --check .
  echo "== mypy"
  MYPY="$PWD/$venv/bin/mypy" tools/typecheck.sh
fi
echo "== pytest"
"$venv/bin/python" -m pytest "$@"
