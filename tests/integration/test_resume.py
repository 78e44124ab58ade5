"""Event streams resumed on a fresh worker across reloads and worker deaths (docs/resume.md).

The app is ``tests/apps/sse_resume_app.py``: a clock that counts on from the
request's ``Last-Event-ID`` and says in each event which worker pid sent it.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import time
from pathlib import Path
from typing import Any

import httpx
from harness import Front, Processes, run_command
from sse_client import ChunkedStream, events_of

APP = "sse_resume_app:app"
RELOADS = 5


def reload(socket_dir: Path) -> None:
    done = run_command("pagi-ctl", "--socket-dir", str(socket_dir), "reload", timeout=60)
    assert done.returncode == 0 and "done" in done.stdout, done.stdout + done.stderr


class Clock:
    """One raw-socket event stream, read as far as the test asks."""

    def __init__(self, front: Front, path: str = "/events") -> None:
        self.stream = ChunkedStream(front.port, path, timeout=10)
        assert self.stream.read_head() == 200
        self.events: list[dict[str, str]] = []

    def read_to_end(self) -> None:
        """Read until the stream ends (it must, here)."""
        payloads = []
        while (item := self.stream.chunk()) is not None:
            payloads.append(item[1])
        self.events += events_of(payloads)

    def read_until(self, count: int) -> None:
        """Read until ``count`` events arrived in all (fails if the stream ends)."""
        payloads: list[bytes] = []
        while len(self.events) + len(events_of(payloads)) < count:
            item = self.stream.chunk()
            assert item is not None, f"the stream ended: {self.stream.raw[-300:]!r}"
            payloads.append(item[1])
        self.events += events_of(payloads)

    def read_attempt(self, attempt: int) -> None:
        """Read until an event of the scope re-opened ``attempt`` times came,
        and 5 more (the events sent before the move may still be in transit)."""
        while not self.events or self.attempt() != attempt:
            self.read_until(len(self.events) + 1)
        self.read_until(len(self.events) + 5)

    def attempt(self) -> int:
        return int(self.events[-1]["data"].split()[2])

    def pid(self) -> int:
        return int(self.events[-1]["data"].split()[1])

    def ids(self) -> list[int]:
        return [int(event["id"]) for event in self.events]


def assert_one_response(clock: Clock, moves: int) -> None:
    ids = clock.ids()
    assert ids == list(range(1, len(ids) + 1)), ids  # strictly consecutive, from 1
    assert clock.stream.raw.count(b"HTTP/1.1 ") == 1  # one response, start to end
    assert not clock.stream.ended and not clock.stream.closed
    pids = [int(event["data"].split()[1]) for event in clock.events]
    changes = sum(1 for a, b in itertools.pairwise(pids) if a != b)
    assert changes == moves, pids
    attempts = [event["data"].split()[2] for event in clock.events]
    assert attempts[0] == "0" and attempts[-1] == str(moves)


def test_a_stream_is_resumed_through_rolling_reloads(procs: Processes) -> None:
    front = procs.front(app=APP, workers=2)
    clock = Clock(front)
    clock.read_until(5)
    for n in range(1, RELOADS + 1):
        reload(procs.socket_dir)
        clock.read_attempt(n)
    clock.stream.close()
    assert_one_response(clock, RELOADS)
    logs = front.logs()
    assert logs.count("sse.disconnect server_shutdown") == RELOADS
    assert len(re.findall(r"resuming GET /events .* \(was .*, drain; attempt \d", logs)) == RELOADS


def test_a_stream_is_resumed_when_its_worker_is_killed(procs: Processes) -> None:
    front = procs.front(app=APP, workers=2)
    clock = Clock(front)
    clock.read_until(5)
    for n in range(1, RELOADS + 1):
        os.kill(clock.pid(), signal.SIGKILL)
        clock.read_attempt(n)
    clock.stream.close()
    assert_one_response(clock, RELOADS)
    assert front.logs().count("worker lost; attempt") == RELOADS


def test_a_resumed_stream_whose_start_differs_is_ended(procs: Processes) -> None:
    front = procs.front(app=APP, workers=2)
    clock = Clock(front, "/differ")
    clock.read_until(3)
    reload(procs.socket_dir)
    clock.read_to_end()
    assert clock.stream.closed and not clock.stream.ended  # cut: no end marker
    assert "the resumed scope answered 503" in front.logs()


def test_an_app_that_refuses_keeps_the_stream_on_its_worker(procs: Processes) -> None:
    front = procs.front("--graceful-timeout", "1", app=APP, workers=2)
    clock = Clock(front, "/refuse")
    clock.read_until(3)
    pid = clock.pid()
    reload(procs.socket_dir)
    clock.read_to_end()  # cut at the old worker's graceful timeout
    assert clock.stream.closed and not clock.stream.ended
    assert {int(event["data"].split()[1]) for event in clock.events} == {pid}
    assert "resuming" not in front.logs()


def test_no_sse_resume_turns_it_off(procs: Processes) -> None:
    front = procs.front("--no-sse-resume", "--graceful-timeout", "1", app=APP, workers=2)
    clock = Clock(front)
    clock.read_until(3)
    reload(procs.socket_dir)
    clock.read_to_end()
    assert clock.stream.closed and not clock.stream.ended
    assert "resuming" not in front.logs()


def test_a_stream_over_http2_is_resumed(procs: Processes) -> None:
    front = procs.front(app=APP, workers=2)
    events: list[dict[str, str]] = []
    with httpx.Client(http1=False, http2=True, timeout=10) as client:
        headers = {"accept": "text/event-stream"}
        with client.stream("GET", front.url + "/events", headers=headers) as response:
            assert response.http_version == "HTTP/2"
            reloads = 0
            text = ""
            for piece in response.iter_text():
                text += piece
                events = events_of([text.rsplit("\n\n", 1)[0].encode() + b"\n\n"])
                # the next reload once the last one's move shows (and 5 events came)
                if events and int(events[-1]["data"].split()[2]) == reloads:
                    if reloads == 2:
                        break
                    if len(events) >= 5 * (reloads + 1):
                        reload(procs.socket_dir)
                        reloads += 1
    ids = [int(event["id"]) for event in events]
    assert ids == list(range(1, len(ids) + 1))
    assert len({event["data"].split()[1] for event in events}) == 3


def test_event_source_in_chromium_sees_no_error_through_reloads(
    procs: Processes, browser: Any
) -> None:
    front = procs.front(app=APP, workers=2)
    page = browser.new_page()
    try:
        page.goto(front.url + "/")
        page.wait_for_function("window.received.length >= 5", timeout=10_000)
        for n in range(RELOADS):
            reload(procs.socket_dir)
            page.wait_for_function(f"window.received.length >= {10 * (n + 2)}", timeout=15_000)
        time.sleep(0.2)
        received = page.evaluate("window.received")
        opens = page.evaluate("window.opens")
        errors = page.evaluate("window.errors")
    finally:
        page.close()
    assert errors == 0 and opens == 1
    ids = [int(last_id) for last_id, _data in received]
    assert ids == list(range(1, len(ids) + 1))
    assert len({data.split()[1] for _id, data in received}) == RELOADS + 1
