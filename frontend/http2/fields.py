"""Field validity in a received HTTP/2 header block (RFC 9113 sections 8.2.1, 8.2.2).

h2 is run with its own inbound header validation off (it walks every field
through a chain of generators, the largest cost of a request on the front);
these checks replace it, once per field, inside the loop that reads the
request (:func:`~.request.read_request`) or the trailers
(:func:`check_trailers`). A violation makes the request malformed
(:class:`MalformedRequest`): a stream error ``PROTOCOL_ERROR`` (section 8.1.1).

* A field name is not empty and has no character in 0x00-0x20, 0x41-0x5a
  (upper case), 0x7f-0xff, nor a colon (pseudo-header fields are read apart).
* A field value has no NUL, CR or LF, and does not start or end with SP or HTAB.
* No connection-specific field (section 8.2.2); ``te`` only as ``trailers``.

Fields found valid are remembered (short ones, in one bounded set for the
process), so fields that clients repeat on every request (as HPACK makes
cheap) are checked once, not once per request.
"""

from __future__ import annotations

import re

from .heads import CONNECTION_SPECIFIC, Headers

_NAME = re.compile(rb"[^\x00-\x20A-Z:\x7f-\xff]+").fullmatch
_BAD_VALUE = re.compile(rb"[\x00\r\n]|\A[ \t]|[ \t]\Z").search
#: Fields already found valid (values up to :data:`_CACHED_VALUE` bytes).
_VALID: set[tuple[bytes, bytes]] = set()
_CACHE_SIZE = 1024
_CACHED_VALUE = 256


class MalformedRequest(ValueError):
    """The request is malformed (RFC 9113 section 8.1.1): a stream error PROTOCOL_ERROR."""


def check_value(name: bytes, value: bytes) -> None:
    """Raise :class:`MalformedRequest` if ``value`` is not a valid field value."""
    if _BAD_VALUE(value) is not None:
        raise MalformedRequest(f"invalid value of {name[:40]!r}: {value[:40]!r}")


def check_pseudo_value(name: bytes, value: bytes) -> None:
    """:func:`check_value` for a pseudo-header field, remembered like valid fields."""
    field = (name, value)
    if field in _VALID:
        return
    check_value(name, value)
    _remember(field)


def _remember(field: tuple[bytes, bytes]) -> None:
    if len(field[1]) <= _CACHED_VALUE:
        if len(_VALID) >= _CACHE_SIZE:
            _VALID.clear()
        _VALID.add(field)


def check_field(name: bytes, value: bytes) -> None:
    """Raise :class:`MalformedRequest` unless ``name: value`` may appear in a request.

    ``name`` is a regular field's name (not a pseudo-header field)."""
    field = (name, value)
    if field in _VALID:
        return
    if _NAME(name) is None:
        raise MalformedRequest(f"invalid field name {name[:40]!r}")
    check_value(name, value)
    if name in CONNECTION_SPECIFIC:
        raise MalformedRequest(f"connection-specific field {name!r}")
    if name == b"te" and value.lower() != b"trailers":
        raise MalformedRequest(f"te other than trailers: {value[:40]!r}")
    _remember(field)


def check_trailers(block: Headers) -> None:
    """Raise :class:`MalformedRequest` unless ``block`` is a valid trailer section
    (valid regular fields only; a pseudo-header field is malformed there, section 8.1)."""
    for name, value in block:
        if name[:1] == b":":
            raise MalformedRequest(f"pseudo-header field {name[:40]!r} in trailers")
        check_field(name, value)
