"""Semantic checks of a request head, shared by both parser backends.

Both backends hand :func:`build_head` the same thing -- method, raw target,
version string and the header list in wire order (lower-case names, values
with surrounding whitespace stripped) -- and get back the
:class:`~.http_parser.RequestHead` or a :class:`~.http_parser.ParseError`.
Putting every framing and semantic rule here is what makes ``--http h11`` and
``--http httptools`` answer the same bytes with the same status.

Precedence when a head has several defects (the order is chosen to match what
llhttp reports while it streams, so the h11 backend, which sees the whole head
at once, reaches the same answer):

1. per field, in wire order: an invalid, duplicate or conflicting
   ``Content-Length`` (400); ``Transfer-Encoding`` after ``Content-Length``
   (400); a transfer coding after ``chunked`` or an empty one (501);
2. an HTTP version other than 1.0/1.1 (505);
3. whole-head rules: ``Content-Length`` too large, ``Transfer-Encoding`` on
   HTTP/1.0, missing or repeated ``Host``, a ``CONNECT`` with a body (all
   400); then a transfer coding list that is not exactly ``chunked`` (501).

The second half of the module holds the request-line rules llhttp applies
while the line arrives; the httptools backend gets them from llhttp itself,
the h11 backend applies them (:func:`check_request_line_start`,
:func:`parse_request_line`) so that both accept and refuse the same lines.
"""

from __future__ import annotations

import re
from typing import Final

from .parser import ParseError, RequestHead

# The methods llhttp recognises in HTTP/1.x request mode (``PRI`` only as the
# HTTP/2 preface). The h11 backend rejects any other method too, with 400, so
# that both backends agree; llhttp cannot be taught new methods.
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

# Largest Content-Length accepted: anything that does not fit a signed 64-bit
# integer is absurd for a request body and is rejected.
MAX_CONTENT_LENGTH: Final = 2**63 - 1
_LLHTTP_CL_OVERFLOW: Final = 2**64 - 1  # llhttp's own bound, checked in wire order

_SUPPORTED_VERSIONS: Final = frozenset({"1.0", "1.1"})
# Versions llhttp lets through the request line (and answers later, after the
# header fields); every other well-formed version is refused at once.
_DEFERRED_VERSIONS: Final = frozenset({"0.9", "2.0"})

_CONTENT_LENGTH: Final = b"content-length"
_TRANSFER_ENCODING: Final = b"transfer-encoding"
_HOST: Final = b"host"
_CONNECTION: Final = b"connection"
_UPGRADE: Final = b"upgrade"
_EXPECT: Final = b"expect"
_SPECIAL: Final = frozenset(
    {_CONTENT_LENGTH, _TRANSFER_ENCODING, _HOST, _CONNECTION, _UPGRADE, _EXPECT}
)


# Trailer fields refused with 400: framing and connection control have no
# meaning after the body (llhttp would apply the first two and close the
# connection on the third).
FORBIDDEN_TRAILERS: Final = frozenset({_CONTENT_LENGTH, _TRANSFER_ENCODING, _CONNECTION})


# Bits of the Connection tokens that matter.
_CLOSE: Final = 1
_KEEP_ALIVE: Final = 2
_UPGRADE_TOKEN: Final = 4
_CONNECTION_TOKENS: Final = {
    b"close": _CLOSE,
    b"keep-alive": _KEEP_ALIVE,
    b"upgrade": _UPGRADE_TOKEN,
}


def _last_coding(codings: bytes) -> bytes:
    return codings.rpartition(b",")[2].strip(b" \t").lower()


