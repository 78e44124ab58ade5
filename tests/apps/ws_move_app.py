"""A WebSocket chat that moves between workers, for the move tests (docs/resume.md).

* ``/chat`` accepts with ``"pagi.resume": True``. Each text message ``M`` is
  answered ``N PID M``: ``N`` counts the messages this *connection* sent
  (1, 2, ... across moves: the count travels in the state token), ``PID`` is
  the worker's. On ``websocket.disconnect`` with reason ``moved`` the app
  attaches the count as its state token, waits ``?linger=`` seconds (to hold
  a move open), and returns. A binary message is answered with its length.
* ``/plain`` accepts without opting in (it gets 1012 when its worker drains).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any
from urllib.parse import parse_qs


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    assert scope["type"] == "websocket", scope["type"]
    resume = scope.get("extensions", {}).get("pagi.resume")
    count = int(resume["state"] or b"0") if resume and resume.get("state") else 0
    linger = float(parse_qs(scope["query_string"].decode()).get("linger", ["0"])[0])
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept", "pagi.resume": scope["path"] == "/chat"})
    pid = os.getpid()
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            if message["reason"] == "moved":
                await send({"type": "pagi.resume.state", "state": str(count).encode()})
                await asyncio.sleep(linger)
            return
        count += 1
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": f"{count} {pid} {message['text']}"})
        else:
            await send({"type": "websocket.send", "text": f"{count} {pid} {len(message['bytes'])}"})
