"""The catalogue of workloads: what each one sends, with which client, and what it reports.

What a workload is lives in :mod:`bench.workload`; the clients that drive them in
:mod:`bench.wrk_client`, :mod:`bench.h2load_client` and :mod:`bench.python_clients`.
"""

from __future__ import annotations

from collections.abc import Callable

from bench.h2load_client import h2load_count_argv, h2load_count_workload
from bench.python_clients import client_cmd, cold_start, idle, sse_streams, ws_echo
from bench.servers import Running
from bench.workload import Column, Config, Workload
from bench.wrk_client import wrk_argv, wrk_workload

# -- the registry ----------------------------------------------------------------

_H2_HELLO_FLAGS = ["-c16", "-m32"]

_RPS = Column("rps", "req/s", "rate")
_P50 = Column("p50_us", "p50", "us")
_P99 = Column("p99_us", "p99", "us")
# CPU of the server's whole process tree (front and workers) per request.
_CPU = Column("cpu_us", "CPU/req, tree", "cpu_us")

WRK_FLAGS: dict[str, tuple[list[str], str]] = {
    "1": (["-t1", "-c64"], "report.lua"),
    "2": (["-t1", "-c64"], "post16k.lua"),
    "3": (["-t1", "-c64", "-H", "Connection: close"], "report.lua"),
    "4": (["-t1", "-c16"], "report.lua"),
    "5": (["-t1", "-c1"], "report.lua"),
}


def _wrk(id_: str) -> Callable[[Running, Config], dict[str, float]]:
    flags, script = WRK_FLAGS[id_]
    return wrk_workload(flags, script)


def _wrk_client(id_: str) -> Callable[[Config], list[str]]:
    flags, script = WRK_FLAGS[id_]
    return lambda c: wrk_argv(flags, script, c.duration, "PORT")


def _hold(kind: str, count: Callable[[Config], int]) -> Callable[[Config], list[str]]:
    return lambda c: client_cmd("hold", "--kind", kind, "--count", str(count(c)))


_IDLE_COLUMNS = (
    Column("kib_per_conn", "RSS/conn, tree", "kib"),
    Column("front_kib_per_conn", "RSS/conn, pagi front alone", "kib"),
    Column("pss_kib_per_conn", "PSS/conn, tree", "kib"),
)

