"""Workloads 6 and 8b: a WebSocket echo (text back as text, bytes as bytes).

Plain HTTP requests get a 200 so the harness can probe readiness.
"""

from __future__ import annotations

from typing import Any

from bench.apps.lifespan import serve_lifespan


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    kind = scope["type"]
    if kind == "websocket":
        await _echo(receive, send)
    elif kind == "http":
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"2")],
            }
        )
        await send({"type": "http.response.body", "body": b"ok"})
    elif kind == "lifespan":
        await serve_lifespan(receive, send)
    else:
        raise RuntimeError(f"websocket app: unsupported scope type {kind!r}")


async def _echo(receive: Any, send: Any) -> None:
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] != "websocket.receive":
            return  # websocket.disconnect
        text = message.get("text")
        if text is not None:
            await send({"type": "websocket.send", "text": text})
        else:
            await send({"type": "websocket.send", "bytes": message.get("bytes") or b""})