def build_head(
    method: str, target: bytes, version: str, headers: list[tuple[bytes, bytes]]
) -> RequestHead:
    """Apply every semantic rule to a syntactically valid head.

    ``headers`` must already have lower-case names and stripped values; the
    list object is stored in the result as is (no copy). Raises
    :class:`ParseError` (400, 501 or 505) per the module precedence.
    """
    content_length, codings, hosts, connection, upgrade, expect_continue = _fields(headers)

    if version not in _SUPPORTED_VERSIONS:
        raise ParseError(505, f"HTTP/{version} not supported")
    http11 = version == "1.1"

    if content_length is not None and content_length > MAX_CONTENT_LENGTH:
        raise ParseError(400, "Content-Length too large")
    if codings is not None and not http11:
        raise ParseError(400, "Transfer-Encoding in an HTTP/1.0 request")
    if hosts != 1 and (hosts or http11):
        raise ParseError(400, "missing Host header" if hosts == 0 else "more than one Host header")
    if method == "CONNECT" and (codings is not None or content_length):
        raise ParseError(400, "CONNECT request with a body")
    if codings is not None and codings.strip(b" \t").lower() != b"chunked":
        raise ParseError(501, "unsupported Transfer-Encoding")

    if http11:
        keep_alive = not connection & _CLOSE
    else:
        keep_alive = connection & (_CLOSE | _KEEP_ALIVE) == _KEEP_ALIVE
    return RequestHead(
        method,
        target,
        version,
        headers,
        keep_alive,
        codings is not None,
        content_length,
        expect_continue and http11,
        upgrade.lower() if upgrade is not None and connection & _UPGRADE_TOKEN else None,
    )


def check_fields(headers: list[tuple[bytes, bytes]]) -> None:
    """Apply only the per-field rules (precedence step 1) to ``headers``.

    The h11 backend uses this to find which of several defects llhttp would
    report first: a forbidden field before a malformed line wins.
    """
    _fields(headers)


def _fields(
    headers: list[tuple[bytes, bytes]],
) -> tuple[int | None, bytes | None, int, int, bytes | None, bool]:
    """One pass over the fields, in wire order, applying the per-field rules.

    Returns (Content-Length, the comma-joined Transfer-Encoding values, the
    number of Host fields, the Connection token bits, the joined Upgrade
    values, whether Expect is 100-continue).
    """
    content_length: int | None = None
    codings: bytes | None = None
    hosts = 0
    connection = 0
    upgrade: bytes | None = None
    expect_continue = False

    for name, value in headers:
        if name not in _SPECIAL:
            continue
        if name == _CONTENT_LENGTH:
            if codings is not None:
                raise ParseError(400, "both Content-Length and Transfer-Encoding present")
            if content_length is not None:
                raise ParseError(400, "duplicate Content-Length")
            if not value.isdigit() or len(value) > 20:
                raise ParseError(400, "invalid Content-Length")
            content_length = int(value)
            if content_length > _LLHTTP_CL_OVERFLOW:
                raise ParseError(400, "Content-Length too large")
        elif name == _TRANSFER_ENCODING:
            if content_length is not None:
                raise ParseError(400, "both Content-Length and Transfer-Encoding present")
            if not value or (codings is not None and _last_coding(codings) == b"chunked"):
                raise ParseError(501, "unsupported Transfer-Encoding")
            if b"," in value:
                for coding in value.lower().split(b",")[:-1]:
                    if coding.strip(b" \t") == b"chunked":
                        raise ParseError(501, "unsupported Transfer-Encoding")
            codings = value if codings is None else codings + b", " + value
        elif name == _HOST:
            hosts += 1
        elif name == _CONNECTION:
            value = value.lower()
            bits = _CONNECTION_TOKENS.get(value)  # the common single token
            if bits is None:
                bits = 0
                for token in value.split(b","):
                    bits |= _CONNECTION_TOKENS.get(token.strip(b" \t"), 0)
            connection |= bits
        elif name == _UPGRADE:
            if value:
                upgrade = value if upgrade is None else upgrade + b", " + value
        elif value.lower() == b"100-continue":  # Expect
            expect_continue = True
    return content_length, codings, hosts, connection, upgrade, expect_continue


# --- the request line, as llhttp accepts it (applied by the h11 backend) ---

