"""h2load, the HTTP/2 load generator (Debian's nghttp2-client): command lines, its summary, runs."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable

from bench.servers import Running
from bench.workload import Config, Unsupported, cpu_figures, cpu_window

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


def h2load_workload(flags: list[str]) -> Callable[[Running, Config], dict[str, float]]:
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


def h2load_count_workload(flags: list[str]) -> Callable[[Running, Config], dict[str, float]]:
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
        return {**figures, **cpu_figures(cpu_s, seconds, figures["requests"])}

    return run
