"""A streaming response: ten lines, one every 100 ms, sent as they are made.

No content-length is given, so HTTP/1.1 clients get chunked encoding and see
each line as soon as it is sent.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        raise RuntimeError(f"unsupported scope type {scope['type']!r}")
    count = 10
    for key, _, value in (p.partition("=") for p in scope["query_string"].decode().split("&")):
        if key == "count" and value.isdigit():
            count = min(int(value), 10_000)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    connection = scope["pagi.connection"]
    for i in range(count):
        if not connection.is_connected():
            return  # the client left; stop producing
        await send({"type": "http.response.body", "body": f"line {i}\n".encode(), "more": True})
        await asyncio.sleep(0.1)
    await send({"type": "http.response.body", "body": b"", "more": False})
