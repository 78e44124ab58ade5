"""The events an application sends on an ``sse`` scope: validation and wire format.

Every function here is pure: it takes the app's event dict and returns what
goes to the front (bytes of the event stream, or normalized fields), or raises
before anything is produced. Errors follow :mod:`.events`: a malformed event
raises :class:`~.events.InvalidEvent` naming the event type and the field.

Wire format (the ``text/event-stream`` syntax of the HTML standard), exactly:

* ``sse.send`` writes, in this order, ``event: E``, ``id: I``, ``retry: N``
  (each only when given) and one ``data: LINE`` per line of ``data``, then a
  blank line. ``data`` is split on ``\\r\\n``, ``\\r`` and ``\\n`` only (not on
  the other characters :meth:`str.splitlines` knows, which are ordinary text in
  an event stream). An empty value is written as the bare field name and colon
  (``data:``), so empty ``data`` is one ``data:`` line; ``data`` absent (or
  ``None``) writes no data line. Lines end with ``\\n``; text is UTF-8.
* ``sse.comment`` writes ``: LINE`` per line of ``comment`` (``:`` alone for an
  empty line), then a blank line.
* ``sse.keepalive`` is not written by the worker: the front writes
  ``:COMMENT\\n\\n`` on its own timer, so ``comment`` must be one line.

Field rules: ``event`` and ``id`` are str without CR or LF (an ``id`` with NUL
would be ignored by browsers, so it is refused too); ``retry`` is an int >= 0
(milliseconds; ``bool`` is refused); ``data`` and ``comment`` are str (bytes
are refused: the stream is text); no str may hold a lone surrogate, which has
no UTF-8 form. ``None`` counts as absent; unknown keys are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .http_events import InvalidEvent, check_body, check_headers, check_status, type_name

START = "sse.start"
SEND = "sse.send"
COMMENT = "sse.comment"
KEEPALIVE = "sse.keepalive"
CLOSE = "sse.close"
DECLINE_START = "sse.http.response.start"
DECLINE_BODY = "sse.http.response.body"

#: Every event type an sse scope accepts, for error messages.
EVENT_TYPES = (START, SEND, COMMENT, KEEPALIVE, CLOSE, DECLINE_START, DECLINE_BODY)

CONTENT_TYPE = b"text/event-stream"
CACHE_CONTROL = b"no-cache"


def unknown_type(etype: str) -> InvalidEvent:
    return InvalidEvent(
        f"unknown event type {etype!r} for an sse scope (expected one of {', '.join(EVENT_TYPES)})"
    )


def _utf8(etype: str, key: str, text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidEvent(
            f"{etype}: {key!r} is not valid text (it holds a lone surrogate, which has no UTF-8 "
            "form)"
        ) from None


def _lines(text: str) -> list[str]:
    """``text`` split on CRLF, CR and LF (and nothing else)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


def _field(name: str, value: str) -> str:
    return f"{name}: {value}\n" if value else f"{name}:\n"


def _one_line(etype: str, key: str, value: object, nul: bool = False) -> str:
    if type(value) is not str:
        raise InvalidEvent(f"{etype}: {key!r} must be a str, got {type_name(value)} {value!r:.60}")
    if "\n" in value or "\r" in value:
        raise InvalidEvent(f"{etype}: {key!r} must not contain CR or LF, got {value!r:.60}")
    if nul and "\x00" in value:
        raise InvalidEvent(f"{etype}: {key!r} must not contain NUL, got {value!r:.60}")
    return value


