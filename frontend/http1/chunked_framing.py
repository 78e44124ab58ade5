"""A chunked request body's framing, checked as strictly as llhttp (sans-I/O).

The h11 backend (:mod:`.parser_h11`) lets h11 decode a chunked body, but h11
tolerates whitespace after the chunk size, any bytes in chunk extensions and
obs-fold or bare LF in trailers. :class:`ChunkedFraming` walks the same bytes
first, refuses what llhttp refuses (with the status the httptools backend
gives), and tells how many bytes may go on to h11: up to the end of the last
complete line or data run, never past the message's end.
"""

from __future__ import annotations

import re
from typing import Final

from .parser import ParseError
from .request_checks import FORBIDDEN_TRAILERS
from .request_line import TOKEN

_CR: Final = 13
_CRLF: Final = b"\r\n"

# chunk = chunk-size [chunk-ext] CRLF, with llhttp's extension syntax: spaces
# and tabs after the size (the BWS before ";" of RFC 9112 section 7.1.1, and
# tolerated before the CRLF), none inside the extensions, token names and
# values, quoted-string values.
_CHUNK_LINE: Final = re.compile(
    rb"([0-9A-Fa-f]+)[ \t]*"
    rb"(?:;(?!\Z)[!#$%&'*+\-.^_`|~0-9A-Za-z]*"
    rb"(?:=[!#$%&'*+\-.^_`|~0-9A-Za-z]*"
    rb'(?:"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x20-\x7e\x80-\xff])*")?)?)*'
)
_MAX_CHUNK_SIZE: Final = 2**64 - 1
# A trailer field's value: the same rules as a header field's.
_FIELD_VALUE: Final = re.compile(rb"[\t \x21-\x7e\x80-\xff]*")


def _match_gap(match: re.Match[bytes]) -> int:
    """How many spaces and tabs follow the chunk size in a chunk line match."""
    line = match.string
    end = size_end = match.end(1)
    while end < len(line) and line[end] in b" \t":
        end += 1
    return end - size_end


class ChunkedFraming:
    """Checks a chunked body's framing as strictly as llhttp, ahead of h11.

    h11 decodes the body but tolerates whitespace after the chunk size, any
    bytes in chunk extensions and obs-fold or bare LF in trailers. This check
    walks the same bytes first and tells how many of them may go to h11: up
    to the end of the last complete line or data run, and never past the
    message's end (so h11 never holds bytes of the next request).
    """

    __slots__ = ("_left", "_max_line", "_state", "_trailer_size")

    # The states (constants, one per line: mypyc compiles no tuple assignment here).
    _SIZE: Final = 0
    _DATA: Final = 1
    _DATA_END: Final = 2
    _TRAILER: Final = 3
    _END: Final = 4

    def __init__(self, max_line: int) -> None:
        self._state = self._SIZE
        self._left = 0  # data bytes of the current chunk still to come
        self._max_line = max_line  # bound on a chunk line and on the trailer section
        self._trailer_size = 0

    def advance(self, buf: bytearray) -> int:
        """Check ``buf`` from its start; return how many bytes are checked.

        Raises :class:`ParseError` (400, or 431 for an oversized line or
        trailer section). After the message's last byte it stops; the state
        then stays at the end (the object is not reused).
        """
        pos = 0
        size = len(buf)
        while pos < size:
            state = self._state
            if state == self._DATA:
                take = min(self._left, size - pos)
                pos += take
                self._left -= take
                if not self._left:
                    self._state = self._DATA_END
            elif state == self._DATA_END:
                if buf[pos : pos + 2] != _CRLF[: size - pos]:
                    raise ParseError(400, "malformed chunked body")
                if size - pos < 2:
                    break
                pos += 2
                self._state = self._SIZE
            elif state == self._END:
                break
            else:
                nl = buf.find(b"\n", pos)
                if nl < 0:
                    if size - pos > self._max_line:
                        raise ParseError(431, "chunk header or trailer section too large")
                    break
                if nl == pos or buf[nl - 1] != _CR:
                    raise ParseError(400, "malformed chunked body")
                line = bytes(buf[pos : nl - 1])
                pos = nl + 1
                if state == self._SIZE:
                    match = _CHUNK_LINE.fullmatch(line)
                    if match is None:
                        raise ParseError(400, "malformed chunked body")
                    if len(line) > self._max_line:  # whether or not it came in one piece
                        raise ParseError(431, "chunk header or trailer section too large")
                    self._left = int(match[1], 16)
                    if self._left > _MAX_CHUNK_SIZE:
                        raise ParseError(400, "malformed chunked body")
                    gap = _match_gap(match)
                    if gap or len(match[1]) > 16:
                        # h11 wants at most 20 digits and no whitespace after
                        # them: hand it the size in canonical form.
                        start = nl - 1 - len(line)
                        end = start + match.end(1) + gap
                        canonical = b"%x" % self._left
                        buf[start:end] = canonical
                        shift = end - start - len(canonical)
                        pos -= shift
                        size -= shift
                    self._state = self._DATA if self._left else self._TRAILER
                else:  # a trailer field (checked, then dropped by h11) or the end
                    # In llhttp's order: the name, then the size so far (the
                    # httptools backend checks it once the next name is read),
                    # then the value.
                    name, colon, value = line.partition(b":")
                    if line and (not colon or TOKEN.fullmatch(name) is None):
                        raise ParseError(400, "malformed trailer field")
                    if self._trailer_size > self._max_line:
                        raise ParseError(431, "trailer section too large")
                    if not line:
                        self._state = self._END
                        break
                    if _FIELD_VALUE.fullmatch(value) is None:
                        raise ParseError(400, "malformed trailer field")
                    if name.lower() in FORBIDDEN_TRAILERS:
                        raise ParseError(400, "forbidden field in trailer section")
                    self._trailer_size += len(name) + len(value.lstrip(b" \t")) + 4
        return pos
