"""The app behind tests/unit/worker/test_worker_websocket*.py (a fake front drives the worker).

Routes by path; ``/echo`` is scripted by the client: a text message starting
with ``!`` is a command, anything else is echoed back with its type.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs


def _query(scope: dict[str, Any]) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}


def _write(path: str | None, data: Any) -> None:
    if path:
        with open(path, "w") as f:
            json.dump(data, f)


async def _echo(scope: dict[str, Any], receive: Any, send: Any, q: dict[str, str]) -> None:
    assert await receive() == {"type": "websocket.connect"}
    offered = scope["subprotocols"]
    await send(
        {
            "type": "websocket.accept",
            "subprotocol": offered[-1] if offered else None,
            "headers": [(b"X-App", b"echo")],
        }
    )
    transport = scope["pagi.transport"]
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            after: list[Any] = []
            try:
                await send({"type": "websocket.send", "text": "ignored"})
                after.append("send-ok")
            except OSError as exc:  # ASGI 2.4: send() after a disconnect raises
                after.append(type(exc).__name__)
            _write(q.get("out"), {"disconnect": message, "after": after})
            return
        assert message["type"] == "websocket.receive"
        text, data = message["text"], message["bytes"]
        assert (text is None) != (data is None), message
        if text is not None and text.startswith("!"):
            cmd, _, arg = text[1:].partition(" ")
            if cmd == "close":
                code, _, reason = arg.partition(" ")
                await send({"type": "websocket.close", "code": int(code), "reason": reason})
                await send({"type": "websocket.send", "text": "after close"})  # a no-op
            elif cmd == "keepalive":
                interval, _, timeout = arg.partition(" ")
                await send(
                    {
                        "type": "websocket.keepalive",
                        "interval": float(interval),
                        "timeout": float(timeout) if timeout else None,
                    }
                )
                await send({"type": "websocket.send", "text": "keepalive set"})
            elif cmd == "bytes":
                await send({"type": "websocket.send", "bytes": b"b" * int(arg)})
                await send({"type": "websocket.send", "text": "sent"})
            elif cmd == "text":
                await send({"type": "websocket.send", "text": "\u00e9" * int(arg)})
                await send({"type": "websocket.send", "text": "sent"})
            elif cmd == "sizes":  # the lengths of the next N messages, as one reply
                sizes = []
                for _ in range(int(arg)):
                    m = await receive()
                    value = m["text"] if m["text"] is not None else m["bytes"]
                    kind = "text" if m["text"] is not None else "bytes"
                    sizes.append([kind, len(value), value[:3] if kind == "text" else None])
                await send({"type": "websocket.send", "text": json.dumps(sizes)})
            elif cmd == "sleep":
                await asyncio.sleep(float(arg))
                await send({"type": "websocket.send", "text": "awake"})
            elif cmd == "buffered":
                await send({"type": "websocket.send", "text": str(transport.buffered_amount())})
            elif cmd == "invalid":
                try:
                    await send({"type": "websocket.send", "text": "a", "bytes": b"b"})
                except ValueError as exc:
                    await send({"type": "websocket.send", "text": f"{type(exc).__name__}: {exc}"})
            elif cmd == "raise":
                raise RuntimeError("asked to raise")
            elif cmd == "return":
                return
        else:
            try:
                await send({"type": "websocket.send", "text": text, "bytes": data})
            except OSError:  # ASGI 2.4: the client is gone; its disconnect comes next
                continue


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await receive()
        scope["state"]["ws"] = True
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await send({"type": "lifespan.shutdown.complete"})
        return
    assert scope["type"] == "websocket"
    path = scope["path"].removeprefix(scope["root_path"])  # ASGI: path includes root_path
    q = _query(scope)
    if path == "/echo":
        await _echo(scope, receive, send, q)
    elif path == "/scope":
        skip = {"pagi.transport", "pagi.connection", "headers"}
        info = {k: v for k, v in scope.items() if k not in skip}
        info["raw_path"] = scope["raw_path"].decode("latin-1")
        info["query_string"] = scope["query_string"].decode("latin-1")
        info["headers"] = [[n.decode(), v.decode()] for n, v in scope["headers"]]
        info["has_transport"] = hasattr(scope.get("pagi.transport"), "buffered_amount")
        info["has_connection"] = hasattr(scope.get("pagi.connection"), "abort")
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": json.dumps(info)})
        await send({"type": "websocket.close"})
    elif path == "/deny":
        assert await receive() == {"type": "websocket.connect"}
        await send({"type": "websocket.close", "code": int(q.get("code", "1000"))})
        await send({"type": "websocket.send", "text": "ignored"})
        message = await receive()
        _write(q.get("out"), message)
    elif path == "/deny-http":
        await receive()
        await send(
            {
                "type": "websocket.http.response.start",
                "status": 401,
                "headers": [(b"WWW-Authenticate", b"Basic")],
            }
        )
        await send({"type": "websocket.http.response.body", "body": b"no ", "more_body": True})
        await send({"type": "websocket.http.response.body", "body": b"entry"})
        await send({"type": "websocket.accept"})  # a no-op: the connection is over
        _write(q.get("out"), await receive())
    elif path == "/no-handshake":
        await receive()
    elif path == "/raise-before-accept":
        raise ValueError("nope")
    else:
        await send({"type": "websocket.close", "code": 4404})


#: This app refuses handshakes the ASGI way (websocket.close / websocket.http.response.*).
app.__pagi_interface__ = "asgi"  # type: ignore[attr-defined]
