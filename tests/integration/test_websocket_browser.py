"""A real browser as the WebSocket client: headless Chromium against pagi.

The page (served by the app under test, ``tests/apps/ws_e2e_app.py`` ``/page``)
opens a WebSocket with two offered subprotocols, sends two text messages
(one with non-ASCII characters, including an astral one) and a binary one,
and closes with 4001 once the binary echo is back. Chromium offers
permessage-deflate, so this also runs the compression path with a browser.
Skipped when the ``playwright`` package or ``/usr/bin/chromium`` is missing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from harness import Processes

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

sync_api = pytest.importorskip("playwright.sync_api")
if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def test_browser_websocket_round_trip(procs: Processes, browser: Any) -> None:
    front = procs.front(app="ws_e2e_app:app", workers=1)
    page = browser.new_page()
    try:
        page.goto(front.url + "/page")
        page.wait_for_function("window.wsResult && window.wsResult.done === true", timeout=10_000)
        result = page.evaluate("window.wsResult")
    finally:
        page.close()
    assert result["opened"] is True
    assert result["protocol"] == "chat.v2"
    assert result["extensions"].startswith("permessage-deflate")
    assert result["echoes"] == ["hello from the browser", "été ☃ 😀"]
    assert result["binary"] == [0, 1, 2, 250, 255]
    assert result["closeCode"] == 4001
    assert not result.get("error")
    deadline = time.monotonic() + 5
    recorded: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not recorded:
        recorded = [e for e in httpx.get(front.url + "/events").json() if e["path"] == "/echo"]
        time.sleep(0.05)
    assert recorded == [{"path": "/echo", "code": 4001, "reason": "done"}]
    assert '"GET /echo HTTP/1.1" 101 ' in front.logs()
