"""One raw app, run as a PAGI app and as an ASGI app (tests/integration/test_interface.py).

``pagi_app`` and ``asgi_app`` are the same code; each declares its interface
with ``__pagi_interface__`` (what ``--interface auto`` honours). What each
request saw is kept in ``SEEN`` (one worker per front), readable at ``/seen``.

Routes: ``/scope`` (the scope as JSON), ``/stream`` (sends a chunk every 10 ms
until ``send()`` raises or the client is gone; records what happened),
``/body`` (reads the whole body), ``/abort`` (``pagi.connection.abort``),
websocket ``/ws/deny-close`` (close before accept), ``/ws/deny-http``
(refusal response), ``/ws/return`` (accept, then return), sse ``/events``
(one event, then return without ``sse.close``), ``/events/closed``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

SEEN: dict[str, Any] = {}


def _jsonable(scope: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in scope.items():
        if key in ("pagi.connection", "pagi.transport", "pagi.channels", "state"):
            out[key] = True
        elif isinstance(value, bytes):
            out[key] = value.decode("latin-1")
        elif key == "headers":
            out[key] = [[n.decode("latin-1"), v.decode("latin-1")] for n, v in value]
        else:
            out[key] = value
    return out


async def _respond(send: Any, status: int, body: bytes, ctype: bytes = b"text/plain") -> None:
    await send(
        {"type": "http.response.start", "status": status, "headers": [(b"content-type", ctype)]}
    )
    await send({"type": "http.response.body", "body": body})


async def _stream(scope: dict[str, Any], send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    conn = scope["pagi.connection"]
    sent = 0
    outcome = "running"
    SEEN["stream"] = outcome
    try:
        while sent < 3000:  # 30 s at most
            await send({"type": "http.response.body", "body": b"x" * 100, "more": True})
            sent += 1
            if not conn.is_connected() and sent > 50:
                outcome = "no-op sends after the disconnect"
                break
            await asyncio.sleep(0.01)
    except OSError as exc:
        outcome = f"raised {type(exc).__name__}"
    SEEN["stream"] = outcome


async def _http(scope: dict[str, Any], receive: Any, send: Any) -> None:
    path = scope["path"].removeprefix(scope["root_path"]) or "/"
    if path in ("/scope", "/items/1"):
        event = await receive()
        info = _jsonable(scope)
        info["request_event_keys"] = sorted(event)
        await _respond(send, 200, json.dumps(info).encode(), b"application/json")
    elif path == "/seen":
        await _respond(send, 200, json.dumps(SEEN).encode(), b"application/json")
    elif path == "/stream":
        await _stream(scope, send)
    elif path == "/body":
        total = 0
        while True:
            event = await receive()
            if event["type"] == "http.disconnect":
                SEEN["body"] = f"disconnect after {total}"
                return  # the client left: no response, and no error either
            total += len(event["body"])
            if not event.get("more_body", event.get("more")):
                break
        await _respond(send, 200, str(total).encode())
    elif path == "/abort":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more": True})
        conn = scope["pagi.connection"]
        conn.abort("enough")
        SEEN["abort"] = [conn.is_connected(), conn.disconnect_reason(), conn.disconnect_detail()]
        await send({"type": "http.response.body", "body": b"ignored"})  # a no-op now (PAGI)
    else:
        await _respond(send, 404, b"not found")


async def _websocket(scope: dict[str, Any], receive: Any, send: Any) -> None:
    path = scope["path"].removeprefix(scope["root_path"])
    assert (await receive())["type"] == "websocket.connect"
    pagi = "pagi" in scope
    if path == "/ws/deny-close":
        try:
            await send({"type": "websocket.close", "code": 1000})
            SEEN["deny-close"] = "sent"
        except RuntimeError as exc:  # PAGI: refuse with http.response.* instead
            SEEN["deny-close"] = f"raised {type(exc).__name__}"
            await send({"type": "http.response.start", "status": 403, "headers": []})
            await send({"type": "http.response.body", "body": b"refused"})
    elif path == "/ws/deny-http":
        prefix = "http.response." if pagi else "websocket.http.response."
        await send({"type": prefix + "start", "status": 401, "headers": [(b"x-why", b"auth")]})
        await send({"type": prefix + "body", "body": b"who are you"})
    elif path == "/ws/return":
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "bye"})
    elif path == "/ws/scope":
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": json.dumps(_jsonable(scope))})
        await send({"type": "websocket.close"})


async def _sse(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "sse.start"})
    await send({"type": "sse.send", "data": "one"})
    if scope["path"] == "/events/closed":
        await send({"type": "sse.close"})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    kind = scope["type"]
    if kind == "lifespan":
        return  # no lifespan support: fine
    if kind == "http":
        await _http(scope, receive, send)
    elif kind == "websocket":
        await _websocket(scope, receive, send)
    elif kind == "sse":
        await _sse(scope, receive, send)


async def pagi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await app(scope, receive, send)


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await app(scope, receive, send)


pagi_app.__pagi_interface__ = "pagi"  # type: ignore[attr-defined]
asgi_app.__pagi_interface__ = "asgi"  # type: ignore[attr-defined]
