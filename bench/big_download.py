"""One big download through pagi: MB/s and the peak RSS of front and worker.

``python -m bench.big_download [--mib 1024] [--transports h2-tls,h1-tls,h2c,h1]``

For each transport a fresh ``pagi-front`` (embedded, one worker, the app
``bench/apps/big.py``) serves ``GET /?mib=N`` once to ``curl``, which
discards the body (``-o /dev/null``) and reports the size and speed it saw.
Transports: ``h2-tls`` (one HTTP/2 stream, ALPN h2), ``h1-tls`` (HTTP/1.1
through TLS), ``h2c`` and ``h1`` (the same in cleartext, for reference).
TLS uses a throwaway self-signed pair (``bench/tls.py``).

While the body moves, a thread samples the RSS of the front and of the
worker every 10 ms; the report gives each one's RSS before and its peak
growth above that. A server that buffered the body instead of pacing it
by the client's reading (flow control, link credits) would grow by a
large part of N MiB; pagi's bound is its windows, a few MiB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from bench.servers import SERVERS, Running
from bench.tls import TLSPair, throwaway_pair

APP = "bench.apps.big:app"
MiB = 1024 * 1024
TRANSPORTS = {
    # name: (TLS?, curl's protocol option)
    "h2-tls": (True, "--http2"),
    "h1-tls": (True, "--http1.1"),
    "h2c": (False, "--http2-prior-knowledge"),
    "h1": (False, "--http1.1"),
}


class PeakRSS:
    """Samples the RSS of some processes every 10 ms in a thread; keeps the peaks."""

    def __init__(self, procs: list[psutil.Process]) -> None:
        self.procs = procs
        self.before = [p.memory_info().rss for p in procs]
        self.peak = list(self.before)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.is_set():
            for i, proc in enumerate(self.procs):
                self.peak[i] = max(self.peak[i], proc.memory_info().rss)
            time.sleep(0.01)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def curl_argv(option: str, url: str) -> list[str]:
    """curl downloading ``url`` into /dev/null, printing version, size and speed."""
    out = "%{http_version} %{size_download} %{speed_download} %{time_total}"
    return ["curl", "-sS", "-k", option, "-o", "/dev/null", "-w", out, url]


def download(transport: str, mib: int, pair: TLSPair, log_dir: Path) -> dict[str, Any]:
    tls, option = TRANSPORTS[transport]
    log = log_dir / f"{transport}.log"
    running = Running(SERVERS["pagi-1w"], APP, log, pair if tls else None)
    try:
        running.wait_ready()
        front, worker = running.tree()[:2]
        url = f"{running.scheme}://127.0.0.1:{running.port}/?mib={mib}"
        meter = PeakRSS([front, worker])
        try:
            proc = subprocess.run(curl_argv(option, url), capture_output=True, text=True)
        finally:
            meter.stop()
        if proc.returncode != 0:
            raise RuntimeError(f"curl failed ({proc.returncode}): {proc.stderr.strip()}")
        version, size, speed, seconds = proc.stdout.split()
        if int(size) != mib * MiB:
            raise RuntimeError(f"{transport}: received {size} bytes of {mib * MiB}")
        return {
            "transport": transport,
            "http_version": version,
            "bytes": int(size),
            "seconds": float(seconds),
            "mb_per_s": float(speed) / 1e6,
            "front_rss_before_mib": meter.before[0] / MiB,
            "front_peak_growth_mib": (meter.peak[0] - meter.before[0]) / MiB,
            "worker_rss_before_mib": meter.before[1] / MiB,
            "worker_peak_growth_mib": (meter.peak[1] - meter.before[1]) / MiB,
        }
    finally:
        running.stop()


def markdown(rows: list[dict[str, Any]], mib: int) -> str:
    lines = [
        f"| transport ({mib:,} MiB, one request) | HTTP | MB/s | front RSS before → peak "
        "growth | worker RSS before → peak growth |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['transport']} | {r['http_version']} | {r['mb_per_s']:,.0f} | "
            f"{r['front_rss_before_mib']:.1f} MiB → +{r['front_peak_growth_mib']:.1f} MiB | "
            f"{r['worker_rss_before_mib']:.1f} MiB → +{r['worker_peak_growth_mib']:.1f} MiB |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.big_download", description=__doc__)
    p.add_argument("--mib", type=int, default=1024, help="size of the download (default 1024)")
    p.add_argument("--transports", default="h2-tls,h1-tls", help=f"of {', '.join(TRANSPORTS)}")
    args = p.parse_args(argv)
    chosen = [t.strip() for t in args.transports.split(",") if t.strip()]
    unknown = [t for t in chosen if t not in TRANSPORTS]
    if unknown:
        raise SystemExit(f"unknown transport(s) {unknown}; known: {', '.join(TRANSPORTS)}")
    with tempfile.TemporaryDirectory(prefix="pagi-big-download-") as tmp:
        pair = throwaway_pair(Path(tmp))
        rows = [download(t, args.mib, pair, Path(tmp)) for t in chosen]
    for row in rows:
        print(json.dumps(row), flush=True)
    print(markdown(rows, args.mib))
    return 0


if __name__ == "__main__":
    sys.exit(main())
