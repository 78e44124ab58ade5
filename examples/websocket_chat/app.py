"""Chat rooms over WebSocket, kept in the memory of one worker process.

``GET /`` is the page; its script joins ``/ws/<room>?name=<nick>``. Every
text message a member sends is broadcast to everyone in the room, with
``* joined`` / ``* left`` notices.

Each member has a bounded outbox (an ``asyncio.Queue``) emptied by its own
task, so one slow browser never delays the others: a member whose outbox is
full is disconnected with 1008 instead of growing memory.

The rooms live in this process only. With ``--workers 2`` or more, two
members of the same room may be served by different workers and will not see
each other: a real deployment needs a shared broker (Redis pub/sub, Postgres
LISTEN/NOTIFY, NATS...) between workers, or ``--workers 1``.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs

OUTBOX = 64  # messages a member may lag behind before being disconnected
MAX_TEXT = 1000  # characters kept of one chat message

PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>pagi chat</title></head>
<body style="font: 1.1em sans-serif; max-width: 40em; margin: 2em auto">
<h1>Room <span id="room"></span></h1>
<form id="form"><input id="text" size="40" autofocus> <button>send</button></form>
<pre id="log" style="white-space: pre-wrap"></pre>
<script>
  const params = new URLSearchParams(location.search);
  const room = params.get("room") || "lobby";
  const name = params.get("name") || "guest" + Math.floor(Math.random() * 1000);
  document.getElementById("room").textContent = room + " as " + name;
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const ws = new WebSocket(scheme + location.host + "/ws/" + encodeURIComponent(room)
                           + "?name=" + encodeURIComponent(name));
  const log = document.getElementById("log");
  ws.onmessage = (e) => { log.textContent = e.data + "\\n" + log.textContent; };
  ws.onclose = (e) => { log.textContent = "(closed " + e.code + ")\\n" + log.textContent; };
  document.getElementById("form").onsubmit = (e) => {
    e.preventDefault();
    const input = document.getElementById("text");
    if (input.value) ws.send(input.value);
    input.value = "";
  };
</script>
</body></html>
"""


class Member:
    __slots__ = ("name", "outbox", "slow")

    def __init__(self, name: str) -> None:
        self.name = name
        self.outbox: asyncio.Queue[str | None] = asyncio.Queue(OUTBOX)
        self.slow = False

    def offer(self, line: str) -> None:
        """Queue ``line`` for this member; a member that lags too far is dropped."""
        if self.slow:
            return
        if self.outbox.full():
            self.slow = True
            self.outbox.get_nowait()  # room for the sentinel that ends its writer
            self.outbox.put_nowait(None)
            return
        self.outbox.put_nowait(line)


ROOMS: dict[str, set[Member]] = {}


def broadcast(room: str, line: str) -> None:
    for member in list(ROOMS.get(room, ())):
        member.offer(line)


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
    elif scope["type"] == "websocket":
        await chat(scope, receive, send)
    elif scope["type"] != "lifespan":
        raise RuntimeError(f"unsupported scope type {scope['type']!r}")


async def chat(scope: dict[str, Any], receive: Any, send: Any) -> None:
    event = await receive()  # websocket.connect
    assert event["type"] == "websocket.connect"
    path: str = scope["path"]
    if not path.startswith("/ws/") or len(path) == 4:
        # refuse the handshake with an ordinary response (PAGI Www 0.6)
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"no such room"})
        return
    room = path[4:]
    query = parse_qs(scope["query_string"].decode("latin-1"))
    name = (query.get("name") or ["guest"])[-1][:40]
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.keepalive", "interval": 30.0})

    member = Member(name)
    members = ROOMS.setdefault(room, set())
    members.add(member)
    broadcast(room, f"* {name} joined ({len(members)} here)")
    writer = asyncio.create_task(write(member, send))
    try:
        while True:
            event = await receive()
            if event["type"] == "websocket.disconnect":
                break
            text = event.get("text")
            if text:
                broadcast(room, f"{name}: {text[:MAX_TEXT]}")
            if writer.done():  # it closed the socket (too slow)
                break
    finally:
        members.discard(member)
        if not members:
            ROOMS.pop(room, None)
        writer.cancel()
        broadcast(room, f"* {name} left")


async def write(member: Member, send: Any) -> None:
    """Send the member's outbox in order; close with 1008 if it fell behind."""
    while True:
        line = await member.outbox.get()
        if line is None:
            await send({"type": "websocket.close", "code": 1008, "reason": "too slow"})
            return
        await send({"type": "websocket.send", "text": line})
