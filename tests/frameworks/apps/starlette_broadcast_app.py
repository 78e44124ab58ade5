"""Starlette rooms over ``encode/broadcaster`` with pagi's backend.

``/ws/{room}``: a WebSocket that first sends ``{"pid": <worker pid>}``, then
every message published to the room; text it receives is published to the
room. ``POST /publish/{room}``: the body (text) is published; 204.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from broadcaster import Broadcast
from pagi.worker.channels.broadcast import PagiBroadcastBackend
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

broadcast = Broadcast(backend=PagiBroadcastBackend())


async def room(websocket: WebSocket) -> None:
    name = websocket.path_params["room"]
    await websocket.accept()
    async with broadcast.subscribe(channel=name) as subscriber:
        await websocket.send_text(json.dumps({"pid": os.getpid()}))

        async def relay() -> None:
            async for event in subscriber:  # type: ignore[union-attr]
                await websocket.send_text(event.message)

        task = asyncio.create_task(relay())
        try:
            async for text in websocket.iter_text():
                await broadcast.publish(channel=name, message=text)
        finally:
            task.cancel()


async def publish(request: Request) -> Response:
    text = (await request.body()).decode()
    await broadcast.publish(channel=request.path_params["room"], message=text)
    return Response(status_code=204)


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    async with broadcast:  # connect() / disconnect()
        yield


app = Starlette(
    routes=[
        WebSocketRoute("/ws/{room}", room),
        Route("/publish/{room}", publish, methods=["POST"]),
    ],
    lifespan=lifespan,
)
