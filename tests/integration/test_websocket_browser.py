"""A real browser as the WebSocket client: headless Chromium against pagi.

The page (served by the app under test, ``tests/apps/ws_e2e_app.py`` ``/page``)
opens a WebSocket with two offered subprotocols, sends two text messages
(one with non-ASCII characters, including an astral one) and a binary one,
and closes with 4001 once the binary echo is back. Chromium offers
permessage-deflate, so this also runs the compression path with a browser.
The ``browser`` fixture (tests/conftest.py) fails if Chromium is missing.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from harness import Processes
from ws_page import check_page_result


def test_browser_websocket_round_trip(procs: Processes, browser: Any) -> None:
    front = procs.front(app="ws_e2e_app:app", workers=1)
    page = browser.new_page()
    try:
        page.goto(front.url + "/page")
        page.wait_for_function("window.wsResult && window.wsResult.done === true", timeout=10_000)
        result = page.evaluate("window.wsResult")
    finally:
        page.close()
    check_page_result(result)
    deadline = time.monotonic() + 5
    recorded: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not recorded:
        recorded = [e for e in httpx.get(front.url + "/events").json() if e["path"] == "/echo"]
        time.sleep(0.05)
    assert recorded == [{"path": "/echo", "code": 4001, "reason": "done"}]
    assert '"GET /echo HTTP/1.1" 101 ' in front.logs()
