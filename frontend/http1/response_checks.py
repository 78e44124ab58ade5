"""What keeps a header from the worker from splitting a response head.

The worker validates every header the app sends, but the front does not
rely on it: a head or trailer section with CR, LF or NUL in an app's header,
or a header name that is not a token, raises :class:`UnsafeResponse` (the
client gets 502, the operator a log line naming the header) instead of
reaching the wire. :class:`InvalidResponse` is the wider error: a head that
cannot be sent at all (a bad content-length, say; the client gets 500).

The check costs one pass over a finished head (:func:`checked_join`) plus a
set lookup per header name: :data:`good_names` remembers the names already
seen to be tokens (bounded: cleared when full), and the head builder of
:mod:`.responses` reads it directly on its hot path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence


class InvalidResponse(ValueError):
    """The application's response head cannot be sent (e.g. a bad content-length).

    ``status`` is what the client gets instead. It is set per instance: the
    compiled build does not see a class attribute a subclass overrides.
    """

    def __init__(self, message: str, status: int = 500) -> None:
        super().__init__(message)
        self.status = status


class UnsafeResponse(InvalidResponse):
    """A header from the worker that could split the response (CR, LF or NUL
    in it, or a name that is not a token): a broken or compromised worker (502)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 502)


_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_UNSAFE_VALUE = re.compile(rb"[\r\n\x00]")
# Header names already seen to be tokens (bounded: cleared when full).
good_names: set[bytes] = set()
_GOOD_NAMES_MAX = 4096


def check_name(name: bytes) -> None:
    """Raise :class:`UnsafeResponse` unless ``name`` is a token."""
    if name in good_names:
        return
    if _TOKEN.fullmatch(name) is None:
        raise UnsafeResponse(f"invalid header name {name[:60]!r} from the worker")
    if len(good_names) >= _GOOD_NAMES_MAX:
        good_names.clear()
    good_names.add(name)


def check_field(name: bytes, value: bytes) -> None:
    """Raise :class:`UnsafeResponse` for a field that could split a head
    (a per-field check, for heads off the hot path)."""
    check_name(name)
    if _UNSAFE_VALUE.search(value) is not None:
        shown = f"{name[:60]!r}: {value[:120]!r}"
        raise UnsafeResponse(f"CR, LF or NUL in header {shown} from the worker")


def checked_join(parts: list[bytes], app_fields: int, headers: Iterable[Sequence[bytes]]) -> bytes:
    """``b"".join(parts)``, refusing CR, LF or NUL inside a header.

    ``parts`` is a head or trailer section whose every element is a whole
    line (ending in CRLF) of the server's own, except ``app_fields`` groups of
    four (name, ``": "``, value, CRLF) holding the app's ``headers``. Then the
    finished bytes must hold exactly one CR and one LF per line and no NUL;
    anything else raises :class:`UnsafeResponse` naming the header.
    """
    block = b"".join(parts)
    lines = len(parts) - 3 * app_fields
    if block.count(b"\n") != lines or block.count(b"\r") != lines or 0 in block:
        for name, value in headers:
            check_field(name, value)
        raise UnsafeResponse("CR, LF or NUL in the response head from the worker")
    return block