# Every proper prefix of a method llhttp knows, to refuse an unknown method
# from its first bytes, as llhttp does.
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
_TARGET: Final = re.compile(
    rb"/[\x21-\x7e]*|\*[\x21-\x7e]*"
    rb"|[A-Za-z]+://[A-Za-z0-9\-._~!$&'()*+,;=:@\[\]%]*(?:[/?][\x21-\x7e]*)?"
)
# What a target may look like before it has ended, for the same forms.
_TARGET_PREFIX: Final = re.compile(
    rb"/[\x21-\x7e]*|\*[\x21-\x7e]*"
    rb"|[A-Za-z]+(?::(?:/(?:/[A-Za-z0-9\-._~!$&'()*+,;=:@\[\]%]*(?:[/?][\x21-\x7e]*)?)?)?)?|"
)
_VCHARS: Final = re.compile(rb"[\x21-\x7e]+")
_SPACES: Final = re.compile(rb" *")
_UNTIL_SPACE: Final = re.compile(rb"[^ \r\n]*")
_VERSION: Final = re.compile(rb"HTTP/([0-9])\.([0-9])")
_VERSION_PREFIX: Final = re.compile(rb"(?:H(?:T(?:T(?:P(?:/(?:[0-9]\.?)?)?)?)?)?)?")
TOKEN: Final = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def parse_request_line(line: bytes) -> tuple[str, bytes, str]:
    """Split and check a complete request line (without its line ending).

    Returns ``(method, target, version)``; the version is ``"0.9"`` for a
    line without one. Raises 400 for a malformed line, an unknown method or an
    invalid target form, and 505 for a version other than 1.0/1.1 except 0.9
    and 2.0, which :func:`build_head` refuses after the header fields (where
    llhttp refuses them). Like llhttp, an unsupported version is 505 even if
    garbage follows it. ``PRI`` is not handled here.
    """
    match = _REQUEST_LINE.fullmatch(line)
    if match is None:
        sp = line.find(b" ")
        if sp <= 0 or line[:sp] not in KNOWN_METHODS:
            raise ParseError(400, "unknown or malformed method")
        raise ParseError(400, "malformed request line")
    raw_method, target, major, minor, rest = match.groups()
    if raw_method not in KNOWN_METHODS:
        raise ParseError(400, "unknown or malformed method")
    if raw_method == b"CONNECT":
        if _VCHARS.fullmatch(target) is None:
            raise ParseError(400, "malformed request target")
    elif _TARGET.fullmatch(target) is None:
        raise ParseError(400, "malformed request target")
    if major is None:
        return raw_method.decode("ascii"), target, "0.9"
    version = f"{major[0] - 48}.{minor[0] - 48}"
    if version not in _SUPPORTED_VERSIONS and version not in _DEFERRED_VERSIONS:
        raise ParseError(505, f"HTTP/{version} not supported")
    if rest:
        raise ParseError(400, "malformed request line")
    return raw_method.decode("ascii"), target, version


def check_request_line_start(line: bytes, max_request_line: int, complete: bool) -> None:
    """Refuse a request line from what has arrived of it, as llhttp would.

    llhttp checks the method and the target's characters and form as they
    arrive, and the httptools backend refuses with 414 once ``len(method) +
    len(target) + 10`` (the length of a canonical ``METHOD SP target SP
    HTTP/x.y`` line) is over ``max_request_line``; this applies the same rules
    to ``line``, the start of a request line, or all of it (without its line
    ending) when ``complete``. The version of a complete line is left to
    :func:`parse_request_line`; of an unfinished one, what has arrived must
    be the start of one (an unsupported version is 505 at once).
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
        valid = _VCHARS.fullmatch(target) is not None or not (ended or target)
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
    version = _VERSION.match(rest)
    if version is not None:
        number = f"{version[1][0] - 48}.{version[2][0] - 48}"
        if number not in _SUPPORTED_VERSIONS and number not in _DEFERRED_VERSIONS:
            raise ParseError(505, f"HTTP/{number} not supported")
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
    return match is not None and match[3] is None


def check_method_prefix(prefix: bytes) -> None:
    """Refuse an unfinished request line from its first bytes.

    Mirrors llhttp, which rejects a method as soon as its bytes stop matching
    a known one: raises 400 unless ``prefix`` starts with a known method and a
    space, or is itself the start of a known method.
    """
    sp = prefix.find(b" ", 0, LONGEST_METHOD + 1)
    method = prefix if sp < 0 else prefix[:sp]
    if method not in _METHOD_PREFIXES or (
        sp >= 0 and method not in KNOWN_METHODS and method != b"PRI"
    ):
        raise ParseError(400, "unknown or malformed method")
