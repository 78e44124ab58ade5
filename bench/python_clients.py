"""Workloads driven by pagi's own Python clients (``bench.clients``) or by no client.

WebSocket echo, many held SSE streams or idle connections, and the cold start.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from bench.process_meters import tree_cpu_seconds, tree_memory
from bench.servers import REPO, Running
from bench.workload import Config, MiB, Unsupported, cpu_figures, cpu_window


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


def ws_echo(server: Running, config: Config) -> dict[str, float]:
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
        **cpu_figures(cpu_s, window, rate * window),
    }


def sse_streams(server: Running, config: Config) -> dict[str, float]:
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


def idle(kind: str) -> Callable[[Running, Config], dict[str, float]]:
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


def cold_start(server: Running, config: Config) -> dict[str, float]:
    time.sleep(config.settle / 2)
    procs = server.tree()
    mem = tree_memory(procs)
    return {
        "cold_start_ms": server.cold_start_s * 1000,
        "idle_rss_mib": mem["rss"] / MiB,
        "idle_pss_mib": mem["pss"] / MiB,
        "processes": float(len(procs)),
    }
