"""wrk, the HTTP/1.1 load generator: its command line, its report, one workload run."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.servers import REPO, Running
from bench.workload import Config, cpu_figures, cpu_window


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


def wrk_workload(
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
            **cpu_figures(cpu_s, seconds, report["requests"]),
        }

    return run
