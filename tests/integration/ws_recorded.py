"""What ``tests/apps/ws_e2e_app.py`` recorded: its ``/events`` log, read over HTTP."""

from __future__ import annotations

import time
from typing import Any

import httpx
from harness import Front


def events(front: Front) -> list[dict[str, Any]]:
    """The events the app recorded since the last call (the log is cleared)."""
    return list(httpx.get(front.url + "/events?clear=1").json())


def wait_event(front: Front, path: str, key: str = "code", timeout: float = 10.0) -> dict[str, Any]:
    """The first recorded event on ``path`` that has ``key`` (default: a disconnect)."""
    deadline = time.monotonic() + timeout
    seen: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        seen += events(front)
        for event in seen:
            if event["path"] == path and key in event:
                return event
        time.sleep(0.02)
    raise AssertionError(f"the app recorded no {key!r} on {path}: {seen}")
