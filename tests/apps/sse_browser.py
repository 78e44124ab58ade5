"""A page with an ``EventSource`` and the stream it reads, for the headless-browser test.

``/events`` answers its first connection with events 1-3 and ends the stream,
its second (which must carry ``Last-Event-ID: 3``) with events 4-5 and ends it
again, and every later one with ``204``, which tells ``EventSource`` to stop
reconnecting. ``retry: 100`` keeps the reconnects quick. ``/log`` (plain http)
lists the connections the server saw, with their ``Last-Event-ID``.
"""

from __future__ import annotations

import json
from typing import Any

CONNECTIONS: list[dict[str, Any]] = []

PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>sse</title></head>
<body>
<pre id="out"></pre>
<script>
  window.received = [];
  window.errors = 0;
  window.opens = 0;
  const source = new EventSource("/events");
  window.source = source;
  source.onopen = () => { window.opens += 1; };
  source.addEventListener("tick", (e) => {
    window.received.push({data: e.data, id: e.lastEventId});
    document.getElementById("out").textContent += e.data + "\\n";
  });
  source.onerror = () => { window.errors += 1; };
</script>
</body></html>
"""


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    if scope["type"] == "http":
        if scope["path"] == "/log":
            body, ctype = json.dumps(CONNECTIONS).encode(), b"application/json"
        else:
            body, ctype = PAGE, b"text/html; charset=utf-8"
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", ctype)]}
        )
        await send({"type": "http.response.body", "body": body})
        return
    assert scope["type"] == "sse"
    headers = dict(scope["headers"])
    CONNECTIONS.append(
        {
            "method": scope["method"],
            "last_event_id": headers.get(b"last-event-id", b"").decode() or None,
            "accept": headers.get(b"accept", b"").decode(),
        }
    )
    n = len(CONNECTIONS)
    if n > 2:
        await send({"type": "http.response.start", "status": 204})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "sse.start"})
    await send({"type": "sse.send", "retry": 100})
    first = 1 if n == 1 else 4
    for i in range(first, first + (3 if n == 1 else 2)):
        await send({"type": "sse.send", "event": "tick", "id": str(i), "data": f"event {i}"})
    await send({"type": "sse.close"})
