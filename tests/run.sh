#!/usr/bin/env bash
# Install pagi with its test and framework-test dependencies into a venv and run the whole suite:
# lint (ruff), types (mypy), then pytest (unit + integration, real processes).
#
#   bash tests/run.sh [pytest args]                        # python3, ./.venv
#   PYTHON=python3.13 VENV=.venv-3.13 bash tests/run.sh    # another interpreter
#   LINT=0 bash tests/run.sh                               # pytest only
#   COMPILE=1 VENV=.venv-mypyc bash tests/run.sh           # on the mypyc build (setup.py)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
venv=${VENV:-.venv}
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
echo "== $("$venv/bin/python" --version) in $venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
if [ "${COMPILE:-0}" != 0 ]; then
  # The compiled build: one wheel (PAGI_COMPILE=1), installed as a regular
  # package; tests/unit/test_build.py fails if its modules are not the compiled ones.
  rm -rf build/wheels
  PAGI_COMPILE=1 "$venv/bin/python" -m pip wheel --quiet --no-deps -w build/wheels .
  wheel=$(echo build/wheels/pagi_server-*.whl)
  "$venv/bin/python" -m pip install --quiet --force-reinstall --no-deps "$wheel"
  project=$wheel
  export PAGI_EXPECT_BUILD=compiled
else
  project=.
  editable=-e
  export PAGI_EXPECT_BUILD=pure
fi
"$venv/bin/python" -m pip install --quiet ${editable:-} "$project[test,frameworks]"
# atheris (coverage-guided fuzzing) where it installs; else the fuzz test uses hypothesis.
"$venv/bin/python" -m pip install --quiet ${editable:-} "$project[fuzz]" ||
  echo "atheris did not install: bench.fuzz falls back to hypothesis"
echo "== pagi: the $PAGI_EXPECT_BUILD build"
if [ "${LINT:-1}" != 0 ]; then
  echo "== ruff"
  "$venv/bin/ruff" check .
  "$venv/bin/ruff" format --check .
  echo "== mypy"
  MYPY="$PWD/$venv/bin/mypy" tools/typecheck.sh
fi
echo "== pytest"
"$venv/bin/python" -m pytest "$@"
