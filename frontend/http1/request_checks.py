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
   (400); an empty ``Transfer-Encoding`` field (501);
2. an HTTP version whose major number is not 1 (505);
3. whole-head rules: ``Content-Length`` too large, ``Transfer-Encoding`` on
   HTTP/1.0, missing or repeated ``Host`` or an invalid ``Host`` value, a
   ``#fragment`` in the target, a ``CONNECT`` whose target is not
   ``host:port`` or that has a body (all 400); then a
   transfer coding list that is not exactly ``chunked`` (501).

Transfer-Encoding is a list (RFC 9110 section 5.6.1): its elements are
separated by commas with optional whitespace, empty elements are ignored
(``, chunked`` is ``chunked``) and so is whitespace at the end of a field
value (``chunked<TAB>``). llhttp runs in its lenient transfer-encoding mode
so that these rules, not its own, decide (the httptools backend takes over
the de-chunking when llhttp would not do it itself).

The request-line rules (methods, target forms, versions) are in
:mod:`.request_line`.
"""

from __future__ import annotations

import re
from typing import Final

from .parser import ParseError, RequestHead

# Largest Content-Length accepted: anything that does not fit a signed 64-bit
# integer is absurd for a request body and is rejected.
MAX_CONTENT_LENGTH: Final = 2**63 - 1
_LLHTTP_CL_OVERFLOW: Final = 2**64 - 1  # llhttp's own bound, checked in wire order

# uri-host [ ":" port ] (RFC 9112 section 3.2, RFC 3986 section 3.2.2): an
# IP-literal in brackets, or a reg-name (possibly empty, as for an authority
# the target URI does not have), then an optional numeric port.
_URI_HOST: Final = (
    rb"(?:\[(?:[0-9A-Fa-f:.]+|v[0-9A-Fa-f]+\.[0-9A-Za-z\-._~!$&'()*+,;=:]+)\]"
    rb"|(?:[0-9A-Za-z\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)"
)
_HOST_VALUE: Final = re.compile(_URI_HOST + rb"(?::[0-9]*)?")
# CONNECT's authority-form: uri-host ":" port, no userinfo (RFC 9112 3.2.3).
_AUTHORITY_FORM: Final = re.compile(_URI_HOST + rb":[0-9]+")
_CHUNKED_ONLY: Final = [b"chunked"]
# "#" as a byte value: ``int in bytes`` is a plain scan, where ``bytes in
# bytes`` first tries to read its operand as an int in Python 3.11, raising and
# clearing a TypeError each time (about 0.4 µs a test).
_HASH: Final = ord("#")
# Host values already seen to be valid (bounded: cleared when full): a client
# sends the same one on every request, and the regex costs ~1 µs a match.
_good_hosts: set[bytes] = set()
_GOOD_HOSTS_MAX: Final = 1024
# Stands for "more than one Host field" in place of a value.
_MANY_HOSTS: Final = b"\x00"

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


def build_head(
    method: str, target: bytes, version: str, headers: list[tuple[bytes, bytes]]
) -> RequestHead:
    """Apply every semantic rule to a syntactically valid head.

    ``headers`` must already have lower-case names and stripped values; the
    list object is stored in the result as is (no copy). ``version`` is the
    one sent (``"1.2"``); the head reports ``"1.0"`` or ``"1.1"``. Raises
    :class:`ParseError` (400, 501 or 505) per the module precedence.
    """
    content_length, codings, host, connection, upgrade, expect_continue = _fields(headers)

    if version != "1.1" and version != "1.0":
        if version[:2] != "1." or not version[2:].isdigit():
            raise ParseError(505, f"HTTP/{version} not supported")
        version = "1.1"  # a higher minor version is processed as 1.1 (RFC 9110 2.5)
    http11 = version == "1.1"

    if content_length is not None and content_length > MAX_CONTENT_LENGTH:
        raise ParseError(400, "Content-Length too large")
    if codings is not None and not http11:
        raise ParseError(400, "Transfer-Encoding in an HTTP/1.0 request")
    if host is None:
        if http11:
            raise ParseError(400, "missing Host header")
    elif host is _MANY_HOSTS:
        raise ParseError(400, "more than one Host header")
    elif host not in _good_hosts:
        if _HOST_VALUE.fullmatch(host) is None:
            raise ParseError(400, "invalid Host header")
        if len(_good_hosts) >= _GOOD_HOSTS_MAX:
            _good_hosts.clear()
        _good_hosts.add(host)
    if _HASH in target:
        raise ParseError(400, "fragment in request target")
    if method == "CONNECT":
        if _AUTHORITY_FORM.fullmatch(target) is None:
            raise ParseError(400, "CONNECT target is not host:port")
        if codings is not None or content_length:
            raise ParseError(400, "CONNECT request with a body")
    if codings is not None and codings != _CHUNKED_ONLY:
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
) -> tuple[int | None, list[bytes] | None, bytes | None, int, bytes | None, bool]:
    """One pass over the fields, in wire order, applying the per-field rules.

    Returns (Content-Length, the lower-cased transfer codings of every
    Transfer-Encoding field without empty elements, the Host value (or
    :data:`_MANY_HOSTS`), the Connection token bits, the joined Upgrade
    values, whether Expect is 100-continue).
    """
    content_length: int | None = None
    codings: list[bytes] | None = None
    host: bytes | None = None
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
            if not value:
                raise ParseError(501, "unsupported Transfer-Encoding")
            if codings is None:
                codings = []
            if value == b"chunked":  # the common case
                codings.append(value)
            else:
                for coding in value.lower().split(b","):
                    coding = coding.strip(b" \t")
                    if coding:
                        codings.append(coding)
        elif name == _HOST:
            host = value if host is None else _MANY_HOSTS
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
    return content_length, codings, host, connection, upgrade, expect_continue
