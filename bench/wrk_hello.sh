#!/usr/bin/env bash
# Requests/s of `wrk -t1 -c64 -d10s` on examples/hello: pagi with 1 and 2
# workers, and uvicorn (uvloop + httptools, 1 worker) on the same app, in one
# run, alternating servers, REPS repetitions each. Prints medians and ratios.
# Peers are installed into bench/.venv-peers (never into the project venv).
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-3}
DURATION=${DURATION:-10s}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
[ -x .venv/bin/pagi-front ] || { python3 -m venv .venv && .venv/bin/pip install -q -e '.[fast]'; }
if [ ! -x bench/.venv-peers/bin/uvicorn ]; then
  python3 -m venv bench/.venv-peers
  bench/.venv-peers/bin/pip install -q 'uvicorn==0.38.*' 'httptools==0.9.*' 'uvloop==0.23.*'
fi
port=18765
wait_port() { for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/" >/dev/null && return 0; sleep 0.1; done; return 1; }
run_one() {  # name, command...
  local name=$1; shift
  "$@" >/tmp/pagi-bench-$name.log 2>&1 &
  local pid=$!
  wait_port || { echo "$name did not start"; cat /tmp/pagi-bench-$name.log; kill $pid; return 1; }
  wrk -t1 -c64 -d2s "http://127.0.0.1:$port/" >/dev/null   # warm-up
  local rps
  rps=$(wrk -t1 -c64 -d"$DURATION" "http://127.0.0.1:$port/" | awk '/Requests\/sec/ {print $2}')
  kill -TERM $pid; wait $pid 2>/dev/null || true
  echo "$name $rps" | tee -a /tmp/pagi-bench-results
}
rm -f /tmp/pagi-bench-results
for _ in $(seq "$REPS"); do
  run_one pagi-1w .venv/bin/pagi-front --app examples.hello.app:app --workers 1 --bind 127.0.0.1:$port --no-access-log
  run_one pagi-2w .venv/bin/pagi-front --app examples.hello.app:app --workers 2 --bind 127.0.0.1:$port --no-access-log
  run_one uvicorn bench/.venv-peers/bin/uvicorn examples.hello.app:app --port $port --loop uvloop --http httptools --no-access-log --log-level warning
done
python3 - <<'PY'
import statistics, collections
r = collections.defaultdict(list)
for line in open("/tmp/pagi-bench-results"):
    name, rps = line.split(); r[name].append(float(rps))
med = {k: statistics.median(v) for k, v in r.items()}
for k, v in r.items():
    print(f"{k:10s} median {med[k]:10.0f} req/s  (min {min(v):.0f}, max {max(v):.0f})")
for k in ("pagi-1w", "pagi-2w"):
    print(f"{k}/uvicorn = {med[k] / med['uvicorn']:.2f}")
PY
