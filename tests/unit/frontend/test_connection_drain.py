"""drain_connections: the client connections' orderly end at shutdown (fake connections)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pagi.frontend.connection_drain import drain_connections
from pagi.frontend.connections import ConnectionSet
from pagi.protocol import reasons


class FakeConnection:
    """Records shutdown/abort; leaves the set ``finish_after`` seconds after shutdown."""

    def __init__(
        self, conns: ConnectionSet, finish_after: float | None, fail: bool = False
    ) -> None:
        self.conns = conns
        self.finish_after = finish_after
        self.fail = fail
        self.client: list[Any] | None = ["127.0.0.1", 1]
        self.calls: list[Any] = []
        conns.add(self)  # type: ignore[arg-type]

    def shutdown(self) -> None:
        self.calls.append("shutdown")
        if self.fail:
            raise RuntimeError("boom")
        if self.finish_after is not None:
            asyncio.get_running_loop().call_later(self.finish_after, self.conns.discard, self)

    def abort(self, reason: str) -> None:
        self.calls.append(("abort", reason))
        self.conns.discard(self)


def run(main: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(main(), 5))


def test_connections_that_finish_in_time_are_not_aborted() -> None:
    async def main() -> None:
        conns = ConnectionSet()
        quick = FakeConnection(conns, 0.0)
        slower = FakeConnection(conns, 0.1)
        await drain_connections(conns, 2.0, asyncio.Event())
        assert quick.calls == slower.calls == ["shutdown"] and not conns

    run(main)


def test_the_rest_is_aborted_after_the_timeout(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        conns = ConnectionSet()
        done = FakeConnection(conns, 0.0)
        stuck = FakeConnection(conns, None)
        loop = asyncio.get_running_loop()
        started = loop.time()
        with caplog.at_level(logging.WARNING, "pagi.front"):
            await drain_connections(conns, 0.2, asyncio.Event())
        assert loop.time() - started >= 0.2
        assert done.calls == ["shutdown"]
        assert stuck.calls == ["shutdown", ("abort", reasons.SERVER_SHUTDOWN)] and not conns
        assert "1 connection(s) still open" in caplog.text

    run(main)


def test_a_second_signal_skips_the_wait_and_one_failure_stops_nobody(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        conns = ConnectionSet()
        broken = FakeConnection(conns, None, fail=True)
        stuck = FakeConnection(conns, None)
        force = asyncio.Event()
        force.set()
        loop = asyncio.get_running_loop()
        started = loop.time()
        await drain_connections(conns, 30.0, force)
        assert loop.time() - started < 1.0
        assert broken.calls == ["shutdown", ("abort", reasons.SERVER_SHUTDOWN)]
        assert stuck.calls == ["shutdown", ("abort", reasons.SERVER_SHUTDOWN)]
        assert "error in connection.shutdown()" in caplog.text

    run(main)
