"""Workloads 1, 3, 5, 8a, 9: a 13-byte ``text/plain`` answer to every request."""

from __future__ import annotations

from typing import Any

from bench.apps.lifespan import serve_lifespan

_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"13")],
}
_BODY = {"type": "http.response.body", "body": b"Hello, world!"}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        # The same two event dicts every time: servers must not mutate them.
        await send(_START)
        await send(_BODY)
    elif scope["type"] == "lifespan":
        await serve_lifespan(receive, send)
    else:
        raise RuntimeError(f"hello app: unsupported scope type {scope['type']!r}")
