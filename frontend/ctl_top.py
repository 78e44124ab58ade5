"""``pagi-ctl top``: a live terminal view of the front, its workers and connections.

Every ``interval`` seconds it reads the control API (``GET /status``,
``/stats`` and ``/connections``: the documented JSON, nothing private) and
redraws one screen with `rich`_'s ``Live`` display: the front (pid, uptime,
listeners, connections by protocol, requests/s, in-flight), one row per
worker (state, load = in-flight / capacity, in-flight, served, requests/s,
RSS, heartbeat) and the open client connections, oldest first, as many as
the terminal has room for. ``q`` (or Ctrl-C) quits and gives the terminal
back as it was.

The parts are kept apart so each can be tested alone:

* :class:`TopModel` is sans-I/O: it takes :class:`Sample` after
  :class:`Sample` and derives the rates (requests/s overall from the
  counters of ``/stats``, per worker from its ``served`` count) from the two
  latest. Invariant: a rate exists only for a worker present in both
  samples (a new worker shows ``-`` for one interval, never a bogus rate).
* :func:`render` turns a model into rich renderables; no I/O.
* :func:`run` is the thin loop: fetch, update, redraw, wait for a key.

.. _rich: https://github.com/Textualize/rich
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import termios
import time
import tty
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from .ctl import CONNECTION_COLUMNS, connection_row, format_age, format_size

#: The keys that quit (Ctrl-C too: see :func:`_keys`).
QUIT_KEYS = frozenset("qQ\x03")


@dataclass(frozen=True)
class Sample:
    """The control API's answers read at one moment (``at``: a monotonic clock)."""

    at: float
    status: dict[str, Any]
    stats: dict[str, Any]
    connections: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class WorkerRow:
    """One worker's line: the status entry plus what two samples tell."""

    id: int
    name: str
    pid: int | None
    state: str
    in_flight: int
    capacity: int | None
    served: int
    rps: float | None
    rss: int | None
    heartbeat: float | None

    @property
    def load(self) -> float | None:
        """In-flight scopes over the capacity the worker announced (None: unbounded)."""
        return None if not self.capacity else self.in_flight / self.capacity


def _finished_requests(stats: dict[str, Any]) -> int:
    return sum(sum(counts.values()) for counts in stats["requests"].values())


class TopModel:
    """The two latest samples and what follows from them."""

    def __init__(self) -> None:
        self.previous: Sample | None = None
        self.current: Sample | None = None

    def update(self, sample: Sample) -> None:
        self.previous, self.current = self.current, sample

    def _elapsed(self) -> float | None:
        if self.previous is None or self.current is None:
            return None
        dt = self.current.at - self.previous.at
        return dt if dt > 0 else None

    def requests_per_second(self) -> float | None:
        """Finished requests per second over the last interval, all workers."""
        dt = self._elapsed()
        if dt is None or self.previous is None or self.current is None:
            return None
        done = _finished_requests(self.current.stats) - _finished_requests(self.previous.stats)
        return max(done, 0) / dt

    def workers(self) -> list[WorkerRow]:
        if self.current is None:
            return []
        dt = self._elapsed()
        before: dict[int, int] = {}
        if self.previous is not None:
            before = {w["id"]: w["served"] for w in self.previous.status["workers"]}
        rows = []
        for w in self.current.status["workers"]:
            served = int(w["served"])
            rate = None
            if dt is not None and w["id"] in before:
                rate = max(served - before[w["id"]], 0) / dt
            rows.append(
                WorkerRow(
                    id=int(w["id"]),
                    name=str(w["name"]),
                    pid=w.get("pid"),
                    state=str(w["state"]),
                    in_flight=int(w["in_flight"]),
                    capacity=w.get("capacity"),
                    served=served,
                    rps=rate,
                    rss=w.get("rss"),
                    heartbeat=w.get("last_heartbeat"),
                )
            )
        return rows


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _header(model: TopModel, interval: float) -> Text:
    assert model.current is not None
    front = model.current.status["front"]
    stats = model.current.stats
    conns = ", ".join(f"{k} {v}" for k, v in sorted(front["connections"].items())) or "none"
    listeners = ", ".join(item["url"] for item in front["listeners"]) or "none"
    mode = f"embedded ({front['app']})" if front["mode"] == "embedded" else "split layout"
    served = sum(w.served for w in model.workers())
    lines = [
        f"pagi-front pid {front['pid']}  up {format_age(front['uptime'])}  {mode}",
        f"listening on {listeners}",
        f"connections: {conns}",
        f"requests/s {_rate(model.requests_per_second())}  in-flight {stats['in_flight']}"
        f"  served {served}  shed {sum(stats['shed'].values())}",
    ]
    if front.get("shutting_down"):
        lines.append("the front is shutting down")
    text = Text("\n".join(lines))
    text.append(f"\nq quits · every {interval:g} s", style="dim")
    return text


def _table(title: str) -> Table:
    # A Text title: rich would highlight the digits of a plain string apart.
    return Table(title=Text(title), title_justify="left", box=box.SIMPLE_HEAD, expand=False)


