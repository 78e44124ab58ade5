"""Overload: the concurrency limit, the queue bound and the queue deadline,
each crossed with real processes; shed requests are counted and the log is
rate-limited.

Timing under load: nothing here sleeps and hopes. Each test waits until the
front's own view (its control API's ``connections``) shows the requests it set up
running on the worker or waiting for it, and "at once" / "waited" are
checked against the request holding the worker (a shed request answered
while it still runs was not kept waiting; a queued one that ends after its
sleep was over did wait for it) rather than against wall-clock guesses.
"""

from __future__ import annotations

import concurrent.futures
import time
from pathlib import Path
from typing import Any

import httpx
from harness import Processes
from test_control_plane import wait_until


class Reply:
    """One request's status, ``retry-after``, and when it started and ended."""

    def __init__(self, url: str, client: httpx.Client | None = None) -> None:
        self.started = time.monotonic()
        reply = (client or httpx).get(url, timeout=20)
        self.ended = time.monotonic()
        self.status = reply.status_code
        self.retry_after = reply.headers.get("retry-after")

    @property
    def took(self) -> float:
        return self.ended - self.started


def _control(socket_dir: Path, path: str) -> Any:
    """GET ``path`` of the front's control API, on its socket (a pagi-ctl
    process per look is too slow on a loaded machine; pagi-ctl itself is
    tested in test_control_plane.py)."""
    transport = httpx.HTTPTransport(uds=str(socket_dir / "control.sock"))
    with httpx.Client(transport=transport, timeout=20) as control:
        return control.get("http://pagi" + path).json()


def _requests(socket_dir: Path) -> tuple[int, int]:
    """``(waiting, running)``: the requests the front holds now, waiting for a
    worker (worker ``-``) and running on one."""
    entries = _control(socket_dir, "/connections")["connections"]
    current = [c["request"] for c in entries if c["request"]]
    waiting = sum(1 for r in current if r["worker"] == "-")
    return waiting, len(current) - waiting


def _wait_for(socket_dir: Path, waiting: int, running: int) -> None:
    wanted = (waiting, running)
    wait_until(lambda: _requests(socket_dir) == wanted, what=f"(waiting, running) == {wanted}")


def test_limit_concurrency_and_queue_bound(procs: Processes) -> None:
    front = procs.front(
        "--limit-concurrency", "1", "--queue-size", "1", app="ops_app:app", workers=1
    )
    assert _control(procs.socket_dir, "/status")["workers"][0]["capacity"] == 1
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        first = pool.submit(Reply, front.url + "/sleep?seconds=3")
        _wait_for(procs.socket_dir, 0, 1)
        second = pool.submit(Reply, front.url + "/pid")  # waits: the worker is at its capacity
        _wait_for(procs.socket_dir, 1, 1)
        third = Reply(front.url + "/pid")  # the queue (1) is full: shed at once
        assert third.status == 503 and third.retry_after == "1"
        assert not first.done(), "shed at once, not after the worker was free again"
        assert first.result().status == 200
        assert second.result().status == 200
        # it waited for the first one: the worker was not free before its 3 s were over
        assert second.result().ended > first.result().started + 3.0
    stats = _control(procs.socket_dir, "/stats")
    assert stats["shed"]["queue_full"] == 1
    assert _control(procs.socket_dir, "/status")["workers"][0]["served"] == 2
    assert "(--queue-size)" in front.logs()


def test_queue_deadline_sheds_before_a_worker_spends_time(procs: Processes) -> None:
    front = procs.front(
        "--limit-concurrency", "1", "--queue-timeout", "0.5", app="ops_app:app", workers=1
    )
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        busy = pool.submit(Reply, front.url + "/sleep?seconds=4")
        _wait_for(procs.socket_dir, 0, 1)
        shed = Reply(front.url + "/pid")
        assert shed.status == 503 and shed.retry_after == "1"
        assert shed.took > 0.4  # it waited its --queue-timeout
        assert not busy.done(), "shed at its deadline, not when the worker was free again"
        assert busy.result().status == 200
    served = _control(procs.socket_dir, "/status")["workers"][0]["served"]
    assert served == 1  # the shed request never reached the worker
    assert _control(procs.socket_dir, "/stats")["shed"]["queue_timeout"] == 1
    assert "(--queue-timeout)" in front.logs()


def test_shedding_log_is_rate_limited(procs: Processes) -> None:
    front = procs.front(
        "--limit-concurrency", "1", "--queue-size", "0", app="ops_app:app", workers=1
    )
    with concurrent.futures.ThreadPoolExecutor(1) as pool, httpx.Client() as client:
        busy = pool.submit(Reply, front.url + "/sleep?seconds=4")
        _wait_for(procs.socket_dir, 0, 1)
        shed = [Reply(front.url + "/pid", client) for _ in range(20)]
        assert not busy.done(), "all 20 came while the worker was busy"
        assert busy.result().status == 200
    assert [r.status for r in shed] == [503] * 20
    assert _control(procs.socket_dir, "/stats")["shed"]["queue_full"] == 20
    lines = [line for line in front.logs().splitlines() if "503:" in line]
    # at most one a second (LOG_INTERVAL), not one per request
    seconds = shed[-1].ended - shed[0].started
    assert 1 <= len(lines) <= 1 + int(seconds), (lines, seconds)
    assert "shed since the last such line" in front.logs() or len(lines) == 1
