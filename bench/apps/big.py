"""``bench/big_download.py``: ``GET /?mib=N`` streams N MiB in 256 KiB body events.

A content-length is declared, so HTTP/1.1 needs no chunked framing and
HTTP/2 ends the stream with the last DATA frame. ``GET /`` without ``mib``
answers 13 bytes (the harness's readiness probe).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from bench.apps.lifespan import serve_lifespan

CHUNK = b"x" * (256 * 1024)
MiB = 1024 * 1024


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await serve_lifespan(receive, send)
        return
    if scope["type"] != "http":
        raise RuntimeError(f"big app: unsupported scope type {scope['type']!r}")
    query = parse_qs(scope["query_string"].decode())
    if "mib" not in query:
        body = b"Hello, world!"
        await send({"type": "http.response.start", "status": 200, "headers": _length(len(body))})
        await send({"type": "http.response.body", "body": body})
        return
    total = int(query["mib"][0]) * MiB
    await send({"type": "http.response.start", "status": 200, "headers": _length(total)})
    sent = 0
    while sent < total:
        n = min(len(CHUNK), total - sent)
        sent += n
        more = sent < total
        await send({"type": "http.response.body", "body": CHUNK[:n], "more_body": more})


def _length(n: int) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", b"application/octet-stream"), (b"content-length", str(n).encode())]
