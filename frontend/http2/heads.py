"""Response header blocks for HTTP/2 (pure): the app's head and the front's own answers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..http1.responses import date_header, reason_phrase

Headers = list[tuple[bytes, bytes]]

#: Fields that are HTTP/1.1 framing or hop-by-hop; an HTTP/2 message must not
#: carry them (RFC 9113 section 8.2.2), so the app's copies are dropped.
CONNECTION_SPECIFIC = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade"}
)
_STATUS: dict[int, bytes] = {}


def status_value(status: int) -> bytes:
    value = _STATUS.get(status)
    if value is None:
        value = _STATUS[status] = b"%d" % status
    return value


def date_value() -> bytes:
    return date_header.line()[6:-2]


def response_headers(
    status: int, headers: Iterable[Sequence[bytes]], server_header: bool
) -> Headers:
    """``:status``, the app's fields less the connection-specific ones, ``date``, ``server``."""
    out: Headers = [(b":status", status_value(status))]
    has_date = has_server = False
    for name, value in headers:
        if name in CONNECTION_SPECIFIC:
            continue
        if name == b"date":
            has_date = True
        elif name == b"server":
            has_server = True
        out.append((name, value))
    if not has_date:
        out.append((b"date", date_value()))
    if server_header and not has_server:
        out.append((b"server", b"pagi"))
    return out


def trailer_headers(headers: Iterable[Sequence[bytes]]) -> Headers:
    """The app's trailer fields less the connection-specific ones."""
    return [(n, v) for n, v in headers if n not in CONNECTION_SPECIFIC]


def server_answer(
    status: int,
    message: str,
    server_header: bool,
    extra: Iterable[tuple[bytes, bytes]] = (),
) -> tuple[Headers, bytes]:
    """A response the front makes itself: ``<status> <reason>[: message]`` in text/plain."""
    phrase = reason_phrase(status).decode("ascii") or "Error"
    text = f"{status} {phrase}: {message}\n" if message else f"{status} {phrase}\n"
    body = text.encode("utf-8", "replace")
    head = [
        (b":status", status_value(status)),
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", b"%d" % len(body)),
        *extra,
        (b"date", date_value()),
    ]
    if server_header:
        head.append((b"server", b"pagi"))
    return head, body
