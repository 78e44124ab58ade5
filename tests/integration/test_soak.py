"""The soak of ``bench/soak.py``, scaled down for the suite (CI runs it).

100,000 keep-alive requests and 5,000 WebSocket connections (upgrade, one
echo, close) against ``pagi-front --app bench.apps.websocket:app --workers 1``;
then RSS growth below 2 MiB for the front and the worker, and descriptors
back to where they were after the warm-up. About 30 s on the 2-core
development machine. The full one (1,000,000 requests, 100,000 WebSockets):
``python -m bench.soak`` (docs/security.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_soak_memory_and_descriptors_stay_flat() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench.soak", "--requests", "100000", "--websockets", "5000"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    lines = run.stdout.strip().splitlines()
    assert lines, run.stderr[-3000:]
    report = json.loads(lines[-1])
    summary = "\n".join(lines[:-1])
    assert report["requests_done"] == 100000 and report["websockets_done"] == 5000, summary
    assert report["failure_count"] == 0, summary
    assert all(growth < 2 << 20 for growth in report["rss_growth"].values()), summary
    assert all(extra <= 0 for extra in report["fd_growth"].values()), summary
    assert run.returncode == 0, summary
