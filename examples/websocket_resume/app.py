"""A WebSocket that survives ``pagi-ctl reload``: a numbered notebook per connection.

Every line a client sends is answered ``#N LINE (worker pid P)``, ``N``
counting the lines of this connection. The app accepts with
``"pagi.resume": True``, so when its worker is drained (a rolling reload,
``pagi-ctl drain``) the front moves the connection to a fresh worker instead
of closing it: this app hears ``websocket.disconnect`` with reason
``moved``, attaches its count as the connection's state token
(``pagi.resume.state``), and returns; the new worker's scope finds the token
in ``scope["extensions"]["pagi.resume"]["state"]`` and counts on. The client
sees the pid change and nothing else. See docs/resume.md.
"""

from __future__ import annotations

import os
from typing import Any


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    if scope["type"] != "websocket":
        await send({"type": "http.response.start", "status": 426, "headers": []})
        await send({"type": "http.response.body", "body": b"connect with a WebSocket client\n"})
        return
    resume = scope.get("extensions", {}).get("pagi.resume") or {}
    state = resume.get("state")
    count = int(state) if state else 0
    await receive()  # websocket.connect
    # "pagi.resume": True only where the server offers it (the extension is there)
    await send({"type": "websocket.accept", "pagi.resume": bool(resume) or None})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            if message.get("reason") == "moved":
                await send({"type": "pagi.resume.state", "state": str(count).encode()})
            return
        text = message.get("text") or (message.get("bytes") or b"").decode(errors="replace")
        count += 1
        await send(
            {"type": "websocket.send", "text": f"#{count} {text} (worker pid {os.getpid()})"}
        )
