"""A small FastAPI service: what a new user would try first.

JSON, path and query parameters with validation (422), a streaming response
that must stop when the client leaves, a file with Range support, background
tasks, a WebSocket echo, lifespan state and ``request.is_disconnected()``.
What the server did to the app is readable at ``/probe`` (one worker).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import BackgroundTasks, FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel

PROBE: dict[str, Any] = {"stream": "not started", "tasks": [], "disconnected": None}
# A static 10240-byte file (bytes 0..255 forty times): nothing to clean up even
# when a test kills the server.
DATA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data.bin")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.greeting = "hello from lifespan"
    yield


app = FastAPI(lifespan=lifespan)


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


@app.get("/")
async def root(request: Request) -> dict[str, Any]:
    return {"greeting": request.app.state.greeting, "url": str(request.url)}


@app.get("/items/{item_id}")
async def read_item(item_id: int, q: str | None = None) -> dict[str, Any]:
    return {"item_id": item_id, "q": q}


@app.post("/items/")
async def create_item(item: Item) -> dict[str, Any]:
    return {"created": item.model_dump(), "total": item.price * 2}


@app.get("/slash/")
async def with_slash(request: Request) -> dict[str, str]:
    return {"url": str(request.url), "path": request.url.path}


@app.get("/stream")
async def stream() -> StreamingResponse:
    async def numbers() -> AsyncIterator[bytes]:
        PROBE["stream"] = "running"
        n = 0
        try:
            while n < 5000:  # 50 s at most: far beyond any test
                yield f"{n}\n".encode()
                n += 1
                await asyncio.sleep(0.01)
            PROBE["stream"] = "ran to the end"
        finally:
            if PROBE["stream"] == "running":
                PROBE["stream"] = f"stopped after {n}"

    return StreamingResponse(numbers(), media_type="text/plain")


@app.get("/file")
async def file() -> FileResponse:
    return FileResponse(DATA_FILE, media_type="application/octet-stream", filename="data.bin")


@app.post("/tasks")
async def tasks(background: BackgroundTasks, name: str) -> dict[str, str]:
    def record() -> None:
        PROBE["tasks"].append(name)

    background.add_task(record)
    return {"queued": name}


@app.get("/wait-for-disconnect")
async def wait_for_disconnect(request: Request) -> dict[str, bool]:
    for _ in range(500):
        if await request.is_disconnected():
            PROBE["disconnected"] = True
            return {"disconnected": True}
        await asyncio.sleep(0.01)
    PROBE["disconnected"] = False
    return {"disconnected": False}


@app.post("/upload")
async def upload(request: Request) -> dict[str, int]:
    data = await request.body()
    return {"received": len(data)}


@app.get("/probe")
async def probe() -> dict[str, Any]:
    return PROBE


@app.websocket("/ws")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            text = await websocket.receive_text()
            if text == "close":
                await websocket.close(code=4001, reason="asked")
                return
            await websocket.send_text(f"echo: {text}")
    except WebSocketDisconnect as exc:
        PROBE["ws_disconnect"] = exc.code
