"""A bounded fuzzing run of every target, h2 included (40 s in all), as CI runs it.

atheris (coverage-guided) when it is installed (the ``fuzz`` extra, which
tests/run.sh installs when it can), else hypothesis. A longer run is
``python -m bench.fuzz all --seconds 3600`` (docs/security.md).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(240)
def test_bounded_fuzzing_finds_nothing(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.fuzz",
            "all",
            "--seconds",
            "40",
            "--artifacts",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=220,
        check=False,
    )
    # the failing inputs themselves, to copy into tests/fuzz_regressions/
    found = {p.name: p.read_bytes()[:400] for p in sorted(tmp_path.iterdir())}
    assert run.returncode == 0, f"{found}\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    assert "no crash, no divergence" in run.stdout
