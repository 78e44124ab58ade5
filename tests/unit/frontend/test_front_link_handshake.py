"""WorkerLink's handshake over a real UNIX socket pair: HELLO, WELCOME, REJECT,
the handshake timeout, and frames that drop the link before or at HELLO.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from link_doubles import HELLO_INFO, Recorder, Setup, run
from pagi.protocol import (
    PROTOCOL_VERSION,
    Event,
    Kind,
)
from pagi.protocol import messages as m

# --- handshake -----------------------------------------------------------------


def test_hello_gets_welcome_and_joins_the_pool(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "pagi.front")

    async def main() -> None:
        s = Setup(response_window=1000, max_frame_size=123456)
        assert s.pool.pick() is None
        welcome = await s.worker.handshake(capacity=5, window=777)
        assert welcome == [
            Kind.WELCOME,
            0,
            PROTOCOL_VERSION,
            {
                "window": 1000,
                "worker_id": 7,
                "max_frame_size": 123456,
                "ws_max_size": 16 * 1024 * 1024,
                "ws_max_queue": 16 * 1024 * 1024,
                "body_ring": 2 * 1024 * 1024,
                "channels": {"node": s.config.channels_node, "capacity": 100, "backend": "front"},
            },
        ]
        assert s.pool.pick() is s.link and len(s.pool) == 1
        assert s.link.name == "app:app #1" and s.link.pid == 4242
        assert s.link.request_window == 777 and s.link.capacity == 5

    run(main)
    assert "worker app:app #1 pid 4242 joined" in caplog.text


def test_version_mismatch_is_rejected_with_a_reason(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        s = Setup()
        s.worker.send(m.hello(PROTOCOL_VERSION + 1, HELLO_INFO))
        (reject,) = await s.worker.recv()
        assert reject == [
            Kind.REJECT,
            0,
            f"protocol version {PROTOCOL_VERSION + 1} not supported; "
            f"this front speaks {PROTOCOL_VERSION} "
            "(run pagi-front and pagi-worker from the same release)",
        ]
        await s.worker.recv_eof()
        assert s.link.closed and s.closed == [s.link] and len(s.pool) == 0

    run(main)
    assert "rejected worker app:app #1" in caplog.text


def test_hello_without_window_is_rejected() -> None:
    async def main() -> None:
        s = Setup()
        info = dict(HELLO_INFO)
        del info["window"]
        s.worker.send(m.hello(PROTOCOL_VERSION, info))
        (reject,) = await s.worker.recv()
        assert reject[0] == Kind.REJECT and "window" in reject[2]

    run(main)


@pytest.mark.parametrize(
    "first",
    [
        m.ping(1),
        m.drain(),
        m.end(1, 0, False, ""),
        m.event(1, Event.HTTP_RESPONSE_BODY, b"", False),
    ],
)
def test_first_message_must_be_hello(first: list[Any], caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        s = Setup()
        s.worker.send(first)
        await s.worker.recv_eof()
        assert s.link.closed

    run(main)
    assert "dropping worker #7" in caplog.text


def test_silent_link_is_dropped_after_the_handshake_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        s = Setup(handshake_timeout=0.1)
        await s.worker.recv_eof()

    run(main)
    assert "dropping worker #7: no HELLO within 0.1 s" in caplog.text


def test_garbage_frame_drops_the_link(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        s = Setup()
        await s.ready()
        handler = Recorder()
        s.open(handler)
        await s.worker.recv()
        s.worker.send_raw(b"\x00\x00\x00\x03\xc1\xc1\xc1")
        await s.worker.recv_eof()
        assert handler.calls == [("lost",)]
        assert s.pool.pick() is None and s.link.open_scopes == 0

    run(main)
    assert "dropping worker app:app #1: undecodable msgpack" in caplog.text


def test_oversize_frame_drops_the_link(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        s = Setup(max_frame_size=1000)
        await s.ready()
        s.worker.send_raw(b"\x00\x00\x10\x00")
        await s.worker.recv_eof()

    run(main)
    assert "exceeds the maximum of 1000" in caplog.text


@pytest.mark.parametrize(
    ("configured", "offered"), [(0, 0), (1 << 20, 1 << 20), (1 << 30, 256 * 1024 * 1024)]
)
def test_welcome_offers_the_body_ring_up_to_its_limit(configured: int, offered: int) -> None:
    async def main() -> None:
        s = Setup(body_ring=configured)
        welcome = await s.worker.handshake()
        assert welcome[3]["body_ring"] == offered

    run(main)
