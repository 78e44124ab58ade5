"""From an HTTP/2 request header block to the wire facts of an OPEN (RFC 9113 section 8.3).

h2 runs without its inbound header validation: :func:`read_request` checks
the block in the one loop that reads it — every regular field valid
(:mod:`.fields`), pseudo-header fields first, known, not repeated, no
response-only one, the ones the method needs present (section 8.3.1; RFC 8441
for ``:protocol``), ``:authority`` or ``host`` present and agreeing, one
``host`` at most — and builds the facts: pseudo-header fields are stripped;
``:authority`` becomes a ``host`` field in front when the client sent none;
several ``cookie`` fields are joined by ``"; "`` (section 8.2.3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..http1.request_head import scope_headers, split_target
from ..streams.sse_detect import accepts_event_stream
from .fields import MalformedRequest, check_field, check_pseudo_value

Headers = list[tuple[bytes, bytes]]

#: ``accept`` values already read (clients repeat theirs on every request).
_ACCEPT_CACHE: dict[bytes, bool] = {}
#: The pseudo-header fields of a request.
_PSEUDO = frozenset({b":method", b":path", b":authority", b":scheme", b":protocol"})
#: An RFC 9110 token (a method name).
_TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+").fullmatch


@dataclass(slots=True)
class RequestFacts:
    """What one HTTP/2 request asks for, as the worker link needs it."""

    method: str
    target: bytes  # :path as sent (for logs)
    raw_path: bytes
    query_string: bytes
    headers: Headers  # without pseudo-header fields; host first when from :authority
    protocol: str | None  # :protocol of an extended CONNECT (RFC 8441)
    content_length: int | None
    wants_event_stream: bool
    expect_continue: bool  # ``expect: 100-continue``


def _wants_event_stream(accept: bytes) -> bool:
    """:func:`accepts_event_stream`, remembered per ``accept`` value (bounded)."""
    wants = _ACCEPT_CACHE.get(accept)
    if wants is None:
        if len(_ACCEPT_CACHE) >= 256:
            _ACCEPT_CACHE.clear()
        wants = _ACCEPT_CACHE[accept] = accepts_event_stream(accept.decode("latin-1"))
    return wants


def read_request(block: Headers) -> RequestFacts:
    """The facts of a request header block; raises :class:`MalformedRequest`."""
    method = path = authority = protocol = scheme = host = None
    headers: Headers = []
    content_length: int | None = None
    accept: list[bytes] = []
    expect_continue = False
    for name, value in block:
        if name[:1] == b":":
            if headers:
                raise MalformedRequest(f"pseudo-header field {name[:40]!r} after a regular one")
            check_pseudo_value(name, value)
            if name == b":method" and method is None:
                method = value
            elif name == b":path" and path is None:
                path = value
            elif name == b":authority" and authority is None:
                authority = value
            elif name == b":scheme" and scheme is None:
                scheme = value  # the connection says whether it is secure
            elif name == b":protocol" and protocol is None:
                protocol = value
            elif name in _PSEUDO:
                raise MalformedRequest(f"repeated pseudo-header field {name!r}")
            else:
                raise MalformedRequest(f"pseudo-header field {name[:40]!r} not of a request")
            continue
        check_field(name, value)
        if name == b"host":
            if host is not None:
                raise MalformedRequest("several host fields")
            host = value
        elif name == b"content-length":
            if not value.isdigit() or (content_length is not None and int(value) != content_length):
                raise MalformedRequest(f"invalid content-length {value[:40]!r}")
            content_length = int(value)
        elif name == b"accept":
            accept.append(value)
        elif name == b"expect" and value.lower() == b"100-continue":
            expect_continue = True
        headers.append((name, value))
    if not method or _TOKEN(method) is None:
        raise MalformedRequest("missing or invalid :method")
    if method != b"CONNECT" and protocol is not None:
        raise MalformedRequest(":protocol without CONNECT")
    if method == b"CONNECT" and protocol is None:
        if path is not None or scheme is not None:
            raise MalformedRequest("CONNECT with :path or :scheme")
        path = b""  # plain CONNECT: authority-form, no :path (we refuse it later)
    elif scheme is None:
        raise MalformedRequest("missing :scheme")
    elif path is None or not (path[:1] == b"/" or (path == b"*" and method == b"OPTIONS")):
        raise MalformedRequest("missing or invalid :path")
    if authority is None:
        if host is None:
            raise MalformedRequest("neither :authority nor host")
    elif host is None:
        headers.insert(0, (b"host", authority))
    elif host != authority:
        raise MalformedRequest(":authority and host differ")
    raw_path, query = split_target(path)
    wants_event_stream = bool(accept) and _wants_event_stream(b", ".join(accept))
    return RequestFacts(
        method=method.decode("ascii"),
        target=path,
        raw_path=raw_path,
        query_string=query,
        headers=scope_headers(headers),
        protocol=protocol.decode("latin-1") if protocol is not None else None,
        content_length=content_length,
        wants_event_stream=wants_event_stream,
        expect_continue=expect_continue,
    )
