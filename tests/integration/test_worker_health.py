"""Heartbeats (--worker-timeout) and recycling (--max-requests, --max-worker-rss)
with real processes."""

from __future__ import annotations

import concurrent.futures
import re
import time
from datetime import datetime
from pathlib import Path

import httpx
import psutil
from harness import Processes
from load import LoadGenerator
from prometheus_client.parser import text_string_to_metric_families
from test_control_plane import ctl

#: The front's log line for a worker whose loop stopped answering PINGs.
_SILENT = (
    r"(?m)^(\S+ \S+) WARNING front\[\d+\] worker (.*) pid (\d+) has not answered "
    r"heartbeats for ([\d.]+) s"
)
#: --worker-timeout of the embedded test, and the heartbeat tick it implies (timeout / 4).
TIMEOUT = 1.0
TICK = TIMEOUT / 4


def _pids(front_pid: int) -> set[int]:
    return {p.pid for p in psutil.Process(front_pid).children()}


def _logged_at(stamp: str) -> float:
    """The front's log timestamp (``2026-01-02 03:04:05,678``) as a POSIX time."""
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()


def _metric(socket_dir: Path, name: str) -> float:
    """One unlabelled sample of the front's metrics, read over the control socket."""
    text = ctl(socket_dir, "metrics").stdout
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and not sample.labels:
                return float(sample.value)
    raise AssertionError(f"{name} not in the metrics:\n{text}")


def test_blocked_worker_is_replaced_within_the_timeout_embedded(procs: Processes) -> None:
    front = procs.front("--worker-timeout", f"{TIMEOUT:g}", app="ops_app:app", workers=2)
    before = _pids(front.pid)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        blocked = pool.submit(httpx.get, front.url + "/block?seconds=30", timeout=30)
        m = front.wait_for_log(_SILENT, timeout=10)
        victim = int(m.group(3))
        front.wait_for_log(r"worker .* joined", count=3)  # the replacement
        for _ in range(10):  # the others serve; nothing is routed to the blocked one
            assert httpx.get(front.url + "/pid").text != str(victim)
        # Not back within another --worker-timeout: killed; its request gets 502.
        assert blocked.result().status_code == 502
    front.wait_for_log(rf"killing unresponsive worker #\d pid {victim}")
    # the line is written as SIGKILL is sent; the process is reaped just after
    deadline = time.monotonic() + 5
    while victim in _pids(front.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert victim not in _pids(front.pid) and len(_pids(front.pid)) == 2
    assert _pids(front.pid) != before
    # Timed on the front's own clock, so a slow test process cannot skew it: from
    # the request's arrival (its access line's time less its duration) to the
    # warning. Silence counts from the last PONG, a tick or so before the block
    # began; the front notices at the first tick after --worker-timeout; 1 s of
    # slack covers the front's own scheduling on a busy machine.
    access = front.wait_for_log(
        r"(?m)^(\S+ \S+) INFO front\[\d+\] \S+ - \"GET /block\?seconds=30 HTTP/1\.1\" "
        r"502 \d+ ([\d.]+)ms "
    )
    arrived = _logged_at(access.group(1)) - float(access.group(2)) / 1000
    detected = _logged_at(m.group(1)) - arrived
    assert detected < TIMEOUT + TICK + 1.0, detected
    silent = float(m.group(4))  # the front's own count, from the last PONG
    assert TIMEOUT <= silent < TIMEOUT + TICK + 1.0, m.group(0)
    # Counted once, for the blocked worker only (not for its replacement).
    assert _metric(procs.socket_dir, "pagi_worker_timeouts_total") == 1


def test_blocked_worker_is_killed_in_the_production_layout(procs: Processes) -> None:
    front = procs.front("--worker-timeout", "1", wait_workers=0)
    worker = procs.worker("ops_app:app")
    front.wait_for_log(r"worker .* joined")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        blocked = pool.submit(httpx.get, front.url + "/block?seconds=30", timeout=30)
        front.wait_for_log(r"has not answered heartbeats")
        assert worker.wait(5) == -9  # systemd would start it again
        assert blocked.result().status_code == 502
    assert re.search(rf"killing worker .* pid {worker.pid} \(SIGKILL\)", front.logs())


def test_max_requests_recycles_through_the_drain_without_failures(procs: Processes) -> None:
    front = procs.front(
        "--max-requests", "20", "--max-requests-jitter", "5", app="ops_app:app", workers=2
    )
    load = LoadGenerator(front.port, "/pid", keepalive=2, fresh=1).start()
    try:
        front.wait_for_log(r"worker .* drained", timeout=30, count=3)
        load.wait_for(50)
        report = load.stop()
    finally:
        load.stop()
    assert report.failures == [], report.failures[:5]
    assert len(report.bodies) >= 4  # answered by several generations of workers


def test_max_worker_rss_recycles(procs: Processes) -> None:
    front = procs.front("--max-worker-rss", "1M", app="ops_app:app", workers=1)
    load = LoadGenerator(front.port, "/pid", keepalive=1, fresh=1).start()
    try:
        front.wait_for_log(r"recycling worker .* RSS \d+ MiB above --max-worker-rss", count=2)
        report = load.stop()
    finally:
        load.stop()
    assert report.failures == [], report.failures[:5]
