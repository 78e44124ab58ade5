"""Overload: the concurrency limit, the queue bound and the queue deadline,
each crossed with real processes; shed requests are counted and the log is
rate-limited."""

from __future__ import annotations

import concurrent.futures
import time

import httpx
from harness import Processes
from test_control_plane import ctl_json


def _get(url: str) -> tuple[int, float, str | None]:
    started = time.monotonic()
    reply = httpx.get(url, timeout=20)
    return reply.status_code, time.monotonic() - started, reply.headers.get("retry-after")


def test_limit_concurrency_and_queue_bound(procs: Processes) -> None:
    front = procs.front(
        "--limit-concurrency", "1", "--queue-size", "1", app="ops_app:app", workers=1
    )
    assert ctl_json(procs.socket_dir, "status")["workers"][0]["capacity"] == 1
    url = front.url + "/sleep?seconds=1"
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        first = pool.submit(_get, url)
        time.sleep(0.3)
        second = pool.submit(_get, url)  # waits: the worker is at its capacity
        time.sleep(0.3)
        third = pool.submit(_get, url)  # the queue (1) is full: shed at once
        status, took, retry = third.result()
        assert status == 503 and retry == "1" and took < 0.5
        assert first.result()[0] == 200
        status, took, _ = second.result()
        assert status == 200 and took > 1.0  # it waited for the first one
    stats = ctl_json(procs.socket_dir, "stats")
    assert stats["shed"]["queue_full"] == 1
    assert ctl_json(procs.socket_dir, "status")["workers"][0]["served"] == 2
    assert "(--queue-size)" in front.logs()


def test_queue_deadline_sheds_before_a_worker_spends_time(procs: Processes) -> None:
    front = procs.front(
        "--limit-concurrency", "1", "--queue-timeout", "0.5", app="ops_app:app", workers=1
    )
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        busy = pool.submit(_get, front.url + "/sleep?seconds=2")
        time.sleep(0.3)
        status, took, retry = _get(front.url + "/pid")
        assert status == 503 and retry == "1"
        assert 0.4 < took < 1.5
        assert busy.result()[0] == 200
    served = ctl_json(procs.socket_dir, "status")["workers"][0]["served"]
    assert served == 1  # the shed request never reached the worker
    assert ctl_json(procs.socket_dir, "stats")["shed"]["queue_timeout"] == 1
    assert "(--queue-timeout)" in front.logs()


def test_shedding_log_is_rate_limited(procs: Processes) -> None:
    front = procs.front(
        "--limit-concurrency", "1", "--queue-size", "0", app="ops_app:app", workers=1
    )
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        busy = pool.submit(_get, front.url + "/sleep?seconds=4")
        time.sleep(0.3)
        statuses = [_get(front.url + "/pid")[0] for _ in range(20)]  # well within 4 s
        assert busy.result()[0] == 200
    assert statuses == [503] * 20
    assert ctl_json(procs.socket_dir, "stats")["shed"]["queue_full"] == 20
    lines = [line for line in front.logs().splitlines() if "503:" in line]
    assert 1 <= len(lines) <= 3, lines  # at most one a second, not one per request
    assert "shed since the last such line" in front.logs() or len(lines) == 1
