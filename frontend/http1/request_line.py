"""The request line: methods, target forms and versions, shared by both backends.

llhttp (the httptools backend) checks the request line as its bytes arrive;
the h11 backend applies the same rules here (:func:`check_request_line_start`,
:func:`parse_request_line`) so that both accept and refuse the same lines.
Where llhttp is stricter than RFC 9112 the httptools backend corrects it:

* **Methods** are case-sensitive tokens (RFC 9110 section 9.1). A token that
  is not a method the server knows -- ``get``, ``FOO``, one longer than any
  known method -- is *not implemented* (501), not malformed; only bytes that
  cannot form a method (a separator, a control character) are 400.
  :func:`method_error` gives that verdict from the first bytes of a request,
  for both backends (llhttp only says "invalid method").
* **Versions**: any ``HTTP/<digit>.<digit>`` passes the line (llhttp runs in
  its lenient-version mode); :func:`.request_checks.build_head` processes a
  higher HTTP/1 minor version as HTTP/1.1 (RFC 9110 section 2.5) and refuses
  other major versions with 505 after the header fields.
"""

from __future__ import annotations

import re
from typing import Final

from .parser import ParseError

# The methods llhttp recognises in HTTP/1.x request mode (``PRI`` only as the
# HTTP/2 preface). Any other method token is answered 501 by both backends.
KNOWN_METHODS: Final = frozenset(
    {
        b"DELETE", b"GET", b"HEAD", b"POST", b"PUT", b"CONNECT", b"OPTIONS",
        b"TRACE", b"COPY", b"LOCK", b"MKCOL", b"MOVE", b"PROPFIND", b"PROPPATCH",
        b"SEARCH", b"UNLOCK", b"BIND", b"REBIND", b"UNBIND", b"ACL", b"REPORT",
        b"MKACTIVITY", b"CHECKOUT", b"MERGE", b"M-SEARCH", b"NOTIFY",
        b"SUBSCRIBE", b"UNSUBSCRIBE", b"PATCH", b"PURGE", b"MKCALENDAR",
        b"LINK", b"UNLINK", b"SOURCE", b"QUERY",
    }
)  # fmt: skip
LONGEST_METHOD: Final = max(map(len, KNOWN_METHODS))

# The HTTP/2 connection preface ("prior knowledge" h2c). Both backends answer
# it with 505 and this reason; a later issue may hand such a connection to h2.
H2_PREFACE: Final = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
H2_PREFACE_REASON: Final = "HTTP/2 connection preface"

TOKEN: Final = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TOKEN_RUN: Final = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]*")
_BLANK_LINES: Final = re.compile(rb"[\r\n]*")

# Every prefix of a method llhttp knows (and of PRI).
_METHOD_PREFIXES: Final = frozenset(
    m[:i] for m in (*KNOWN_METHODS, b"PRI") for i in range(len(m) + 1)
)

# request-line = method SP request-target [SP HTTP-version]. Like llhttp,
# runs of spaces between the parts are accepted; a line without the version
# is an HTTP/0.9 "simple request" (answered 505 after its header fields).
_REQUEST_LINE: Final = re.compile(rb"([^ ]+) +([^ ]+)(?: +HTTP/([0-9])\.([0-9])(.*))?", re.S)
# Target forms llhttp accepts: origin-form, asterisk-form (it lets anything
# follow the star) and absolute-form with a letters-only scheme and a
# restricted authority. CONNECT's authority-form is any visible characters.
# (A "#fragment" passes here and is refused by build_head, for both backends.)
_TARGET: Final = re.compile(
    rb"/[\x21-\x7e]*|\*[\x21-\x7e]*"
    rb"|[A-Za-z]+://[A-Za-z0-9\-._~!$&'()*+,;=:@\[\]%]*(?:[/?][\x21-\x7e]*)?"
)
# What a target may look like before it has ended, for the same forms.
_TARGET_PREFIX: Final = re.compile(
    rb"/[\x21-\x7e]*|\*[\x21-\x7e]*"
    rb"|[A-Za-z]+(?::(?:/(?:/[A-Za-z0-9\-._~!$&'()*+,;=:@\[\]%]*(?:[/?][\x21-\x7e]*)?)?)?)?|"
)
# CONNECT's target as llhttp reads it: a "server" part of visible characters
# except "#<>\^`{|} (and no "@@"), then anything visible after a / or ?.
# build_head then requires host:port (RFC 9112 3.2.3) of both backends.
_CONNECT_SERVER: Final = bytes(c for c in range(0x21, 0x7F) if chr(c) not in '"#<>\\^`{|}/?@')
_CONNECT_TARGET: Final = re.compile(
    rb"(?:[" + re.escape(_CONNECT_SERVER) + rb"]|@(?!@))*(?:[/?][\x21-\x7e]*)?"
)
_SPACES: Final = re.compile(rb" *")
_UNTIL_SPACE: Final = re.compile(rb"[^ \r\n]*")
_VERSION: Final = re.compile(rb"HTTP/[0-9]\.[0-9]")
_VERSION_PREFIX: Final = re.compile(rb"(?:H(?:T(?:T(?:P(?:/(?:[0-9]\.?)?)?)?)?)?)?")


