"""A PAGI app for the channel tests (tests/integration/test_channels*.py).

* WebSocket ``/ws/<group>?overflow=drop_oldest|close[&movable=1]``: accept
  (``movable``: with ``"pagi.resume": True``; a moved scope joins nothing and
  sends ``{"moved": pid, "groups": [...]}``), join
  ``<group>``, send ``{"ready": <channel name>, "pid": <worker pid>}``, then
  forward every channel message as ``{"got": message}``.
  The client's text messages are JSON commands: ``{"op": "group_send",
  "group", "message"}``, ``{"op": "send", "channel", "message"}``,
  ``{"op": "discard", "group"}``, ``{"op": "join", "group"}``,
  ``{"op": "pause"}`` / ``{"op": "resume"}`` (stop / restart forwarding, so
  the channel's queue fills), ``{"op": "stats"}``
  (answers ``{"stats": {"groups", "dropped"}}``). A closed channel sends
  ``{"closed": reason}`` and closes the WebSocket with 1013.
* SSE ``/feed/<group>``: join, then one event per channel message (its JSON).
  A resumed stream (``pagi.resume`` attempt > 0) does not join again: its
  first event says which groups the front brought along.
* HTTP ``POST /publish/<group>``: the JSON body is group_sent; 204.
  ``GET /pid``: the worker's pid. ``GET /offered``: whether the scope has
  ``pagi.channels`` (key and extension), as JSON. ``GET /receive``: an http scope has no
  channel (500, the RuntimeError's text).
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any
from urllib.parse import parse_qs


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    path: str = scope["path"]
    if scope["type"] == "websocket":
        await _ws(scope, receive, send, path.removeprefix("/ws/"))
    elif scope["type"] == "sse":
        await _feed(scope, receive, send, path.removeprefix("/feed/"))
    elif path.startswith("/publish/"):
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more"):
                break
        await scope["pagi.channels"].group_send(path.removeprefix("/publish/"), json.loads(body))
        await _respond(send, 204, b"")
    elif path == "/offered":  # is the channel API there (extension and scope key)?
        offered = {"key": "pagi.channels" in scope, "ext": "pagi.channels" in scope["extensions"]}
        await _respond(send, 200, json.dumps(offered).encode())
    elif path == "/pid":
        await _respond(send, 200, str(os.getpid()).encode())
    elif path == "/receive":
        try:
            await scope["pagi.channels"].receive()
        except RuntimeError as exc:
            await _respond(send, 500, str(exc).encode())
    else:
        await _respond(send, 404, b"")


async def _respond(send: Any, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": body})


async def _ws(scope: dict[str, Any], receive: Any, send: Any, group: str) -> None:
    from pagi.worker.channels import ChannelClosed

    channels = scope["pagi.channels"]
    query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
    assert (await receive())["type"] == "websocket.connect"
    # ?movable=1: moved to a fresh worker on a rolling reload (pagi.resume)
    await send({"type": "websocket.accept", "pagi.resume": query.get("movable") == "1"})
    if scope["extensions"].get("pagi.resume", {}).get("attempt", 0):
        # moved: no group_add here, the front brought the groups along
        ready = {"moved": os.getpid(), "groups": channels.groups}
    else:
        await channels.group_add(group, overflow=query.get("overflow", "drop_oldest"))
        ready = {"ready": channels.name, "pid": os.getpid(), "ext": scope["extensions"]}
    await send({"type": "websocket.send", "text": json.dumps(ready)})
    paused = asyncio.Event()
    paused.set()

    async def forward() -> None:
        try:
            while True:
                await paused.wait()
                message = await channels.receive()
                await send({"type": "websocket.send", "text": json.dumps({"got": message})})
        except ChannelClosed as exc:
            await send({"type": "websocket.send", "text": json.dumps({"closed": exc.reason})})
            await send({"type": "websocket.close", "code": 1013})

    forwarder = asyncio.create_task(forward())
    try:
        while True:
            event = await receive()
            if event["type"] == "websocket.disconnect":
                return
            command = json.loads(event["text"])
            op = command["op"]
            if op == "group_send":
                await channels.group_send(command["group"], command["message"])
            elif op == "send":
                await channels.send(command["channel"], command["message"])
            elif op == "join":
                await channels.group_add(command["group"])
            elif op == "discard":
                await channels.group_discard(command["group"])
            elif op == "pause":
                paused.clear()
            elif op == "resume":
                paused.set()
            elif op == "stats":
                stats = {"groups": channels.groups, "dropped": channels.dropped}
                await send({"type": "websocket.send", "text": json.dumps({"stats": stats})})
    finally:
        forwarder.cancel()


async def _feed(scope: dict[str, Any], receive: Any, send: Any, group: str) -> None:
    channels = scope["pagi.channels"]
    resumed = scope["extensions"].get("pagi.resume", {}).get("attempt", 0)
    await send({"type": "sse.start"})
    if resumed:  # re-opened on another worker: the front brought the groups along
        ready = {"resumed": os.getpid(), "groups": channels.groups}
    else:
        await channels.group_add(group)
        ready = {"ready": os.getpid()}
    await send({"type": "sse.send", "data": json.dumps(ready)})

    async def disconnected() -> None:
        while (await receive())["type"] != "sse.disconnect":
            pass

    gone = asyncio.ensure_future(disconnected())
    while not gone.done():
        getter = asyncio.ensure_future(channels.receive())
        await asyncio.wait({getter, gone}, return_when=asyncio.FIRST_COMPLETED)
        if not getter.done():
            getter.cancel()
            break
        await send({"type": "sse.send", "data": json.dumps(getter.result())})
