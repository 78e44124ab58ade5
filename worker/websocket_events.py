"""Validation of the events an application sends on a websocket scope.

Same contract as :mod:`pagi.worker.events` (whose exception classes and header
checker this reuses): every check runs before anything reaches the wire and
raises :class:`~pagi.worker.events.InvalidEvent` naming the event type and the
field; a key set to ``None`` counts as absent; unknown keys are ignored;
``bytearray``/``memoryview`` are copied to ``bytes``. The checkers return the
normalized values that go on the wire, so anything they accept is also
accepted by the link codec (the front never sees a field it would reject).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from .http_events import (
    InvalidEvent,
    check_body,
    check_bytes,
    check_headers,
    check_status,
    type_name,
)

ACCEPT = "websocket.accept"
SEND = "websocket.send"
CLOSE = "websocket.close"
KEEPALIVE = "websocket.keepalive"
HTTP_START = "websocket.http.response.start"
HTTP_BODY = "websocket.http.response.body"

#: Headers of the 101 response that the front writes itself; an app sets the
#: subprotocol with ``subprotocol``, never with a header.
RESERVED_ACCEPT_HEADERS = frozenset(
    {
        b"sec-websocket-protocol",
        b"sec-websocket-accept",
        b"sec-websocket-extensions",
        b"upgrade",
        b"connection",
    }
)

#: A close frame's payload is at most 125 bytes: 2 for the code, 123 for the reason.
MAX_CLOSE_REASON = 123
#: Largest keepalive interval/timeout (seconds); keeps the front's timers sane.
MAX_SECONDS = float(2**31)

#: HTTP token characters (RFC 9110), for subprotocol names.
_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~" + string.ascii_letters + string.digits)


def unknown_type(etype: str) -> InvalidEvent:
    return InvalidEvent(
        f"unknown event type {etype!r} for a websocket scope (expected {ACCEPT}, {SEND}, "
        f"{CLOSE}, {KEEPALIVE}, {HTTP_START} or {HTTP_BODY})"
    )


def valid_close_code(code: int) -> bool:
    """A code an endpoint may put in a close frame (RFC 6455 §7.4, IANA registry).

    1004-1006 and 1015 are reserved for reporting and never sent; 1016-2999 are
    unassigned; 3000-4999 are for libraries and applications.
    """
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def check_accept(event: Mapping[str, Any]) -> tuple[str | None, list[list[bytes]]]:
    """``(subprotocol, headers)`` of a ``websocket.accept``.

    The subprotocol need not be one the client offered (the front passes it
    through; a browser fails the connection if it was not offered).
    """
    subprotocol = event.get("subprotocol")
    if subprotocol is not None:
        if not isinstance(subprotocol, str):
            raise InvalidEvent(
                f"{ACCEPT}: 'subprotocol' must be a str or None, got {type_name(subprotocol)}"
            )
        if not subprotocol or not _TOKEN_CHARS.issuperset(subprotocol):
            raise InvalidEvent(
                f"{ACCEPT}: 'subprotocol' must be a non-empty HTTP token, got {subprotocol!r:.60}"
            )
        subprotocol = str(subprotocol)
    headers = check_headers(ACCEPT, event.get("headers"))
    for name, _value in headers:
        if name in RESERVED_ACCEPT_HEADERS:
            if name == b"sec-websocket-protocol":
                raise InvalidEvent(
                    f"{ACCEPT}: 'headers' must not include sec-websocket-protocol; "
                    "use the 'subprotocol' key"
                )
            raise InvalidEvent(
                f"{ACCEPT}: 'headers' must not include {name.decode()}; the server sets it"
            )
    return subprotocol, headers


def _check_text(etype: str, key: str, text: object) -> str:
    if type(text) is not str:
        if not isinstance(text, str):
            raise InvalidEvent(f"{etype}: {key!r} must be a str, got {type_name(text)}")
        text = str(text)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidEvent(
                f"{etype}: {key!r} cannot be encoded as UTF-8 ({exc.reason} at index {exc.start})"
            ) from None
    return text


def check_send(event: Mapping[str, Any]) -> str | bytes:
    """The message of a ``websocket.send``: ``str`` (text) or ``bytes`` (binary).

    Exactly one of ``bytes`` and ``text`` must be present (not ``None``).
    """
    data = event.get("bytes")
    text = event.get("text")
    if data is not None:
        if text is not None:
            raise InvalidEvent(f"{SEND}: give exactly one of 'bytes' and 'text', not both")
        return data if type(data) is bytes else check_bytes(data, f"{SEND}: 'bytes'")
    if text is None:
        raise InvalidEvent(f"{SEND}: one of 'bytes' or 'text' is required")
    return _check_text(SEND, "text", text)


def check_close(event: Mapping[str, Any]) -> tuple[int, str]:
    """``(code, reason)`` of a ``websocket.close`` (defaults 1000 and ``""``)."""
    code = event.get("code")
    if code is None:
        code = 1000
    elif type(code) is not int or not valid_close_code(code):
        raise InvalidEvent(
            f"{CLOSE}: 'code' must be an int from 1000-1003, 1007-1014 or 3000-4999, "
            f"got {code!r:.60}"
        )
    reason = event.get("reason")
    if reason is None:
        return code, ""
    reason = _check_text(CLOSE, "reason", reason)
    size = len(reason) if reason.isascii() else len(reason.encode("utf-8"))
    if size > MAX_CLOSE_REASON:
        raise InvalidEvent(
            f"{CLOSE}: 'reason' must be at most {MAX_CLOSE_REASON} bytes in UTF-8, got {size}"
        )
    return code, reason


def _check_seconds(key: str, value: object) -> float | int:
    """An int or float from 0 to :data:`MAX_SECONDS` (so never NaN or infinite)."""
    if (type(value) is int or type(value) is float) and 0 <= value <= MAX_SECONDS:
        return value  # type: ignore[return-value]
    raise InvalidEvent(
        f"{KEEPALIVE}: {key!r} must be a number of seconds from 0 to {MAX_SECONDS:.0f}, "
        f"got {value!r:.60}"
    )


def check_keepalive(event: Mapping[str, Any]) -> tuple[float | int, float | int | None]:
    """``(interval, timeout)`` of a ``websocket.keepalive``.

    ``interval`` is required (0 turns pinging off); ``timeout`` ``None`` means
    the front's ``--ws-ping-timeout``.
    """
    interval = event.get("interval")
    if interval is None:
        raise InvalidEvent(f"{KEEPALIVE}: 'interval' is required")
    interval = _check_seconds("interval", interval)
    timeout = event.get("timeout")
    if timeout is not None:
        timeout = _check_seconds("timeout", timeout)
    return interval, timeout


def check_http_start(event: Mapping[str, Any]) -> tuple[int, list[list[bytes]]]:
    """``(status, headers)`` of a ``websocket.http.response.start`` (a denial).

    The status must be final (200-999): an interim 1xx cannot answer the
    handshake, and 101 would claim the upgrade succeeded.
    """
    status = check_status(HTTP_START, event, None, 200, 999)
    return status, check_headers(HTTP_START, event.get("headers"))


def check_http_body(event: Mapping[str, Any]) -> tuple[bytes, bool]:
    """``(body, more)`` of a ``websocket.http.response.body``; ``more`` wins
    over ``more_body`` when both are given."""
    return check_body(event, HTTP_BODY)
