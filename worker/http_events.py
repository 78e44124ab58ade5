"""Validation of the events an application sends on an http scope.

Every check raises before anything reaches the wire, with a message that names
the event type and the field: an application bug shows up as an exception in
the app's own ``await send(...)``, never as a broken response.

* :class:`InvalidEvent` (a ``ValueError``): the event itself is malformed
  (missing or wrongly typed field, unknown type, a header with CR/LF/NUL...).
* :class:`UnexpectedEvent` (a ``RuntimeError``): the event is well formed but
  not allowed now (start twice, body before start, anything after the
  response completed).

Conventions (PAGI for Python): byte strings are ``bytes`` (``bytearray`` and
``memoryview`` are copied to ``bytes``); flags are ``bool`` or the ints 0/1;
a key whose value is ``None`` counts as absent; unknown keys are ignored.
The checkers return normalized values ready for the wire.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any, cast

from .event_errors import ClientDisconnected as ClientDisconnected
from .event_errors import InvalidEvent as InvalidEvent
from .event_errors import UnexpectedEvent as UnexpectedEvent
from .event_errors import client_disconnected as client_disconnected

START = "http.response.start"
BODY = "http.response.body"
TRAILERS = "http.response.trailers"
PATHSEND = "http.response.pathsend"  # ASGI extension: {path}, same as a file body

#: An HTTP field name (RFC 9110 token).
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: Bytes that must never appear in a header name or value on the wire (CR,
#: LF, NUL), as ints: three ``int in bytes`` scans cost a third of one regex
#: search on a typical value.
_CR, _LF, _NUL = 13, 10, 0
#: Header names known to be valid tokens, mapped to their lower-case form.
_VALID_NAMES: dict[bytes, bytes] = {}
_MAX_REMEMBERED_NAMES = 1024


def type_name(value: object) -> str:
    """The name of ``value``'s type, as error messages show it."""
    return type(value).__name__


def event_type(event: object) -> str:
    """The ``type`` of an event, or :class:`InvalidEvent`."""
    try:
        etype = event["type"]  # type: ignore[index]
    except (KeyError, TypeError, IndexError):
        if not isinstance(event, Mapping):
            raise InvalidEvent(f"send() takes an event dict, got {type_name(event)}") from None
        raise InvalidEvent("event has no 'type' key") from None
    if type(etype) is not str:
        raise InvalidEvent(f"event 'type' must be a str, got {type_name(etype)}")
    return etype


def unknown_type(etype: str) -> InvalidEvent:
    return InvalidEvent(
        f"unknown event type {etype!r} for an http scope (expected {START}, {BODY} or {TRAILERS})"
    )


def check_flag(event: Mapping[str, Any], etype: str, key: str) -> bool | None:
    """A flag field: ``True``/``False``, or ``None`` if absent."""
    value = event.get(key)
    if value is None or value is False or value is True:
        return value
    if type(value) is int and (value == 0 or value == 1):
        return bool(value)
    raise InvalidEvent(f"{etype}: {key!r} must be a bool, got {value!r:.60}")


def check_bytes(value: object, what: str) -> bytes:
    """``value`` as ``bytes`` (``bytearray``/``memoryview`` copied), or
    :class:`InvalidEvent` naming ``what`` (e.g. ``"http.response.body: 'body'"``)."""
    if type(value) is bytes:
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise InvalidEvent(f"{what} must be bytes, got {type_name(value)} {value!r:.60}")


def _not_pairs(etype: str, headers: object) -> InvalidEvent:
    return InvalidEvent(
        f"{etype}: 'headers' must be an iterable of [name, value] pairs, got {type_name(headers)}"
    )


def _bad_pair(etype: str, index: int, pair: object) -> InvalidEvent:
    return InvalidEvent(
        f"{etype}: 'headers' item {index} must be a [name, value] pair, "
        f"got {type_name(pair)} {pair!r:.60}"
    )


def check_headers(etype: str, headers: object) -> list[list[bytes]]:
    """``[[name, value], ...]`` with lower-cased names, or :class:`InvalidEvent`.

    Names must be HTTP tokens; values may hold any byte except CR, LF and NUL.
    Names already seen valid are remembered (bounded), so the common case per
    header is one dict lookup and one regex scan of the value.
    """
    if headers is None:
        return []
    kind = type(headers)
    if kind is list or kind is tuple:
        items = cast("Iterable[Any]", headers)
    else:
        if isinstance(headers, str | bytes | bytearray | Mapping):
            raise _not_pairs(etype, headers)
        try:
            items = list(cast("Iterable[Any]", headers))
        except TypeError:
            raise _not_pairs(etype, headers) from None
    out: list[list[bytes]] = []
    names = _VALID_NAMES
    for index, pair in enumerate(items):
        kind = type(pair)
        if (kind is not tuple and kind is not list) or len(pair) != 2:
            if isinstance(pair, str | bytes | bytearray):
                raise _bad_pair(etype, index, pair)
            try:
                name, value = pair
            except (TypeError, ValueError):
                raise _bad_pair(etype, index, pair) from None
        else:
            name, value = pair
        lower = names.get(name) if type(name) is bytes else None
        if lower is None:
            name = check_bytes(name, f"{etype}: header name (item {index})")
            if _TOKEN.fullmatch(name) is None:
                raise InvalidEvent(f"{etype}: header name {name!r:.60} is not a valid HTTP token")
            lower = name.lower()
            if len(names) < _MAX_REMEMBERED_NAMES:
                names[name] = lower
        if type(value) is not bytes:
            value = check_bytes(value, f"{etype}: header value (item {index})")
        if _CR in value or _LF in value or _NUL in value:
            raise InvalidEvent(f"{etype}: header value for {lower!r:.60} contains CR, LF or NUL")
        out.append([lower, value])
    return out


