#!/usr/bin/env bash
# The benchmark suite in one command (docs/performance.md):
#
#   bash bench/run.sh                      # every workload × every server, 3 repetitions
#   bash bench/run.sh --servers pagi-1w,uvicorn-httptools --workloads 1,5 --reps 5
#   bash bench/run.sh --profile worker --workload 1      # py-spy flame graph + top table
#   bash bench/run.sh --list                             # servers and workloads
#
# Makes sure the project venv exists (as tests/run.sh does), then hands over to
# bench/run.py, which installs what the selection needs (wrk via apt-get, the
# pinned peers and py-spy into bench/.venv-peers) and writes bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/pagi-front ] || ! .venv/bin/python -c 'import psutil, uvloop, httptools, matplotlib' 2>/dev/null; then
  [ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
  .venv/bin/python -m pip install --quiet -e '.[test,bench]'
fi
exec .venv/bin/python -m bench.run "$@"
