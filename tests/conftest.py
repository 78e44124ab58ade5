from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Processes


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Processes]:
    """Start real pagi processes; all are killed when the test ends."""
    p = Processes(tmp_path)
    try:
        yield p
    finally:
        p.cleanup()


@pytest.fixture(params=["h11", "httptools"])
def http_parser(request: pytest.FixtureRequest) -> str:
    """Run a test once per HTTP/1.1 parser backend."""
    return str(request.param)
