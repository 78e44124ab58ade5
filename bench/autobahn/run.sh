#!/usr/bin/env bash
# The Autobahn Testsuite's fuzzing client against pagi (docs/websocket.md).
#
#   bash bench/autobahn/run.sh               # categories 1-7, 9, 10, 12, 13 (~15 min)
#   bash bench/autobahn/run.sh 1-7,10        # only some categories (here: ~15 s)
#
# Needs Python 2.7 (pyenv's, or PYTHON27=/path/to/python2.7). Builds the test
# suite's virtualenv in $AUTOBAHN_VENV (default /tmp/autobahn-venv) from the
# pinned requirements-py27.txt, starts pagi-front with the echo app
# bench/apps/websocket.py and one worker on 127.0.0.1:$PORT (default 9001),
# runs wstest -m fuzzingclient with fuzzingclient.json (the cases narrowed to
# the categories asked for), and prints per-category counts from the report
# (bench/autobahn/reports/, not kept in git). Exit status 1 if any case is
# NON-STRICT or FAILED.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
venv=${AUTOBAHN_VENV:-/tmp/autobahn-venv}
port=${PORT:-9001}
categories=${1:-1-7,9,10,12,13}
py27=${PYTHON27:-/root/.pyenv/versions/2.7.18/bin/python}

if [ ! -x "$venv/bin/wstest" ]; then
  "$py27" -m virtualenv --version >/dev/null 2>&1 || "$py27" -m pip install --user 'virtualenv<20.22'
  "$py27" -m virtualenv "$venv"
  "$venv/bin/pip" install -r "$here/requirements-py27.txt"
fi

# "1-7,9" -> ["1.*", "2.*", ..., "7.*", "9.*"]
cases=$("$repo/.venv/bin/python" - "$categories" <<'PY'
import json, sys
out = []
for part in sys.argv[1].split(","):
    lo, _, hi = part.partition("-")
    out += [f"{n}.*" for n in range(int(lo), int(hi or lo) + 1) if n not in (8, 11)]
print(json.dumps(out))
PY
)
reports="$here/reports"
rm -rf "$reports"
config=$(mktemp)
sed -e "s#\"cases\": \[.*\]#\"cases\": $cases#" -e "s#ws://127.0.0.1:9001#ws://127.0.0.1:$port#" \
    -e "s#\"outdir\": \".*\"#\"outdir\": \"$reports\"#" "$here/fuzzingclient.json" > "$config"

log=$(mktemp)
PYTHONPATH="$repo" "$repo/.venv/bin/pagi-front" --app bench.apps.websocket:app --app-dir "$repo" \
  --workers 1 --bind "127.0.0.1:$port" --no-access-log >"$log" 2>&1 &
front=$!
trap 'kill $front 2>/dev/null; wait $front 2>/dev/null; rm -f "$config" "$log"' EXIT
for _ in $(seq 100); do
  grep -q "joined" "$log" && break
  sleep 0.1
done

(cd "$(mktemp -d)" && "$venv/bin/wstest" -m fuzzingclient -s "$config")
"$repo/.venv/bin/python" "$here/summary.py" "$reports" --details
