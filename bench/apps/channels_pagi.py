"""Fan-out bench app on pagi's channel layer (``bench/channels.py``).

WebSocket ``/sub``: join the group ``bench``, then forward every group
message's ``t`` (text) to the client. WebSocket ``/pub``: every text received
is group_sent as ``{"type": "m", "t": text}``.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "websocket":
        if scope["type"] == "lifespan":
            while True:
                event = await receive()
                await send({"type": event["type"] + ".complete"})
                if event["type"] == "lifespan.shutdown":
                    return
        return
    channels = scope["pagi.channels"]
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    if scope["path"] == "/pub":
        while True:
            event = await receive()
            if event["type"] == "websocket.disconnect":
                return
            await channels.group_send("bench", {"type": "m", "t": event["text"]})
    await channels.group_add("bench")

    async def forward() -> None:
        while True:
            message = await channels.receive()
            await send({"type": "websocket.send", "text": message["t"]})

    task = asyncio.create_task(forward())
    try:
        while (await receive())["type"] != "websocket.disconnect":
            pass
    finally:
        task.cancel()
