"""A real browser as the SSE client: headless Chromium's ``EventSource`` against pagi.

The page is served by the server under test (``tests/apps/sse_browser.py``).
The ``browser`` fixture (tests/conftest.py) fails if Chromium is missing.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from harness import Processes


def test_event_source_receives_reconnects_and_stops_on_204(procs: Processes, browser: Any) -> None:
    front = procs.front(app="sse_browser:app", workers=1)
    page = browser.new_page()
    try:
        page.goto(front.url + "/")
        # events 1-3, the stream ends, EventSource reconnects and gets 4-5, the
        # stream ends again, the third connection gets 204: readyState CLOSED (2)
        page.wait_for_function("window.source.readyState === 2", timeout=10_000)
        received = page.evaluate("window.received")
        opens = page.evaluate("window.opens")
    finally:
        page.close()
    assert received == [{"data": f"event {i}", "id": str(i)} for i in range(1, 6)]
    assert opens == 2
    time.sleep(0.5)  # several retry intervals: no further reconnect after the 204
    log = httpx.get(front.url + "/log").json()
    assert [c["last_event_id"] for c in log] == [None, "3", "5"]
    assert all(c["method"] == "GET" and "text/event-stream" in c["accept"] for c in log)
    access = [line for line in front.logs().splitlines() if '"GET /events ' in line]
    assert [line.split('" ')[1].split()[0] for line in access] == ["200", "200", "204"]
