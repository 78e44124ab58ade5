"""Every input the fuzzers ever found a bug with (and the seeds they start
from), replayed through its target: ``tests/fuzz_regressions/TARGET/*``.

The targets and the fuzzing command are in ``bench/fuzz`` (docs/security.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.fuzz.targets import TARGETS

CORPUS = Path(__file__).resolve().parents[1] / "fuzz_regressions"
CASES = sorted((p.parent.name, p) for p in CORPUS.glob("*/*") if p.is_file())


def test_every_target_has_a_corpus() -> None:
    assert {name for name, _ in CASES} == set(TARGETS)


@pytest.mark.parametrize(("target", "path"), CASES, ids=[f"{t}/{p.name}" for t, p in CASES])
def test_regression_input(target: str, path: Path) -> None:
    TARGETS[target](path.read_bytes())
