"""Lifespan state: a counter created at startup and shared through ``state``.

Each request sees a shallow copy of the lifespan ``state`` dict, so the mutable
counter object itself is shared by all requests of one worker. With several
workers, each has its own counter (the response names the worker's pid).
"""

from __future__ import annotations

import itertools
import os
from typing import Any


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                scope["state"]["hits"] = itertools.count(1)
                scope["state"]["started_by"] = os.getpid()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        raise RuntimeError(f"unsupported scope type {scope['type']!r}")
    state = scope["state"]
    body = f"hit {next(state['hits'])} on worker pid {state['started_by']}\n".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/plain"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
