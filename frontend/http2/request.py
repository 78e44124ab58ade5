"""From an HTTP/2 request header block to the wire facts of an OPEN (RFC 9113 section 8.3).

h2 has already checked what it checks for every header block (lower-case
names, no connection-specific fields, ``te`` only ``trailers``, pseudo-header
fields first, known, not repeated, and the ones a request needs present).
:func:`read_request` adds the checks h2 leaves to the server and builds the
facts: pseudo-header fields are stripped; ``:authority`` becomes a ``host``
field in front when the client sent none (RFC 9113 section 8.3.1); several
``cookie`` fields are joined by ``"; "`` (section 8.2.3).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..http1.request_head import scope_headers, split_target
from ..streams.sse_detect import accepts_event_stream

Headers = list[tuple[bytes, bytes]]

#: RFC 9110 token characters (method names).
_TCHAR = frozenset(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


class MalformedRequest(ValueError):
    """The request is malformed (RFC 9113 section 8.1.1): a stream error PROTOCOL_ERROR."""


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


def read_request(block: Headers) -> RequestFacts:
    """The facts of a request header block; raises :class:`MalformedRequest`."""
    method = path = authority = protocol = None
    headers: Headers = []
    has_host = False
    content_length: int | None = None
    accept: list[bytes] = []
    expect_continue = False
    for name, value in block:
        if name[:1] == b":":
            if name == b":method":
                method = value
            elif name == b":path":
                path = value
            elif name == b":authority":
                authority = value
            elif name == b":protocol":
                protocol = value
            continue  # :scheme: the connection says whether it is secure
        if name == b"host":
            has_host = True
        elif name == b"content-length":
            if not value.isdigit() or (content_length is not None and int(value) != content_length):
                raise MalformedRequest(f"invalid content-length {value[:40]!r}")
            content_length = int(value)
        elif name == b"accept":
            accept.append(value)
        elif name == b"expect" and value.lower() == b"100-continue":
            expect_continue = True
        headers.append((name, value))
    if not method or not all(c in _TCHAR for c in method):
        raise MalformedRequest("invalid :method")
    if method == b"CONNECT" and protocol is None:
        path = b""  # plain CONNECT: authority-form, no :path (we refuse it later)
    elif path is None or not (path[:1] == b"/" or (path == b"*" and method == b"OPTIONS")):
        raise MalformedRequest("invalid :path")
    if authority is not None and not has_host:
        headers.insert(0, (b"host", authority))
    raw_path, query = split_target(path)
    wants_event_stream = bool(accept) and accepts_event_stream(b", ".join(accept).decode("latin-1"))
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
