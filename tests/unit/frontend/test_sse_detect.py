"""Which requests the front opens as sse scopes: the Accept media-range parser."""

from __future__ import annotations

import pytest
from pagi.frontend.http1.parser import RequestHead
from pagi.frontend.streams.sse_detect import accepts_event_stream, is_sse_request, media_ranges


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/event-stream", True),
        ("TEXT/Event-Stream", True),
        ("text/event-stream;q=0.9", True),
        ("text/event-stream ; q=0.001", True),
        ("text/event-stream;q=1", True),
        ("text/event-stream;q=1.000", True),
        ("text/event-stream; charset=utf-8", True),
        ('text/event-stream;foo="a,b;c"', True),
        ("text/html, text/event-stream;q=0.5, */*;q=0.1", True),
        ('application/json;x="text/event-stream", text/event-stream', True),
        (",, text/event-stream ,", True),
        ("text/html,\ttext/event-stream", True),
        # not acceptable, or not asked for
        ("text/event-stream;q=0", False),
        ("text/event-stream;q=0.0", False),
        ("text/event-stream;q=0.000", False),
        ("text/event-stream;q=0, text/event-stream", False),  # an explicit refusal wins
        ("*/*", False),
        ("text/*", False),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
        ('application/json;x="text/event-stream"', False),  # inside a quoted parameter
        ("text/event-streams", False),
        ("xtext/event-stream", False),
        ("text/event-stream-x", False),
        ("application/event-stream", False),
        ("", False),
        # a malformed weight makes its range be ignored
        ("text/event-stream;q=2", False),
        ("text/event-stream;q=abc", False),
        ("text/event-stream;q=0.1234", False),
        ("text/event-stream;q=", False),
        ("text/event-stream;q=abc, text/event-stream;q=0.5", True),
        ('text/event-stream;q="0.5"', True),  # a quoted weight is read as its content
        ('text/event-stream;x="unterminated, text/event-stream', True),
    ],
)
def test_accepts_event_stream(accept: str, expected: bool) -> None:
    assert accepts_event_stream(accept) is expected


def test_media_ranges() -> None:
    assert list(media_ranges('Text/HTML;Level=1;Q=0.5, a/b;q="x", */*')) == [
        ("text/html", 0.5),
        ("a/b", None),
        ("*/*", 1.0),
    ]
    assert list(media_ranges("nonsense, /x, y/, a b/c, ok/yes")) == [("ok/yes", 1.0)]


def head(
    *headers: tuple[bytes, bytes], upgrade: bytes | None = None, method: str = "GET"
) -> RequestHead:
    return RequestHead(
        method=method,
        target=b"/",
        http_version="1.1",
        headers=list(headers),
        keep_alive=True,
        chunked=False,
        content_length=None,
        expect_continue=False,
        upgrade=upgrade,
    )


def test_is_sse_request() -> None:
    assert is_sse_request(head((b"accept", b"text/event-stream")))
    assert is_sse_request(head((b"accept", b"text/event-stream"), method="POST"))
    assert not is_sse_request(head((b"host", b"x")))
    assert not is_sse_request(head((b"accept", b"*/*")))
    # several Accept fields are one list
    assert is_sse_request(head((b"accept", b"text/html"), (b"accept", b"text/event-stream")))
    assert not is_sse_request(
        head((b"accept", b"text/event-stream;q=0"), (b"accept", b"text/event-stream"))
    )
    # a WebSocket upgrade is never an sse request
    assert not is_sse_request(
        head((b"accept", b"text/event-stream"), upgrade=b"websocket"),
    )
    assert is_sse_request(head((b"accept", b"text/event-stream"), upgrade=b"h2c"))
    # latin-1 bytes in the field do not break the parser
    assert is_sse_request(head((b"accept", b"text/\xe9, text/event-stream")))
