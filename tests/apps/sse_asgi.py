"""An ASGI-only app that serves ``text/event-stream`` as a plain http response.

It behaves like Starlette's router (and FastAPI, Django): a scope type it does
not know raises before anything else happens. ``/stream`` is what
sse-starlette does: an ordinary streaming http response whose body is SSE
text. ``/seen`` reports which scope types this process has been called with.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

SEEN: list[str] = []


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    SEEN.append(scope["type"])
    assert scope["type"] in ("http", "websocket", "lifespan")  # the way Starlette refuses
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/seen":
        body = json.dumps({"seen": SEEN[:-1], "pid": os.getpid()}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})
        return
    # /stream: read the request (ASGI style), then stream three SSE events
    while True:
        message = await receive()
        if not message.get("more_body"):
            break
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/event-stream; charset=utf-8"),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    for i in range(3):
        await send(
            {
                "type": "http.response.body",
                "body": f"data: plain {i}\n\n".encode(),
                "more_body": True,
            }
        )
        await asyncio.sleep(0.01)
    await send({"type": "http.response.body", "body": b"", "more_body": False})
