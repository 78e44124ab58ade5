"""The SSE clock (``sse_resume_app``) and the movable chat (``ws_move_app``) on one
app, for runs that open both (bench/resume.py)."""

from __future__ import annotations

from typing import Any

from sse_resume_app import app as sse_app
from ws_move_app import app as ws_app


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await ws_app(scope, receive, send)
    else:
        await sse_app(scope, receive, send)