def method_error(start: bytes) -> ParseError | None:
    """The verdict on the method at the start of a request, or None if the
    bytes so far are (the start of) a known method or too few to tell.

    ``start`` is what has arrived of the request line (blank lines before it
    are skipped). A token already longer than every known method, or a
    token followed by a space that is not a known method, is 501; anything
    else that cannot be a method token followed by a space is 400.
    """
    start = start[_match_end(_BLANK_LINES, start, 0) :]
    end = _match_end(_TOKEN_RUN, start, 0)
    method = start[:end]
    if end > LONGEST_METHOD:  # whatever follows: longer than any known method
        return ParseError(501, "method not implemented")
    if end == len(start):  # no byte after the token yet
        return None
    if end == 0 or start[end] != 0x20:
        return ParseError(400, "malformed method")
    if method in KNOWN_METHODS or method == b"PRI":
        return None
    return ParseError(501, "method not implemented")


def parse_request_line(line: bytes) -> tuple[str, bytes, str]:
    """Split and check a complete request line (without its line ending).

    Returns ``(method, target, version)``; the version is ``"0.9"`` for a
    line without one, else the digits as sent (``"1.2"``): which versions are
    served is :func:`.request_checks.build_head`'s decision, after the header
    fields, where llhttp (in lenient-version mode) leaves it. Raises 501 for a
    method the server does not implement, 400 for a malformed line or an
    invalid target form. ``PRI`` is handled here only in a line without a
    version (an HTTP/0.9 request to llhttp, refused with 505 later).
    """
    match = _REQUEST_LINE.fullmatch(line)
    if match is None:
        if _is_empty_connect(line):  # llhttp: an HTTP/0.9 request, 505 later
            return "CONNECT", b"", "0.9"
        raise method_error(line) or ParseError(400, "malformed request line")
    raw_method, target, major, minor, rest = match.groups()
    if raw_method not in KNOWN_METHODS and not (raw_method == b"PRI" and major is None):
        raise method_error(line) or ParseError(400, "malformed method")
    if raw_method == b"CONNECT":
        if _CONNECT_TARGET.fullmatch(target) is None:
            raise ParseError(400, "malformed request target")
    elif _TARGET.fullmatch(target) is None:
        raise ParseError(400, "malformed request target")
    if major is None:
        return raw_method.decode("ascii"), target, "0.9"
    if rest:
        raise ParseError(400, "malformed request line")
    return raw_method.decode("ascii"), target, f"{major[0] - 48}.{minor[0] - 48}"


def check_request_line_start(line: bytes, max_request_line: int, complete: bool) -> None:
    """Refuse a request line from what has arrived of it, as llhttp would.

    llhttp checks the method and the target's characters and form as they
    arrive, and the httptools backend refuses with 414 once ``len(method) +
    len(target) + 10`` (the length of a canonical ``METHOD SP target SP
    HTTP/x.y`` line) is over ``max_request_line``; this applies the same rules
    to ``line``, the start of a request line, or all of it (without its line
    ending) when ``complete``. The version of a complete line is left to
    :func:`parse_request_line`; of an unfinished one, what has arrived must
    be the start of ``HTTP/<digit>.<digit>``.
    """
    check_method_prefix(line)
    sp = line.find(b" ", 0, LONGEST_METHOD + 1)
    if sp < 0:
        return
    start = _match_end(_SPACES, line, sp)
    end = _match_end(_UNTIL_SPACE, line, start)
    target = line[start:end]
    ended = complete or end < len(line)
    if line[:sp] == b"CONNECT":
        valid = _CONNECT_TARGET.fullmatch(target) is not None and bool(
            target or not ended or (complete and _is_empty_connect(line))
        )
    else:
        valid = (_TARGET if ended else _TARGET_PREFIX).fullmatch(target) is not None
    if not valid:
        raise ParseError(400, "malformed request target")
    if sp + len(target) + 10 > max_request_line:
        raise ParseError(414, "request line too long")
    if complete:
        return
    if line[end : end + 1] == b"\r" and len(line) > end + 1:  # CR not followed by LF
        raise ParseError(400, "malformed request line")
    if line[end : end + 1] != b" ":
        return
    rest = line[end:].lstrip(b" ")
    if _VERSION.match(rest) is not None:
        if rest[8:] not in (b"", b"\r"):
            raise ParseError(400, "malformed request line")
    elif _VERSION_PREFIX.fullmatch(rest) is None:
        raise ParseError(400, "malformed request line")


def _match_end(pattern: re.Pattern[bytes], data: bytes, pos: int) -> int:
    match = pattern.match(data, pos)
    return pos if match is None else match.end()


def is_simple_request(line: bytes) -> bool:
    """True for an HTTP/0.9 request line (method and target, no version)."""
    match = _REQUEST_LINE.fullmatch(line)
    return (match is not None and match[3] is None) or _is_empty_connect(line)


def _is_empty_connect(line: bytes) -> bool:
    """``CONNECT`` and spaces only: llhttp reads it as an HTTP/0.9 request
    with an empty target."""
    return line.startswith(b"CONNECT ") and not line[8:].strip(b" ")


def check_method_prefix(prefix: bytes) -> None:
    """Refuse an unfinished request line from its first bytes.

    Passes while ``prefix`` starts with a known method and a space, or is
    the start of a known method; otherwise raises :func:`method_error`'s
    verdict once there is one (a token of unknown method may still be
    growing: it is judged when its space arrives or it outgrows every known
    method).
    """
    sp = prefix.find(b" ", 0, LONGEST_METHOD + 1)
    method = prefix if sp < 0 else prefix[:sp]
    if method in _METHOD_PREFIXES and (sp < 0 or method in KNOWN_METHODS or method == b"PRI"):
        return
    error = method_error(prefix)
    if error is not None:
        raise error
