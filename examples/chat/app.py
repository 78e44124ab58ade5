"""Chat rooms that span every worker, through ``scope["pagi.channels"]``.

``GET /`` is the page; its script joins ``/ws/<room>?name=<nick>``. Each
member's scope joins the group ``room.<room>``; what a member says is
``group_send`` to that group, and the front hands one copy to each worker
with members in the room, which gives it to each of them. So two members of
one room talk although ``--workers 4`` put them in different processes (the
page shows which worker serves you).

Each member's channel queues at most ``--channel-capacity`` messages (100 by
default) for it; the room's overflow policy is ``close``: a member that falls
that far behind gets a ``ChannelClosed`` and is disconnected with 1008,
instead of making the server hold an ever-growing queue or silently missing
lines of the conversation.
"""

from __future__ import annotations

import asyncio
import os
import re
from typing import Any
from urllib.parse import parse_qs

MAX_TEXT = 1000  # characters kept of one chat message
_ROOM = re.compile(r"[A-Za-z0-9_.\-]{1,60}\Z")

PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>pagi chat</title></head>
<body style="font: 1.1em sans-serif; max-width: 40em; margin: 2em auto">
<h1>Room <span id="room"></span></h1>
<p id="worker"></p>
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
  window.chat = {lines: [], open: false, worker: null, send: (t) => ws.send(t)};
  ws.onopen = () => { window.chat.open = true; };
  ws.onmessage = (e) => {
    if (e.data.startsWith("@worker ")) {
      window.chat.worker = e.data.slice(8);
      document.getElementById("worker").textContent = "served by worker pid " + window.chat.worker;
      return;
    }
    window.chat.lines.push(e.data);
    log.textContent = e.data + "\\n" + log.textContent;
  };
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
    room = scope["path"].removeprefix("/ws/")
    if "pagi.channels" not in scope.get("extensions", {}) or not _ROOM.match(room):
        # refuse the handshake with an ordinary response (PAGI Www 0.6)
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"no such room"})
        return
    channels = scope["pagi.channels"]
    group = "room." + room
    query = parse_qs(scope["query_string"].decode("latin-1"))
    name = (query.get("name") or ["guest"])[-1][:40]
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.keepalive", "interval": 30.0})
    await send({"type": "websocket.send", "text": f"@worker {os.getpid()}"})
    await channels.group_add(group, overflow="close")
    await channels.group_send(group, {"type": "chat", "line": f"* {name} joined"})
    writer = asyncio.create_task(write(channels, send))
    try:
        while True:
            event = await receive()
            if event["type"] == "websocket.disconnect":
                break
            text = event.get("text")
            if text:
                await channels.group_send(
                    group, {"type": "chat", "line": f"{name}: {text[:MAX_TEXT]}"}
                )
            if writer.done():  # it closed the socket (too slow)
                break
    finally:
        writer.cancel()
        await channels.group_send(group, {"type": "chat", "line": f"* {name} left"})


async def write(channels: Any, send: Any) -> None:
    """Send the room's lines to this member in order; 1008 if it fell behind."""
    from pagi.worker.channels import ChannelClosed

    try:
        while True:
            message = await channels.receive()
            await send({"type": "websocket.send", "text": message["line"]})
    except ChannelClosed:
        await send({"type": "websocket.close", "code": 1008, "reason": "too slow"})
