"""``pagi-ctl top``'s model and screen without a terminal or a front (frontend/ctl_top.py)."""

from __future__ import annotations

import io
import subprocess
import sys
from typing import Any

from pagi.frontend.ctl_top import Sample, TopModel, render
from rich.console import Console


def status(*workers: tuple[int, int, int], capacity: int | None = None) -> dict[str, Any]:
    """A ``GET /status`` answer with workers given as (id, served, in_flight)."""
    return {
        "front": {
            "pid": 10,
            "uptime": 75.0,
            "mode": "embedded",
            "app": "app:app",
            "listeners": [{"url": "http://127.0.0.1:8000", "name": None}],
            "connections": {"http/1.1": 3},
            "shutting_down": False,
        },
        "workers": [
            {
                "id": wid,
                "name": f"app:app #{wid}",
                "pid": 100 + wid,
                "state": "ready",
                "in_flight": in_flight,
                "capacity": capacity,
                "served": served,
                "rss": 40 * 1024 * 1024,
                "last_heartbeat": 0.5,
            }
            for wid, served, in_flight in workers
        ],
    }


def stats(done: int, in_flight: int = 0) -> dict[str, Any]:
    return {
        "requests": {"http": {"none": 0, "2xx": done}, "sse": {}, "websocket": {}},
        "in_flight": in_flight,
        "shed": {"queue_full": 1, "queue_timeout": 0, "no_worker": 0},
    }


def test_rates_come_from_two_samples_and_a_new_worker_has_none_yet() -> None:
    model = TopModel()
    model.update(Sample(10.0, status((1, 100, 0)), stats(100)))
    assert model.requests_per_second() is None
    assert [r.rps for r in model.workers()] == [None]
    model.update(Sample(12.0, status((1, 300, 2), (2, 50, 0)), stats(350)))
    assert model.requests_per_second() == 125.0
    rows = model.workers()
    assert [(r.id, r.served, r.rps) for r in rows] == [(1, 300, 100.0), (2, 50, None)]
    assert rows[0].load is None  # no capacity announced: no load figure


def test_load_is_in_flight_over_capacity() -> None:
    model = TopModel()
    model.update(Sample(1.0, status((1, 0, 3), capacity=4), stats(0)))
    assert model.workers()[0].load == 0.75


def test_a_counter_going_backwards_never_shows_a_negative_rate() -> None:
    model = TopModel()
    model.update(Sample(1.0, status((1, 10, 0)), stats(10)))
    model.update(Sample(2.0, status((1, 4, 0)), stats(4)))  # a replaced worker reusing an id
    assert model.requests_per_second() == 0.0 and model.workers()[0].rps == 0.0


def screen(model: TopModel, height: int = 40, width: int = 100) -> str:
    console = Console(width=width, height=height, record=True, file=io.StringIO())
    console.print(render(model, 1.0, height))
    return console.export_text()


def test_the_screen_shows_front_workers_and_only_as_many_connections_as_fit() -> None:
    conns = [
        {
            "peer": f"127.0.0.1:{5000 + i}",
            "protocol": "http/1.1",
            "age": float(i),
            "bytes_in": 100,
            "bytes_out": 2048,
            "request": {"type": "http", "method": "GET", "target": f"/p{i}", "worker": "w #1"},
        }
        for i in range(50)
    ]
    model = TopModel()
    model.update(Sample(1.0, status((1, 5, 1), (2, 7, 0)), stats(12, 1), conns))
    text = screen(model, height=30)
    assert "pagi-front pid 10  up 1m15s  embedded (app:app)" in text
    assert "in-flight 1  served 12  shed 1" in text
    assert "workers: 2" in text and "app:app #2" in text and "40.0MiB" in text
    assert "connections: 50 (the " in text and "GET /p49" in text  # the oldest first
    assert "GET /p0 " not in text
    assert len(text.rstrip("\n").splitlines()) <= 30


def test_top_without_rich_says_which_extra_to_install() -> None:
    code = (
        "import sys; sys.modules['rich'] = None; sys.argv = ['pagi-ctl', 'top'];"
        "from pagi.frontend.ctl import main; main()"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2
    assert "pip install 'pagi-server[ctl]'" in done.stderr