def _workers_table(rows: list[WorkerRow]) -> Table:
    table = _table(f"workers: {len(rows)}")
    table.add_column("ID", no_wrap=True, min_width=2)
    table.add_column("NAME", no_wrap=True, overflow="ellipsis")  # the one that may shrink
    table.add_column("PID", no_wrap=True, min_width=7)
    table.add_column("STATE", no_wrap=True, min_width=8)
    for name in ("LOAD", "IN-FLIGHT", "SERVED", "REQ/S", "RSS", "HEARTBEAT"):
        table.add_column(name, justify="right", no_wrap=True, min_width=len(name))
    for r in rows:
        load = "-" if r.load is None else f"{100 * r.load:.0f}%"
        beat = "-" if r.heartbeat is None else f"{r.heartbeat:.1f}s ago"
        style = "yellow" if r.state != "ready" else None
        table.add_row(
            str(r.id),
            r.name,
            str(r.pid),
            r.state,
            load,
            str(r.in_flight),
            str(r.served),
            _rate(r.rps),
            format_size(r.rss),
            beat,
            style=style,
        )
    return table


def _connections_table(conns: list[dict[str, Any]], room: int) -> Table:
    shown = sorted(conns, key=lambda c: -(c.get("age") or 0.0))[: max(room, 0)]
    title = f"connections: {len(conns)}"
    if len(shown) < len(conns):
        title += f" (the {len(shown)} oldest shown)"
    table = _table(title)
    for name in CONNECTION_COLUMNS:
        table.add_column(
            name,
            justify="right" if name in ("IN", "OUT") else "left",
            no_wrap=True,
            overflow="ellipsis",
            max_width=48 if name == "REQUEST" else None,
        )
    for c in shown:
        table.add_row(*connection_row(c))
    return table


def render(model: TopModel, interval: float, height: int = 40) -> RenderableType:
    """The whole screen for ``model``, fitted to ``height`` terminal lines."""
    if model.current is None:
        return Text("waiting for the front…")
    workers = model.workers()
    header = _header(model, interval)
    # header lines + two tables' titles, heads and borders (4 + 4 lines each)
    room = height - (len(header.plain.splitlines()) + len(workers) + 8 + 6)
    conns = _connections_table(model.current.connections, room)
    return Group(header, _workers_table(workers), conns)


#: What the key wait returns once Ctrl-C was pressed.
INTERRUPT = "\x03"


@contextlib.contextmanager
def _keys(stream: Any) -> Iterator[Callable[[float], str | None]]:
    """Yield ``wait(timeout) -> key or None``; the terminal is in cbreak mode
    meanwhile (keys arrive unbuffered, unechoed).

    Ctrl-C is a key too: its SIGINT only wakes the wait (through a wake-up
    pipe), which then returns :data:`INTERRUPT`. So it quits at the loop's
    next turn and never lands as ``KeyboardInterrupt`` in the middle of a
    redraw or a request, whatever moment it is pressed at; the previous
    handler comes back on exit."""
    try:
        fd = stream.fileno()
        saved = termios.tcgetattr(fd) if os.isatty(fd) else None
    except (AttributeError, OSError, ValueError):
        fd, saved = -1, None
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    interrupted = False

    def on_sigint(signum: int, frame: object) -> None:
        nonlocal interrupted
        interrupted = True

    def wait(timeout: float) -> str | None:
        if interrupted:
            return INTERRUPT
        fds = [wake_r] if fd < 0 else [fd, wake_r]
        ready, _, _ = select.select(fds, [], [], timeout)
        if interrupted:
            return INTERRUPT
        if fd not in ready:
            return None
        data = os.read(fd, 32)
        if not data:  # stdin closed: only a signal or the timeout ends the wait now
            select.select([wake_r], [], [], timeout)
            return INTERRUPT if interrupted else None
        return data.decode(errors="replace")

    previous = signal.signal(signal.SIGINT, on_sigint)
    previous_wake = signal.set_wakeup_fd(wake_w)
    if saved is not None:
        tty.setcbreak(fd)
    try:
        yield wait
    finally:
        if saved is not None:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        signal.set_wakeup_fd(previous_wake)
        signal.signal(signal.SIGINT, previous)
        os.close(wake_r)
        os.close(wake_w)


Fetch = Callable[[], Sample]


def run(fetch: Fetch, interval: float, console: Console | None = None) -> None:
    """Redraw every ``interval`` seconds until ``q`` or Ctrl-C; exceptions of
    ``fetch`` propagate after the terminal is restored."""
    console = console or Console()
    model = TopModel()
    model.update(fetch())
    with (
        _keys(sys.stdin) as wait,
        Live(
            render(model, interval, console.height),
            console=console,
            screen=True,
            auto_refresh=False,
            redirect_stderr=False,
        ) as live,
    ):
        deadline = time.monotonic() + interval
        while True:
            key = wait(max(deadline - time.monotonic(), 0.0))
            if key is not None and QUIT_KEYS.intersection(key):
                return
            if time.monotonic() < deadline:
                continue
            model.update(fetch())
            live.update(render(model, interval, console.height), refresh=True)
            deadline = time.monotonic() + interval
