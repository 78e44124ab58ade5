"""Heartbeats (--worker-timeout) and recycling (--max-requests, --max-worker-rss)
with real processes."""

from __future__ import annotations

import concurrent.futures
import re
import time

import httpx
import psutil
from harness import Processes
from load import LoadGenerator


def _pids(front_pid: int) -> set[int]:
    return {p.pid for p in psutil.Process(front_pid).children()}


def test_blocked_worker_is_replaced_within_the_timeout_embedded(procs: Processes) -> None:
    front = procs.front("--worker-timeout", "1", app="ops_app:app", workers=2)
    before = _pids(front.pid)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        blocked = pool.submit(httpx.get, front.url + "/block?seconds=30", timeout=30)
        m = front.wait_for_log(r"worker (.*) pid (\d+) has not answered heartbeats", timeout=10)
        detected = time.monotonic() - started
        assert detected < 1 + 0.25 + 1.0, detected  # timeout + one heartbeat (+ log polling)
        victim = int(m.group(2))
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
    assert "pagi_worker_timeouts" not in front.logs()  # (metric, not a log line)


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
