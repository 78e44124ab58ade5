"""What a workload is: its knobs, its columns, and how its server's CPU is read.

A workload's ``run(server, config)`` is called on a freshly started server
that has already answered ``GET /``; it returns a flat dict of metrics (floats)
or raises :class:`Unsupported` when the server does not offer the feature (for
example a WebSocket upgrade answered with a 200). It never sleeps longer than
``warmup + duration`` plus the time needed to open connections and settle.
The catalogue of workloads is :mod:`bench.workloads`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bench.process_meters import tree_cpu_seconds
from bench.servers import Running

MiB = 1024 * 1024


@dataclass(frozen=True)
class Config:
    """Knobs shared by all workloads (seconds are whole numbers for wrk)."""

    duration: int = 5
    warmup: int = 1
    ws_conns: int = 32
    ws_size: int = 64
    idle_conns: int = 2000
    sse_streams: int = 2000
    settle: float = 1.0
    h2_requests: int = 200_000
    tls: bool = False  # every server listens over TLS (bench/run.sh --tls)


class Unsupported(Exception):
    """The server does not offer what the workload needs (reported, not an error)."""


@dataclass(frozen=True)
class Column:
    """One metric column of the Markdown table. ``unit`` selects the formatting."""

    key: str
    label: str
    unit: str  # rate | us | ms | mbps | mib | kib | pct | count | cpu_us


@dataclass(frozen=True)
class Workload:
    id: str
    name: str
    title: str
    app: str
    client: str  # what generates the load: wrk | python | none | h2load
    run: Callable[[Running, Config], dict[str, float]]
    headline: str  # the metric the pagi/peer ratio is taken on
    higher_is_better: bool
    columns: tuple[Column, ...]
    client_argv: Callable[[Config], list[str]] = field(default=lambda c: [])


def cpu_window(server: Running) -> Callable[[], float]:
    """Start measuring the CPU of the server's whole process tree (every thread,
    schedstat); the function returned gives the CPU seconds spent since."""
    procs = server.tree()
    start = tree_cpu_seconds(procs)
    return lambda: tree_cpu_seconds(procs) - start


def cpu_figures(cpu_s: float, seconds: float, done: float) -> dict[str, float]:
    """CPU µs per request (or message) of the server tree, and the cores it used."""
    return {"cpu_us": cpu_s * 1e6 / done, "cpu_cores": cpu_s / seconds}