def check_start(event: Mapping[str, Any]) -> tuple[int, list[list[bytes]], bool]:
    """``(status, headers, trailers)`` of an ``http.response.start``."""
    # check_status inlined: this runs once per request
    status = event.get("status")
    if type(status) is not int or not 100 <= status <= 999:
        if status is None:
            raise InvalidEvent(f"{START}: 'status' is required")
        raise InvalidEvent(f"{START}: 'status' must be an int from 100 to 999, got {status!r:.60}")
    headers = check_headers(START, event.get("headers"))
    trailers = event.get("trailers")
    if trailers is None or trailers is False:
        return status, headers, False
    if trailers is not True:
        trailers = check_flag(event, START, "trailers")
    return status, headers, bool(trailers)


def check_status(
    etype: str, event: Mapping[str, Any], default: int | None, low: int, high: int
) -> int:
    """The ``status`` of a response start: an int from ``low`` to ``high``;
    ``default`` when absent (required if ``default`` is None)."""
    status = event.get("status")
    if status is None:
        if default is None:
            raise InvalidEvent(f"{etype}: 'status' is required")
        return default
    if type(status) is not int or not low <= status <= high:
        raise InvalidEvent(
            f"{etype}: 'status' must be an int from {low} to {high}, got {status!r:.60}"
        )
    return status


def check_body(event: Mapping[str, Any], etype: str = BODY) -> tuple[bytes, bool]:
    """``(body, more)`` of an in-memory body event (``http.response.body`` and
    the denial/decline bodies of the websocket and sse scopes).

    ``more`` (PAGI) wins over ``more_body`` (ASGI) when both are present.
    """
    body = event.get("body")
    if type(body) is not bytes:
        body = b"" if body is None else check_bytes(body, f"{etype}: 'body'")
    key = "more"
    more = event.get(key)
    if more is None:
        key = "more_body"
        more = event.get(key)
    if more is True or more is False:
        return body, more
    return body, bool(check_flag(event, etype, key))


#: The payload keys of an ``http.response.body``: at most one per event.
PAYLOAD_KEYS = ("body", "file", "fh")


def payload_key(event: Mapping[str, Any], etype: str = BODY) -> str:
    """Which payload an ``http.response.body`` carries: ``"body"`` (also when
    none is given: an empty body), ``"file"`` or ``"fh"``; more than one
    raises :class:`InvalidEvent`."""
    if event.get("file") is None and event.get("fh") is None:
        return "body"  # the common case, without building the list below
    found = [key for key in PAYLOAD_KEYS if event.get(key) is not None]
    if len(found) > 1:
        raise InvalidEvent(
            f"{etype}: at most one of 'body', 'file' and 'fh' may be given, got "
            + " and ".join(repr(k) for k in found)
        )
    return found[0] if found else "body"


def check_file(
    event: Mapping[str, Any], etype: str = BODY, key: str = "file"
) -> tuple[str | bytes, int, int | None]:
    """``(path, offset, length)`` of a file body (``http.response.body`` with
    ``file``, or ``http.response.pathsend`` with ``path``). Always final."""
    path = event.get(key)
    try:
        fspath = os.fspath(path)  # type: ignore[arg-type]
    except TypeError:
        raise InvalidEvent(
            f"{etype}: {key!r} must be a str or os.PathLike path, got {type_name(path)}"
        ) from None
    offset, length = check_range(event, etype)
    return fspath, offset, length


def check_fh(event: Mapping[str, Any], etype: str = BODY) -> tuple[int, int, int | None]:
    """``(fd, offset, length)`` of an ``fh`` body: an open binary file object
    (anything with ``fileno()``) or a file descriptor (int). The app keeps
    ownership of it; the server streams from a duplicate. Always final."""
    fh = event.get("fh")
    if type(fh) is int:
        fd = fh
    else:
        fileno = getattr(fh, "fileno", None)
        if fileno is None:
            raise InvalidEvent(
                f"{etype}: 'fh' must be an open file object or a file descriptor, got "
                f"{type_name(fh)}"
            )
        try:
            fd = fileno()
        except (OSError, ValueError) as exc:
            raise InvalidEvent(f"{etype}: 'fh' is not an open file ({exc})") from None
        if type(fd) is not int:
            raise InvalidEvent(f"{etype}: 'fh'.fileno() returned {type_name(fd)}, not an int")
    offset, length = check_range(event, etype)
    return fd, offset, length


def check_range(event: Mapping[str, Any], etype: str) -> tuple[int, int | None]:
    """``(offset, length)`` of a file body, and its ``more`` (must be false)."""
    offset = event.get("offset")
    if offset is None:
        offset = 0
    elif type(offset) is not int or offset < 0:
        raise InvalidEvent(f"{etype}: 'offset' must be an int >= 0, got {offset!r:.60}")
    length = event.get("length")
    if length is not None and (type(length) is not int or length < 0):
        raise InvalidEvent(f"{etype}: 'length' must be an int >= 0 or None, got {length!r:.60}")
    if check_flag(event, etype, "more") or check_flag(event, etype, "more_body"):
        raise InvalidEvent(f"{etype}: a file body is always final; 'more' must be false")
    return offset, length


def check_trailers(event: Mapping[str, Any]) -> list[list[bytes]]:
    """The headers of an ``http.response.trailers``."""
    return check_headers(TRAILERS, event.get("headers"))


def has_content_length(headers: list[list[bytes]]) -> bool:
    return any(name == b"content-length" for name, _ in headers)
