"""Fixtures of the framework tests (helpers in fw.py).

Real frameworks under real pagi processes, compared with uvicorn on the same
requests; see fw.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fw import Pair, start_pagi, start_uvicorn
from harness import Processes


@pytest.fixture(scope="module")
def pair_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., Pair]]:
    """``pair_factory(app, *pagi_args, uvicorn_args=(), env=None)``: both
    servers, for the module."""
    groups: list[Processes] = []

    def make(
        app: str,
        *pagi_args: str,
        uvicorn_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> Pair:
        procs = Processes(tmp_path_factory.mktemp("fw"))
        groups.append(procs)
        return Pair(
            start_pagi(procs, app, *pagi_args, env=env),
            start_uvicorn(procs, app, *uvicorn_args, env=env),
        )

    try:
        yield make
    finally:
        for procs in groups:
            procs.cleanup()
