"""Headless Chromium over TLS + HTTP/2: the page, then its WebSocket over HTTP/2 (RFC 8441).

Chromium negotiates ``h2`` by ALPN and, seeing SETTINGS_ENABLE_CONNECT_PROTOCOL,
opens the page's WebSocket as an extended CONNECT stream on the same
connection. The page and the checks are those of test_websocket_browser.py.
"""

from __future__ import annotations

import re
from typing import Any

from harness import Processes
from tls_certs import TlsFiles, tls_front
from ws_page import check_page_result


def test_browser_page_and_websocket_over_http2(
    procs: Processes, tls_files: TlsFiles, browser: Any
) -> None:
    front = tls_front(procs, tls_files, app="ws_e2e_app:app")
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    try:
        page.goto(f"https://localhost:{front.tls_port}/page")
        page.wait_for_function("window.wsResult && window.wsResult.done === true", timeout=10_000)
        result = page.evaluate("window.wsResult")
        protocol = page.evaluate("performance.getEntriesByType('navigation')[0].nextHopProtocol")
    finally:
        context.close()
    assert protocol == "h2"
    check_page_result(result)
    # Both went over one HTTP/2 connection (one client port).
    page_line = front.wait_for_log(r'(\d+\.\d+\.\d+\.\d+:\d+) - "GET /page HTTP/2" 200')
    ws_line = front.wait_for_log(r'(\d+\.\d+\.\d+\.\d+:\d+) - "CONNECT /echo HTTP/2" 200 ')
    assert page_line.group(1) == ws_line.group(1)
    assert re.search(r'"GET /echo HTTP/1\.1"', front.logs()) is None


def test_browser_event_source_over_http2(
    procs: Processes, tls_files: TlsFiles, browser: Any
) -> None:
    front = tls_front(procs, tls_files, app="sse_browser:app")
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    try:
        page.goto(f"https://localhost:{front.tls_port}/")
        # events 1-3, the stream ends, EventSource reconnects and gets 4-5, the
        # stream ends again, the third request gets 204: readyState CLOSED (2)
        page.wait_for_function("window.source.readyState === 2", timeout=10_000)
        received = page.evaluate("window.received")
        protocol = page.evaluate("performance.getEntriesByType('navigation')[0].nextHopProtocol")
    finally:
        context.close()
    assert protocol == "h2"
    assert received == [{"data": f"event {i}", "id": str(i)} for i in range(1, 6)]
    access = [line for line in front.logs().splitlines() if '"GET /events HTTP/2"' in line]
    assert [line.split('" ')[1].split()[0] for line in access] == ["200", "200", "204"]
