"""An SSE clock that honours ``Last-Event-ID``, for the resumption tests (docs/resume.md).

* ``/events``: an ``sse`` stream of ``id: N`` / ``data: N PID ATTEMPT`` events
  every ``?interval=`` seconds (default 0.05), counting on from the request's
  ``Last-Event-ID`` (1 without one) until the client goes away. ``PID`` is the
  worker's, ``ATTEMPT`` the ``pagi.resume`` extension's attempt (``-`` without it).
* ``/differ``: the same, but a resumed scope answers ``503`` (a decline), which
  differs from what the client has: the front must end the stream.
* ``/refuse``: the same, with ``sse.start`` refusing resumption.
* ``/`` (http): a page whose ``EventSource`` reads ``/events`` into
  ``window.received`` and counts ``opens`` and ``errors``.

Each ``sse.disconnect`` is printed to stderr (``sse.disconnect REASON at N``),
which the front's log collects in embedded mode.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any
from urllib.parse import parse_qs

PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>clock</title></head>
<body><script>
  window.received = [];
  window.errors = 0;
  window.opens = 0;
  const source = new EventSource("/events");
  source.onopen = () => { window.opens += 1; };
  source.onmessage = (e) => { window.received.push([e.lastEventId, e.data]); };
  source.onerror = () => { window.errors += 1; };
</script></body></html>
"""


async def _page(send: Any) -> None:
    ctype = b"text/html; charset=utf-8"
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", ctype)]}
    )
    await send({"type": "http.response.body", "body": PAGE})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    if scope["type"] == "http":
        await _page(send)
        return
    assert scope["type"] == "sse", scope["type"]
    resume = scope.get("extensions", {}).get("pagi.resume")
    attempt = "-" if resume is None else str(resume["attempt"])
    if scope["path"] == "/differ" and resume is not None and resume["attempt"] > 0:
        await send({"type": "http.response.start", "status": 503, "headers": []})
        await send({"type": "http.response.body", "body": b"no"})
        return
    last = dict(scope["headers"]).get(b"last-event-id")
    n = int(last) + 1 if last else 1
    interval = float(parse_qs(scope["query_string"].decode()).get("interval", ["0.05"])[0])
    start: dict[str, Any] = {"type": "sse.start"}
    if scope["path"] == "/refuse":
        start["pagi.resume"] = False
    await send(start)
    gone: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def watch() -> None:
        while True:
            message = await receive()
            if message["type"] == "sse.disconnect":
                print(f"sse.disconnect {message['reason']} at {n}", file=sys.stderr, flush=True)
                gone.set_result(None)
                return

    watcher = asyncio.create_task(watch())
    try:
        while not gone.done():
            await send({"type": "sse.send", "id": str(n), "data": f"{n} {os.getpid()} {attempt}"})
            n += 1
            await asyncio.wait([gone], timeout=interval)
    finally:
        watcher.cancel()