WORKLOADS: dict[str, Workload] = {
    w.id: w
    for w in (
        Workload(
            id="1",
            name="keepalive-hello",
            title="HTTP/1.1 keep-alive hello, 64 connections",
            app="bench.apps.hello:app",
            client="wrk",
            run=_wrk("1"),
            headline="rps",
            higher_is_better=True,
            columns=(_RPS, _P50, _P99, _CPU),
            client_argv=_wrk_client("1"),
        ),
        Workload(
            id="2",
            name="post-echo-16k",
            title="HTTP/1.1 POST 16 KiB, echoed back, 64 connections",
            app="bench.apps.echo:app",
            client="wrk",
            run=_wrk("2"),
            headline="rps",
            higher_is_better=True,
            columns=(_RPS, Column("mbps", "MB/s read", "mbps"), _P50, _P99, _CPU),
            client_argv=_wrk_client("2"),
        ),
        Workload(
            id="3",
            name="close-hello",
            title="HTTP/1.1 `Connection: close` hello, 64 connections",
            app="bench.apps.hello:app",
            client="wrk",
            run=_wrk("3"),
            headline="rps",
            higher_is_better=True,
            columns=(_RPS, _P50, _P99, _CPU),
            client_argv=_wrk_client("3"),
        ),
        Workload(
            id="4",
            name="stream-1mib",
            title="1 MiB streamed response in 64 KiB chunks, 16 connections",
            app="bench.apps.stream:app",
            client="wrk",
            run=_wrk("4"),
            headline="mbps",
            higher_is_better=True,
            columns=(Column("mbps", "MB/s", "mbps"), _RPS, _P99, _CPU),
            client_argv=_wrk_client("4"),
        ),
        Workload(
            id="5",
            name="sequential-latency",
            title="Single connection, sequential requests (latency)",
            app="bench.apps.hello:app",
            client="wrk",
            run=_wrk("5"),
            headline="p50_us",
            higher_is_better=False,
            columns=(_P50, _P99, _RPS, _CPU),
            client_argv=_wrk_client("5"),
        ),
        Workload(
            id="6",
            name="ws-echo",
            title="WebSocket echo, {ws_conns} connections, {ws_size}-byte text, closed loop",
            app="bench.apps.websocket:app",
            client="python",
            run=ws_echo,
            headline="messages_per_s",
            higher_is_better=True,
            columns=(
                Column("messages_per_s", "messages/s", "rate"),
                Column("cpu_us", "CPU/message, tree", "cpu_us"),
            ),
            client_argv=lambda c: client_cmd(
                "ws-echo", "--conns", str(c.ws_conns), "--size", str(c.ws_size)
            ),
        ),
        Workload(
            id="7",
            name="sse-streams",
            title="SSE: {sse_streams:,} open streams, 1 event/s each",
            app="bench.apps.sse:app",
            client="python",
            run=sse_streams,
            headline="rss_mib",
            higher_is_better=False,
            columns=(
                Column("rss_mib", "RSS tree", "mib"),
                Column("front_rss_mib", "RSS pagi front alone", "mib"),
                Column("cpu_pct", "CPU tree", "pct"),
                Column("events_per_s", "events/s received", "rate"),
            ),
            client_argv=_hold("sse", lambda c: c.sse_streams),
        ),
        Workload(
            id="8a",
            name="idle-http",
            title="Idle memory: {idle_conns:,} idle keep-alive connections",
            app="bench.apps.hello:app",
            client="python",
            run=idle("http"),
            headline="kib_per_conn",
            higher_is_better=False,
            columns=_IDLE_COLUMNS,
            client_argv=_hold("http", lambda c: c.idle_conns),
        ),
        Workload(
            id="8b",
            name="idle-ws",
            title="Idle memory: {idle_conns:,} idle WebSockets",
            app="bench.apps.websocket:app",
            client="python",
            run=idle("ws"),
            headline="kib_per_conn",
            higher_is_better=False,
            columns=_IDLE_COLUMNS,
            client_argv=_hold("ws", lambda c: c.idle_conns),
        ),
        Workload(
            id="9",
            name="cold-start",
            title="Cold start: spawn to first 200",
            app="bench.apps.hello:app",
            client="none",
            run=cold_start,
            headline="cold_start_ms",
            higher_is_better=False,
            columns=(
                Column("cold_start_ms", "spawn → 200", "ms"),
                Column("idle_rss_mib", "idle RSS tree", "mib"),
                Column("idle_pss_mib", "idle PSS tree", "mib"),
            ),
        ),
        Workload(
            id="10",
            name="h2c-hello",
            title="HTTP/2 hello (h2c; h2 by ALPN with --tls), {h2_requests:,} requests, "
            "16 connections x 32 streams",
            app="bench.apps.hello:app",
            client="h2load",
            run=h2load_count_workload(_H2_HELLO_FLAGS),
            headline="rps",
            higher_is_better=True,
            columns=(
                _RPS,
                Column("failed", "failed", "count"),
                Column("mean_us", "mean", "us"),
                Column("max_us", "max", "us"),
                _CPU,
            ),
            client_argv=lambda c: h2load_count_argv(_H2_HELLO_FLAGS, c.h2_requests, "PORT"),
        ),
    )
}

ALIASES = {"8": ["8a", "8b"]}


def select(spec: str) -> list[Workload]:
    """``"all"`` or a comma list of ids (``8`` means ``8a,8b``), in registry order."""
    if spec == "all":
        return list(WORKLOADS.values())
    wanted: set[str] = set()
    for item in (s.strip() for s in spec.split(",") if s.strip()):
        ids = ALIASES.get(item, [item])
        for id_ in ids:
            if id_ not in WORKLOADS:
                raise ValueError(f"unknown workload {item!r}; known: {', '.join(WORKLOADS)}")
            wanted.add(id_)
    return [w for w in WORKLOADS.values() if w.id in wanted]
