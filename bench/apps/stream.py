"""Workload 4: 1 MiB sent as sixteen 64 KiB ``http.response.body`` events.

A content-length is declared, so no server adds chunked framing and the
comparison is about moving the bytes, not about framing them.
"""

from __future__ import annotations

from typing import Any

from bench.apps.lifespan import serve_lifespan

CHUNK = b"x" * 65536
CHUNKS = 16
_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [
        (b"content-type", b"application/octet-stream"),
        (b"content-length", str(len(CHUNK) * CHUNKS).encode()),
    ],
}
_MORE = {"type": "http.response.body", "body": CHUNK, "more_body": True}
_LAST = {"type": "http.response.body", "body": CHUNK, "more_body": False}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await serve_lifespan(receive, send)
        return
    if scope["type"] != "http":
        raise RuntimeError(f"stream app: unsupported scope type {scope['type']!r}")
    await send(_START)
    for _ in range(CHUNKS - 1):
        await send(_MORE)
    await send(_LAST)
