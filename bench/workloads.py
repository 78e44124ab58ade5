"""The workloads: what each one sends, with which client, and what it reports.

A workload's ``run(server, config)`` is called on a freshly started server
that has already answered ``GET /``; it returns a flat dict of metrics (floats)
or raises :class:`Unsupported` when the server does not offer the feature (for
example a WebSocket upgrade answered with a 200). It never sleeps longer than
``warmup + duration`` plus the time needed to open connections and settle.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.servers import REPO, Running, tree_cpu_seconds, tree_memory

WRK_DIR = REPO / "bench" / "wrk"
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


# -- wrk ------------------------------------------------------------------


def wrk_argv(
    flags: list[str],
    script: str,
    duration: int,
    port: int | str,
    path: str = "/",
    scheme: str = "http",
) -> list[str]:
    """The exact wrk command line: fixed flags, then duration, latency, script, URL
    (``scheme`` ``https`` for ``--tls``: wrk does not verify the certificate)."""
    return [
        "wrk",
        *flags,
        f"-d{duration}s",
        "--latency",
        "-s",
        str(Path("bench/wrk") / script),
        f"{scheme}://127.0.0.1:{port}{path}",
    ]


def wrk_report(stdout: str) -> dict[str, Any] | None:
    """The report line our Lua scripts print (``BENCH-JSON {...}``), if any."""
    for line in stdout.splitlines():
        if line.startswith("BENCH-JSON "):
            report: dict[str, Any] = json.loads(line[len("BENCH-JSON ") :])
            return report
    return None


def run_wrk(argv: list[str], timeout: float) -> dict[str, Any]:
    """Run wrk (cwd = repo, so its Lua ``dofile`` paths resolve); return the report line."""
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    report = wrk_report(proc.stdout)
    if report is None:
        raise RuntimeError(
            f"wrk failed ({proc.returncode}): {proc.stdout[-500:]} {proc.stderr[-500:]}"
        )
    return report


def cpu_window(server: Running) -> Callable[[], float]:
    """Start measuring the CPU of the server's whole process tree (every thread,
    schedstat); the function returned gives the CPU seconds spent since."""
    procs = server.tree()
    start = tree_cpu_seconds(procs)
    return lambda: tree_cpu_seconds(procs) - start


def _cpu_figures(cpu_s: float, seconds: float, done: float) -> dict[str, float]:
    """CPU µs per request (or message) of the server tree, and the cores it used."""
    return {"cpu_us": cpu_s * 1e6 / done, "cpu_cores": cpu_s / seconds}


def _wrk_workload(
    flags: list[str], script: str = "report.lua"
) -> Callable[[Running, Config], dict[str, float]]:
    def run(server: Running, config: Config) -> dict[str, float]:
        if config.warmup > 0:
            warm = wrk_argv(flags, script, config.warmup, server.port, scheme=server.scheme)
            run_wrk(warm, config.warmup + 30)
        cpu = cpu_window(server)
        report = run_wrk(
            wrk_argv(flags, script, config.duration, server.port, scheme=server.scheme),
            config.duration + 30,
        )
        cpu_s = cpu()
        seconds = report["duration_us"] / 1e6
        errors = report["errors"]
        lat = report["latency_us"]
        if report["requests"] == 0:
            raise RuntimeError(f"no request completed: {report}")
        return {
            "requests": float(report["requests"]),
            "rps": report["requests"] / seconds,
            "mbps": report["bytes"] / seconds / 1e6,
            "p50_us": float(lat["p50"]),
            "p90_us": float(lat["p90"]),
            "p99_us": float(lat["p99"]),
            "max_us": float(lat["max"]),
            "mean_us": float(lat["mean"]),
            "socket_errors": float(
                errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]
            ),
            "non_2xx": float(errors["status"]),
            **_cpu_figures(cpu_s, seconds, report["requests"]),
        }

    return run


# -- h2load (HTTP/2 workloads) ---------------------------------------------------------
#
# ``bench/run.py`` installs h2load (apt package nghttp2-client) like it installs
# wrk. h2load reports no percentiles, so the latency figures are its
# min/mean/max "time for request". Workload 10 sends a fixed number of
# requests (``-n``) over cleartext HTTP/2 with prior knowledge (h2c), or with
# ``--tls`` over TLS with ALPN offering ``h2`` alone (so a server without
# HTTP/2 fails the handshake instead of being measured over HTTP/1.1).

_H2_FINISHED = re.compile(r"finished in ([\d.]+(?:us|ms|s)), ([\d.]+) req/s")
_H2_REQUESTS = re.compile(r"requests: (\d+) total.*?(\d+) succeeded, (\d+) failed, (\d+) errored")
_H2_TRAFFIC = re.compile(r"traffic: .*?\((\d+)\) total")
_H2_TIME = re.compile(r"time for request:\s+(\S+)\s+(\S+)\s+(\S+)")


def _h2_target(port: int | str, scheme: str) -> list[str]:
    alpn = ["--npn-list=h2"] if scheme == "https" else []
    return [*alpn, f"{scheme}://127.0.0.1:{port}/"]


def h2load_argv(
    flags: list[str], duration: int, port: int | str, scheme: str = "http"
) -> list[str]:
    """h2load over cleartext HTTP/2 with prior knowledge, e.g. flags ``["-c64", "-m10"]``."""
    return ["h2load", *flags, f"-D{duration}", *_h2_target(port, scheme)]


def h2load_count_argv(
    flags: list[str], requests: int, port: int | str, scheme: str = "http"
) -> list[str]:
    """h2load sending exactly ``requests`` requests over h2c (or h2 over TLS),
    e.g. flags ``["-c16", "-m32"]``."""
    return ["h2load", f"-n{requests}", *flags, *_h2_target(port, scheme)]


def _h2_us(text: str) -> float:
    for suffix, factor in (("us", 1.0), ("ms", 1e3), ("s", 1e6)):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    raise ValueError(f"unknown h2load time {text!r}")


def parse_h2load(output: str) -> dict[str, float]:
    """The figures of one h2load run; raises ValueError when its summary is missing."""
    finished = _H2_FINISHED.search(output)
    requests = _H2_REQUESTS.search(output)
    traffic = _H2_TRAFFIC.search(output)
    timing = _H2_TIME.search(output)
    if not (finished and requests and traffic and timing):
        raise ValueError(f"no h2load summary in: {output[-500:]}")
    seconds = _h2_us(finished.group(1)) / 1e6
    return {
        "rps": float(finished.group(2)),
        "requests": float(requests.group(2)),
        "failed": float(requests.group(3)) + float(requests.group(4)),
        "mbps": int(traffic.group(1)) / seconds / 1e6,
        "min_us": _h2_us(timing.group(1)),
        "max_us": _h2_us(timing.group(2)),
        "mean_us": _h2_us(timing.group(3)),
    }


def _h2load_workload(flags: list[str]) -> Callable[[Running, Config], dict[str, float]]:
    def run(server: Running, config: Config) -> dict[str, float]:
        if config.warmup > 0:
            subprocess.run(
                h2load_argv(flags, config.warmup, server.port, server.scheme),
                capture_output=True,
                timeout=config.warmup + 30,
                check=False,
            )
        proc = subprocess.run(
            h2load_argv(flags, config.duration, server.port, server.scheme),
            capture_output=True,
            text=True,
            timeout=config.duration + 30,
            check=False,
        )
        return parse_h2load(proc.stdout)

    return run


def _h2load_count_workload(flags: list[str]) -> Callable[[Running, Config], dict[str, float]]:
    """``config.h2_requests`` requests (a tenth of them first, as warm-up)."""

    def run(server: Running, config: Config) -> dict[str, float]:
        if config.warmup > 0:
            warm = max(config.h2_requests // 10, 1)
            subprocess.run(
                h2load_count_argv(flags, warm, server.port, server.scheme),
                capture_output=True,
                timeout=120,
                check=False,
            )
        cpu = cpu_window(server)
        proc = subprocess.run(
            h2load_count_argv(flags, config.h2_requests, server.port, server.scheme),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        cpu_s = cpu()
        figures = parse_h2load(proc.stdout)
        if figures["requests"] == 0:
            if server.tls is not None:
                raise Unsupported("no request succeeded over TLS with ALPN h2 (no HTTP/2)")
            raise Unsupported("no request succeeded over h2c (no HTTP/2 prior knowledge)")
        seconds = figures["requests"] / figures["rps"]
        return {**figures, **_cpu_figures(cpu_s, seconds, figures["requests"])}

    return run


# -- python clients -----------------------------------------------------------


def client_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "bench.clients", *args]


def tls_flag(server: Running) -> list[str]:
    """``["--tls"]`` for ``bench.clients`` when ``server`` listens over TLS."""
    return [] if server.tls is None else ["--tls"]


class HeldConnections:
    """A ``bench.clients hold`` subprocess: N connections kept open until :meth:`stop`."""

    def __init__(
        self, kind: str, port: int, count: int, timeout: float = 120.0, tls: bool = False
    ) -> None:
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        argv = client_cmd("hold", "--kind", kind, "--port", str(port), "--count", str(count))
        self.proc = subprocess.Popen(
            argv + (["--tls"] if tls else []),
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self.ready = self._reply(timeout)
        if self.ready.get("open", 0) == 0:
            self.close()
            error = str(self.ready.get("first_error"))
            if error.startswith("HandshakeRefused"):
                raise Unsupported(error)
            raise RuntimeError(f"no {kind} connection could be opened: {error}")

    def _reply(self, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                status = self.proc.wait()
                self._stderr.seek(0)
                tail = self._stderr.read()[-1500:].decode(errors="replace")
                raise RuntimeError(f"client exited ({status}) without answering: {tail}")
            if line.startswith("{"):
                reply: dict[str, Any] = json.loads(line)
                return reply
        raise RuntimeError("client did not answer in time")

    def command(self, word: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(word + "\n")
        self.proc.stdin.flush()
        return self._reply(60.0)

    def stop(self) -> dict[str, Any]:
        reply = self.command("stop")
        self.close()
        return reply

    def close(self) -> None:
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._stderr.close()


def _ws_echo(server: Running, config: Config) -> dict[str, float]:
    argv = client_cmd(
        "ws-echo",
        "--port",
        str(server.port),
        "--conns",
        str(config.ws_conns),
        "--size",
        str(config.ws_size),
        "--warmup",
        str(config.warmup),
        "--duration",
        str(config.duration),
        *tls_flag(server),
    )
    timeout = config.warmup + config.duration + 60
    # The client measures its own window after its warm-up; the server's CPU is
    # read inside that window (a margin each side) and divided by the rate.
    margin = min(0.5, config.duration / 4)
    client = subprocess.Popen(
        argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    time.sleep(config.warmup + margin)
    cpu, t0 = cpu_window(server), time.perf_counter()
    time.sleep(config.duration - 2 * margin)
    cpu_s, window = cpu(), time.perf_counter() - t0
    try:
        stdout, stderr = client.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        client.kill()
        stdout, stderr = client.communicate()
    proc = subprocess.CompletedProcess(argv, client.returncode, stdout, stderr)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"ws client failed ({proc.returncode}): {proc.stderr[-800:]}")
    report = json.loads(lines[-1])
    if not report["ok"]:
        if str(report.get("error", "")).startswith("HandshakeRefused"):
            raise Unsupported(report["error"])
        raise RuntimeError(f"ws echo failed: {report}")
    rate = float(report["messages_per_s"])
    return {
        "messages_per_s": rate,
        "connections": float(report["connections"]),
        "failed_connections": float(report["errors"]),
        **_cpu_figures(cpu_s, window, rate * window),
    }


def _sse_streams(server: Running, config: Config) -> dict[str, float]:
    held = HeldConnections("sse", server.port, config.sse_streams, tls=server.tls is not None)
    try:
        time.sleep(config.settle)
        held.command("mark")
        procs = server.tree()
        cpu0, t0 = tree_cpu_seconds(procs), time.perf_counter()
        time.sleep(config.duration)
        procs = server.tree()
        cpu1, t1 = tree_cpu_seconds(procs), time.perf_counter()
        mem = tree_memory(procs)
        front = tree_memory(procs[:1])
        result = held.stop()
    except BaseException:
        held.proc.kill()
        held.close()
        raise
    metrics = {
        "streams_open": float(result["open"]),
        "streams_failed": float(held.ready["failed"]),
        "events_per_s": result["events"] / result["seconds"],
        "cpu_pct": 100.0 * (cpu1 - cpu0) / (t1 - t0),
        "rss_mib": mem["rss"] / MiB,
        "pss_mib": mem["pss"] / MiB,
        "processes": float(len(procs)),
    }
    if server.server.is_pagi:  # the main process of a peer is all of it, or a supervisor
        metrics["front_rss_mib"] = front["rss"] / MiB
    return metrics


def _idle(kind: str) -> Callable[[Running, Config], dict[str, float]]:
    def run(server: Running, config: Config) -> dict[str, float]:
        time.sleep(config.settle / 2)
        procs = server.tree()
        before, front_before = tree_memory(procs), tree_memory(procs[:1])
        held = HeldConnections(kind, server.port, config.idle_conns, tls=server.tls is not None)
        try:
            time.sleep(config.settle)
            procs = server.tree()
            after, front_after = tree_memory(procs), tree_memory(procs[:1])
            result = held.stop()
        except BaseException:
            held.proc.kill()
            held.close()
            raise
        n = max(int(result["open"]), 1)
        metrics = {
            "open": float(result["open"]),
            "failed": float(held.ready["failed"]),
            "kib_per_conn": (after["rss"] - before["rss"]) / n / 1024,
            "pss_kib_per_conn": (after["pss"] - before["pss"]) / n / 1024,
            "rss_before_mib": before["rss"] / MiB,
            "rss_after_mib": after["rss"] / MiB,
        }
        if server.server.is_pagi:
            metrics["front_kib_per_conn"] = (front_after["rss"] - front_before["rss"]) / n / 1024
        return metrics

    return run


def _cold_start(server: Running, config: Config) -> dict[str, float]:
    time.sleep(config.settle / 2)
    procs = server.tree()
    mem = tree_memory(procs)
    return {
        "cold_start_ms": server.cold_start_s * 1000,
        "idle_rss_mib": mem["rss"] / MiB,
        "idle_pss_mib": mem["pss"] / MiB,
        "processes": float(len(procs)),
    }


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
    return _wrk_workload(flags, script)


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
            run=_ws_echo,
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
            run=_sse_streams,
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
            run=_idle("http"),
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
            run=_idle("ws"),
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
            run=_cold_start,
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
            run=_h2load_count_workload(_H2_HELLO_FLAGS),
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