def encode_send(event: Mapping[str, Any]) -> bytes:
    """The wire bytes of an ``sse.send`` (one complete event, ending in a blank line)."""
    data = event.get("data")
    name = event.get("event")
    ident = event.get("id")
    retry = event.get("retry")
    if name is None and ident is None and retry is None:
        # the common case: data only
        if type(data) is str:
            if "\n" not in data and "\r" not in data:
                return _utf8(SEND, "data", f"data: {data}\n\n" if data else "data:\n\n")
        elif data is None:
            raise InvalidEvent(f"{SEND}: needs 'data' (or at least one of 'event', 'id', 'retry')")
    parts: list[str] = []
    if name is not None:
        parts.append(_field("event", _one_line(SEND, "event", name)))
    if ident is not None:
        parts.append(_field("id", _one_line(SEND, "id", ident, nul=True)))
    if retry is not None:
        if type(retry) is not int or retry < 0:
            raise InvalidEvent(
                f"{SEND}: 'retry' must be an int >= 0 (milliseconds), got {type_name(retry)} "
                f"{retry!r:.60}"
            )
        parts.append(f"retry: {retry}\n")
    if data is not None:
        if type(data) is not str:
            raise InvalidEvent(f"{SEND}: 'data' must be a str, got {type_name(data)} {data!r:.60}")
        for line in _lines(data):
            parts.append(_field("data", line))
    parts.append("\n")
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError:
        for key, value in (("event", name), ("id", ident), ("data", data)):
            if type(value) is str:
                _utf8(SEND, key, value)
        raise  # not reached: one of the fields holds the surrogate


def encode_comment(event: Mapping[str, Any]) -> bytes:
    """The wire bytes of an ``sse.comment``: ``: LINE`` per line, then a blank line."""
    comment = event.get("comment")
    if comment is None:
        comment = ""
    elif type(comment) is not str:
        raise InvalidEvent(
            f"{COMMENT}: 'comment' must be a str, got {type_name(comment)} {comment!r:.60}"
        )
    text = "".join([(f": {line}\n" if line else ":\n") for line in _lines(comment)])
    return _utf8(COMMENT, "comment", text + "\n")


def check_keepalive(event: Mapping[str, Any]) -> tuple[float, str]:
    """``(interval, comment)`` of an ``sse.keepalive``; interval 0 turns it off."""
    interval = event.get("interval")
    if (type(interval) is not int and type(interval) is not float) or not 0 <= interval < math.inf:
        if interval is None:
            raise InvalidEvent(f"{KEEPALIVE}: 'interval' is required (seconds; 0 turns it off)")
        raise InvalidEvent(
            f"{KEEPALIVE}: 'interval' must be a finite number of seconds >= 0, got "
            f"{type_name(interval)} {interval!r:.60}"
        )
    comment = event.get("comment")
    if comment is None:
        comment = ""
    else:
        comment = _one_line(KEEPALIVE, "comment", comment)
        _utf8(KEEPALIVE, "comment", comment)
    return interval, comment


def check_start(event: Mapping[str, Any]) -> tuple[int, list[list[bytes]]]:
    """``(status, headers)`` of an ``sse.start``, with the SSE headers added.

    ``status`` defaults to 200 and must be 200-599 (declining is what
    ``sse.http.response.start`` is for). ``content-type: text/event-stream``
    and ``cache-control: no-cache`` are appended unless the app set those
    headers itself; a ``content-length`` is refused (a stream has no length).
    """
    status = check_status(START, event, 200, 200, 599)
    headers = check_headers(START, event.get("headers"))
    has_type = has_cache = False
    for name, _value in headers:
        if name == b"content-type":
            has_type = True
        elif name == b"cache-control":
            has_cache = True
        elif name == b"content-length":
            raise InvalidEvent(f"{START}: an event stream has no 'content-length' header")
    if not has_type:
        headers.append([b"content-type", CONTENT_TYPE])
    if not has_cache:
        headers.append([b"cache-control", CACHE_CONTROL])
    return status, headers


def check_decline_start(event: Mapping[str, Any]) -> tuple[int, list[list[bytes]]]:
    """``(status, headers)`` of an ``sse.http.response.start`` (the app's own headers only)."""
    status = check_status(DECLINE_START, event, None, 100, 999)
    return status, check_headers(DECLINE_START, event.get("headers"))


def check_decline_body(event: Mapping[str, Any]) -> tuple[bytes, bool]:
    """``(body, more)`` of an ``sse.http.response.body`` (``more`` wins over ``more_body``)."""
    if event.get("file") is not None:
        raise InvalidEvent(f"{DECLINE_BODY}: file bodies are not supported; send 'body' bytes")
    return check_body(event, DECLINE_BODY)
