"""From a parsed request head to OPEN's wire facts; and the access-log line (pure)."""

from __future__ import annotations

import logging

import pytest
from pagi.frontend.access_log import client_label, format_access_line, log_access, short_target
from pagi.frontend.http1.parser import RequestHead
from pagi.frontend.http1.request_head import body_mode, scope_headers, split_target
from pagi.protocol import BodyMode


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (b"/", (b"/", b"")),
        (b"/a/b?x=1&y=2", (b"/a/b", b"x=1&y=2")),
        (b"/a?", (b"/a", b"")),
        (b"/a?b?c", (b"/a", b"b?c")),
        (b"/caf%C3%A9?q=%20", (b"/caf%C3%A9", b"q=%20")),
        (b"http://example.com/p/q?x=1", (b"/p/q", b"x=1")),
        (b"https://example.com:8443/p", (b"/p", b"")),
        (b"http://example.com", (b"/", b"")),
        (b"http://example.com?x=1", (b"/", b"x=1")),
        (b"*", (b"*", b"")),
        (b"example.com:443", (b"example.com:443", b"")),
    ],
)
def test_split_target(target: bytes, expected: tuple[bytes, bytes]) -> None:
    assert split_target(target) == expected


def test_single_cookie_headers_list_is_returned_unchanged() -> None:
    headers = [(b"host", b"x"), (b"cookie", b"a=1")]
    assert scope_headers(headers) is headers


def test_cookies_joined_at_the_first_position() -> None:
    headers = [
        (b"host", b"x"),
        (b"cookie", b"a=1"),
        (b"accept", b"*/*"),
        (b"cookie", b"b=2; c=3"),
        (b"cookie", b"d=4"),
    ]
    assert scope_headers(headers) == [
        (b"host", b"x"),
        (b"cookie", b"a=1; b=2; c=3; d=4"),
        (b"accept", b"*/*"),
    ]


def head(
    content_length: int | None = None, chunked: bool = False, expect: bool = False
) -> RequestHead:
    return RequestHead("POST", b"/", "1.1", [], True, chunked, content_length, expect, None)


def test_body_modes() -> None:
    assert body_mode(head()) == BodyMode.NONE
    assert body_mode(head(0)) == BodyMode.NONE
    assert body_mode(head(0, expect=True)) == BodyMode.NONE
    assert body_mode(head(5)) == BodyMode.STREAM
    assert body_mode(head(chunked=True)) == BodyMode.STREAM
    assert body_mode(head(5, expect=True)) == BodyMode.EXPECT_CONTINUE
    assert body_mode(head(chunked=True, expect=True)) == BodyMode.EXPECT_CONTINUE


# --- access log ------------------------------------------------------------------


def test_client_labels() -> None:
    assert client_label(["127.0.0.1", 5000]) == "127.0.0.1:5000"
    assert client_label(["::1", 5000]) == "[::1]:5000"
    assert client_label(None) == "-"


def test_access_line_format() -> None:
    line = format_access_line(
        "127.0.0.1:5000", "GET", b"/hello?q=1", "1.1", 200, 5, 0.00123, "app:app #1"
    )
    assert line == '127.0.0.1:5000 - "GET /hello?q=1 HTTP/1.1" 200 5 1.2ms worker=app:app #1'


def test_access_line_escapes_unprintable_targets() -> None:
    line = format_access_line("-", "GET", b"/a\xffb\x01", "1.0", 400, 0, 0.0, "-")
    assert '"GET /a\\xffb\\x01 HTTP/1.0" 400 0 0.0ms worker=-' in line
    assert line.isprintable()


def test_short_target_is_bounded() -> None:
    assert short_target(b"/x" * 500).endswith("...")
    assert len(short_target(b"/x" * 500)) == 203
    assert short_target(b"/\xff") == "/\\xff"


def test_log_access_only_when_enabled(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("pagi.access")
    with caplog.at_level(logging.INFO, logger="pagi.access"):
        log_access("c:1", "GET", b"/", "1.1", 200, 0, 0.0, "-")
    assert [r.getMessage() for r in caplog.records] == [
        'c:1 - "GET / HTTP/1.1" 200 0 0.0ms worker=-'
    ]
    caplog.clear()
    old = logger.level
    logger.setLevel(logging.WARNING)
    try:
        log_access("c:1", "GET", b"/", "1.1", 200, 0, 0.0, "-")
    finally:
        logger.setLevel(old)
    assert caplog.records == []
