"""Starlette with sse-starlette: an event stream, a stream that must stop when
the client leaves, and plain routes. What the server did is at ``/probe``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

PROBE: dict[str, Any] = {"endless": "not started"}


async def countdown(request: Request) -> EventSourceResponse:
    n = int(request.query_params.get("n", "3"))

    async def events() -> AsyncIterator[dict[str, str]]:
        for i in range(n):
            yield {"event": "tick", "id": str(i), "data": f"tick {i}"}
            await asyncio.sleep(0.05)
        yield {"event": "done", "data": "bye"}

    return EventSourceResponse(events(), ping=60)


async def endless(request: Request) -> EventSourceResponse:
    async def events() -> AsyncIterator[dict[str, str]]:
        PROBE["endless"] = "running"
        i = 0
        try:
            while i < 3000:
                yield {"data": str(i)}
                i += 1
                await asyncio.sleep(0.01)
        finally:
            PROBE["endless"] = f"stopped after {i}"

    return EventSourceResponse(events(), ping=60)


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"hello {request.query_params.get('name', 'world')}")


async def probe(request: Request) -> JSONResponse:
    return JSONResponse(PROBE)


app = Starlette(
    routes=[
        Route("/events", countdown),
        Route("/endless", endless),
        Route("/hello", hello),
        Route("/probe", probe),
    ]
)
