"""The worker's websocket duties under PAGI Www 0.6, and where ASGI 2.4 differs.

In-process over a recording link (tests/worker_doubles.py); the real processes
are covered by tests/integration/test_interface.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pagi.protocol import Event, Kind
from pagi.protocol import messages as m
from pagi.worker.http_events import ClientDisconnected, InvalidEvent, UnexpectedEvent
from pagi.worker.interface import ASGI_INTERFACE, PAGI_INTERFACE
from pagi06_scopes import kinds, ws
from worker_doubles import run

# --- websocket ---------------------------------------------------------------------------


def test_pagi_refuses_with_an_ordinary_http_response() -> None:
    async def main() -> None:
        scope, session = ws()
        assert await scope.receive() == {"type": "websocket.connect"}
        with pytest.raises(InvalidEvent, match="from 300 to 999, got 200"):
            await scope.send({"type": "http.response.start", "status": 200})
        with pytest.raises(InvalidEvent, match=r"PAGI refuses a handshake with http\.response"):
            await scope.send({"type": "websocket.http.response.start", "status": 403})
        with pytest.raises(UnexpectedEvent, match="a PAGI app refuses a handshake"):
            await scope.send({"type": "websocket.close"})
        assert session.link.sent == []
        await scope.send({"type": "http.response.start", "status": 403, "headers": []})
        await scope.send({"type": "http.response.body", "body": b"no"})
        assert kinds(session) == [
            (Kind.EVENT, Event.HTTP_RESPONSE_START),
            (Kind.EVENT, Event.HTTP_RESPONSE_BODY),
        ]
        conn = scope.connection
        assert conn.response_started() and conn.response_complete()
        assert not conn.is_connected() and conn.disconnect_reason() is None  # a clean end
        assert (await scope.receive())["code"] == 1006

    run(main)


def test_asgi_refuses_with_the_extension_or_a_close() -> None:
    async def main() -> None:
        scope, session = ws(ASGI_INTERFACE)
        assert "websocket.http.response" in scope.scope["extensions"]
        await scope.receive()
        with pytest.raises(InvalidEvent, match="an ASGI app refuses a handshake"):
            await scope.send({"type": "http.response.start", "status": 403})
        await scope.send({"type": "websocket.close"})
        assert kinds(session) == [(Kind.EVENT, Event.WS_CLOSE)]
        assert scope.connection.response_complete()

    run(main)


def test_websocket_disconnect_before_accept() -> None:
    async def main() -> None:
        scope, _ = ws()
        assert await scope.receive() == {"type": "websocket.connect"}
        waiter = asyncio.ensure_future(scope.receive())
        await asyncio.sleep(0)
        scope.on_close("client_closed")
        assert await waiter == {
            "type": "websocket.disconnect",
            "code": 1006,
            "reason": "client_closed",
        }
        assert scope.connection.disconnect_reason() == "client_closed"

    run(main)


@pytest.mark.parametrize(
    ("code", "reason", "clean", "pagi_reason"),
    [
        (1000, "bye", True, None),
        (1005, "", True, None),
        (1006, "client_closed", False, "client_closed"),
        (1006, "keepalive_timeout", False, "keepalive_timeout"),
        (1002, "protocol_error", False, "protocol_error"),
        (1009, "message_too_big", False, "protocol_error"),
        (1008, "queue_overflow", False, "queue_overflow"),
    ],
)
def test_websocket_end_is_clean_or_abnormal(
    code: int, reason: str, clean: bool, pagi_reason: str | None
) -> None:
    async def main() -> None:
        scope, _ = ws()
        await scope.receive()
        await scope.send({"type": "websocket.accept"})
        seen: list[Any] = []
        scope.connection.on_complete(lambda: seen.append("complete"))
        scope.connection.on_disconnect(lambda r, d: seen.append((r, d)))
        scope.on_ws_event(m.event(3, Event.WS_DISCONNECT, code, reason))
        await asyncio.sleep(0)
        assert not scope.connection.is_connected()
        assert scope.connection.disconnect_reason() == pagi_reason
        if clean:
            assert seen == ["complete"]
        else:
            detail = reason if code in (1002, 1009, 1008) else None
            assert seen == [(pagi_reason, detail)]
        assert await scope.receive() == {
            "type": "websocket.disconnect",
            "code": code,
            "reason": reason,
        }

    run(main)


def test_pagi_app_returning_with_the_socket_open_is_closed_1011() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})

    async def main() -> None:
        for iface, expected in (
            (
                PAGI_INTERFACE,
                [(Kind.EVENT, Event.WS_ACCEPT), (Kind.EVENT, Event.WS_CLOSE), (Kind.END,)],
            ),
            (ASGI_INTERFACE, [(Kind.EVENT, Event.WS_ACCEPT), (Kind.END,)]),
        ):
            scope, session = ws(iface)
            session.app = app
            await scope.run()
            assert kinds(session) == expected, iface.name
            if iface is PAGI_INTERFACE:
                assert session.link.sent[1][3:] == [1011, ""]
                assert scope.connection.disconnect_reason() == "server_error"

    run(main)


def test_websocket_abort_and_asgi_send_after_disconnect() -> None:
    async def main() -> None:
        scope, session = ws()
        await scope.receive()
        await scope.send({"type": "websocket.accept"})
        scope.connection.abort("spam")
        assert session.link.sent[-1] == [Kind.ABORT, 3, "spam"]
        assert await scope.receive() == {
            "type": "websocket.disconnect",
            "code": 1006,
            "reason": "app_abort",
        }
        await scope.send({"type": "websocket.send", "text": "x"})  # PAGI: a no-op

        scope, session = ws(ASGI_INTERFACE)
        await scope.receive()
        await scope.send({"type": "websocket.accept"})
        scope.on_close("client_closed")
        with pytest.raises(ClientDisconnected):
            await scope.send({"type": "websocket.send", "text": "x"})

    run(main)
