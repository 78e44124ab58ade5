"""Echoes the request body back, streaming it chunk by chunk.

Memory stays bounded however large the upload: each chunk is sent back before
the next is read, and the server's flow control does the rest.
"""

from __future__ import annotations

from typing import Any


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        raise RuntimeError(f"unsupported scope type {scope['type']!r}")
    headers = [(b"content-type", b"application/octet-stream")]
    for name, value in scope["headers"]:
        if name == b"content-length":
            headers.append((b"content-length", value))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        more = message.get("more", message.get("more_body", False))
        await send({"type": "http.response.body", "body": message["body"], "more": more})
