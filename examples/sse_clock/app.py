"""A clock in the browser: a page whose ``EventSource`` reads ``/clock``.

``GET /`` is the page (an ordinary ``http`` scope). The browser's
``EventSource`` asks for ``/clock`` with ``Accept: text/event-stream``, so the
app gets an ``sse`` scope there and sends one ``tick`` event per second. Each
event carries an ``id``; when the connection drops, the browser reconnects by
itself with ``Last-Event-ID`` and the clock carries on counting from there.
``sse.keepalive`` makes the server write a comment whenever the stream has
been quiet for 15 s (it never is here, but a real feed may be), without waking
the app.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>pagi clock</title></head>
<body style="font: 2em sans-serif; text-align: center; margin-top: 20vh">
<div id="clock">connecting...</div>
<div id="state" style="font-size: 0.5em; color: grey"></div>
<script>
  const source = new EventSource("/clock");
  source.addEventListener("tick", (e) => {
    document.getElementById("clock").textContent = e.data;
    document.getElementById("state").textContent = "tick #" + e.lastEventId;
  });
  source.onerror = () => {
    document.getElementById("state").textContent = "reconnecting...";
  };
</script>
</body></html>
"""


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/html; charset=utf-8")],
            }
        )
        await send({"type": "http.response.body", "body": PAGE})
    elif scope["type"] == "sse":
        await clock(scope, send)
    elif scope["type"] != "lifespan":
        raise RuntimeError(f"unsupported scope type {scope['type']!r}")


async def clock(scope: dict[str, Any], send: Any) -> None:
    if scope["path"] != "/clock":
        # decline: an ordinary 404 instead of a stream
        await send({"type": "http.response.start", "status": 404})
        await send({"type": "http.response.body", "body": b"no such stream"})
        return
    last_id = dict(scope["headers"]).get(b"last-event-id", b"")
    count = int(last_id) if last_id.isdigit() else 0
    await send({"type": "sse.start"})
    await send({"type": "sse.keepalive", "interval": 15})
    connection = scope["pagi.connection"]
    while connection.is_connected():
        count += 1
        now = time.strftime("%H:%M:%S")
        await send({"type": "sse.send", "event": "tick", "id": str(count), "data": now})
        await asyncio.sleep(1.0 - time.time() % 1.0)  # on the second
