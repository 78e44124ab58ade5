"""A small Quart app: JSON, form data, a streamed response and a WebSocket echo."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from quart import Quart, Response, request, websocket

app = Quart(__name__)


@app.get("/")
async def index() -> dict[str, Any]:
    return {"framework": "quart", "args": dict(request.args)}


@app.post("/form")
async def form() -> dict[str, Any]:
    data = await request.form
    return {"fields": dict(data)}


@app.get("/missing")
async def missing() -> tuple[str, int]:
    return "nothing here", 404


@app.get("/stream")
async def stream() -> Response:
    async def lines() -> AsyncIterator[bytes]:
        for i in range(5):
            yield f"line {i}\n".encode()
            await asyncio.sleep(0.02)

    return Response(lines(), mimetype="text/plain")


@app.websocket("/ws")
async def echo() -> None:
    while True:
        message = await websocket.receive()
        if message == "bye":
            return
        await websocket.send(f"quart: {message}")
