#!/bin/sh
# Rolling restart of every running pagi-worker@ unit (production layout), one
# at a time, so that new application code is loaded without failing a request:
#
#   deploy/rolling-restart.sh            # all running pagi-worker@*.service
#   deploy/rolling-restart.sh 1 2        # only pagi-worker@1 and @2
#
# For each unit: `systemctl restart` sends SIGTERM, the worker drains (the
# front routes nothing new to it, its open requests finish) and exits; systemd
# starts it again with the new code; then the script waits until the front
# reports as many ready workers as before (`pagi-ctl wait`) before touching the
# next unit. If a new worker does not become ready (e.g. an import error, exit
# 2, or a failed lifespan startup, exit 3), the script stops there: the other
# units still run the old code and keep serving. Fix the code and run it again.
#
# Environment: PAGI_CTL (default /opt/pagi/venv/bin/pagi-ctl), PAGI_SOCKET_DIR
# (default /run/pagi), PAGI_READY_TIMEOUT seconds per unit (default 120).
set -eu

ctl=${PAGI_CTL:-/opt/pagi/venv/bin/pagi-ctl}
socket_dir=${PAGI_SOCKET_DIR:-/run/pagi}
timeout=${PAGI_READY_TIMEOUT:-120}

if [ "$#" -gt 0 ]; then
    units=$(for n in "$@"; do printf 'pagi-worker@%s.service\n' "$n"; done)
else
    units=$(systemctl list-units --plain --no-legend --state=running 'pagi-worker@*.service' \
        | awk '{print $1}')
fi
[ -n "$units" ] || { echo "no running pagi-worker@ units" >&2; exit 1; }

ready_now() {
    "$ctl" --socket-dir "$socket_dir" status --json \
        | python3 -c 'import json,sys; print(sum(w["state"] == "ready" for w in json.load(sys.stdin)["workers"]))'
}

expected=$(ready_now)
for unit in $units; do
    echo "restarting $unit (ready workers: $expected)"
    systemctl restart "$unit"
    if ! "$ctl" --socket-dir "$socket_dir" wait --workers "$expected" --wait-timeout "$timeout"; then
        echo "$unit did not come back ready; stopping here (see: journalctl -u $unit)" >&2
        exit 1
    fi
done
echo "rolling restart done: $(ready_now) worker(s) ready"
