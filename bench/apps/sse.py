"""Workload 7: ``GET /events`` streams one Server-Sent Event per second.

Under pagi a request with ``Accept: text/event-stream`` may arrive as a PAGI
``sse`` scope; everywhere else (and under pagi before SSE lands) it is an
``http`` scope and the app writes the ``text/event-stream`` body itself. Both
paths put the same event, ``data: tick N``, on the wire. Any other path
answers 200 ``ok`` (the readiness probe). The stream ends when the client
disconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from bench.apps.lifespan import serve_lifespan

INTERVAL = 1.0


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    kind = scope["type"]
    if kind == "lifespan":
        await serve_lifespan(receive, send)
    elif kind == "sse":
        await _stream(receive, send, pagi_sse=True)
    elif kind == "http" and scope["path"] == "/events":
        await _stream(receive, send, pagi_sse=False)
    elif kind == "http":
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"2")],
            }
        )
        await send({"type": "http.response.body", "body": b"ok"})
    else:
        raise RuntimeError(f"sse app: unsupported scope type {kind!r}")


async def _stream(receive: Any, send: Any, *, pagi_sse: bool) -> None:
    gone = asyncio.Event()
    watcher = asyncio.ensure_future(_watch_disconnect(receive, gone))
    try:
        if pagi_sse:
            await send({"type": "sse.start", "status": 200, "headers": []})
        else:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"text/event-stream"),
                        (b"cache-control", b"no-cache"),
                    ],
                }
            )
        n = 0
        while not gone.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(gone.wait(), INTERVAL)
            if gone.is_set():
                break
            n += 1
            if pagi_sse:
                await send({"type": "sse.send", "data": f"tick {n}"})
            else:
                await send(
                    {
                        "type": "http.response.body",
                        "body": f"data: tick {n}\n\n".encode(),
                        "more_body": True,
                    }
                )
    finally:
        watcher.cancel()


async def _watch_disconnect(receive: Any, gone: asyncio.Event) -> None:
    while True:
        message = await receive()
        if message["type"] in ("http.disconnect", "sse.disconnect"):
            gone.set()
            return
