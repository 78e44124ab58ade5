"""The header fields of an HTTP/1.1 head, replayed in llhttp's order (pure functions).

The h11 backend (:mod:`.parser_h11`) collects a head's bytes itself; these
functions read its field lines the way llhttp meets them, so that a head with
several defects is refused with the status the httptools backend gives: a
malformed field name first (400), then the limits, which the httptools backend
checks for a field once the next field's name is complete (431), and the
per-field rules of :func:`.request_checks.check_fields` as each value ends.
"""

from __future__ import annotations

from .parser import ParseError, ParserLimits
from .request_checks import check_fields
from .request_line import TOKEN

Fields = list[tuple[bytes, bytes]]


def walk_fields(
    buf: bytearray, start: int, stop: int, limits: ParserLimits, complete: bool
) -> Fields:
    """The fields of the lines of ``buf`` from ``start`` (just past the
    request line) to ``stop``; raises the first error llhttp would meet in
    them. Without ``complete`` the last line may be unfinished (only its name
    counts)."""
    headers: Fields = []
    size = 0
    pos = start
    while pos < stop:
        nl = buf.find(b"\r\n", pos, stop)
        line = bytes(buf[pos : stop if nl < 0 else nl])
        name, colon, value = line.partition(b":")
        if not colon and nl < 0:  # an unfinished name (or the blank line's CR)
            if name not in (b"", b"\r") and TOKEN.fullmatch(name) is None:
                raise _earlier(headers, ParseError(400, "malformed header line"))
            break
        if not colon or TOKEN.fullmatch(name) is None:
            raise _earlier(headers, ParseError(400, "malformed header line"))
        _check_limits(headers, size, limits)
        if nl < 0:  # an unfinished value: llhttp checks it as it arrives
            if value.strip(b" \t"):
                headers.append((name.lower(), value.strip(b" \t")))
            break
        headers.append((name.lower(), value.strip(b" \t")))
        size += len(name) + len(value.lstrip(b" \t")) + 4
        pos = nl + 2
    if complete:
        _check_limits(headers, size, limits)
    else:
        check_fields(headers)
    return headers


def _check_limits(headers: Fields, size: int, limits: ParserLimits) -> None:
    if len(headers) > limits.max_headers:
        raise _earlier(headers, ParseError(431, "too many request header fields"))
    if size > limits.max_header_size:
        raise _earlier(headers, ParseError(431, "request header section too large"))


def _earlier(headers: Fields, error: ParseError) -> ParseError:
    """``error``, unless a per-field rule already fails for ``headers``."""
    try:
        check_fields(headers)
    except ParseError as earlier:
        return earlier
    return error
