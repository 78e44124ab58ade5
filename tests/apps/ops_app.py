"""The operations tests' app: environment, pids, slow and loop-blocking requests."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any
from urllib.parse import parse_qs

#: Changed on disk by the reload tests (they copy this file and edit it).
VERSION = "v1"


async def _text(send: Any, body: str, status: int = 200) -> None:
    data = body.encode()
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if os.environ.get("OPS_FAIL_STARTUP") and VERSION != "v1":
                    await send({"type": "lifespan.startup.failed", "message": "boom " + VERSION})
                    return
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    q = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
    path = scope["path"]
    if path == "/env":
        await _text(send, "set" if q["name"] in os.environ else "unset")
    elif path == "/pid":
        await _text(send, str(os.getpid()))
    elif path == "/version":
        await _text(send, VERSION)
    elif path == "/sleep":
        await asyncio.sleep(float(q.get("seconds", "0.1")))
        await _text(send, "slept")
    elif path == "/block":
        time.sleep(float(q.get("seconds", "1")))  # blocks the worker's loop on purpose
        await _text(send, "blocked")
    elif path == "/client":
        client = scope.get("client")
        server = scope.get("server")
        await _text(send, f"{client} {scope['scheme']} {server}")
    else:
        await _text(send, "ok " + VERSION)
