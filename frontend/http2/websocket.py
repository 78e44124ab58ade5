"""The WebSocket handshake over HTTP/2: an extended CONNECT (RFC 8441 section 4-5).

:func:`check_extended_connect` validates a request that carries ``:protocol``
(:func:`~.request.read_request` has already required ``:method CONNECT``
with it, ``:scheme``, ``:path``, and ``:authority`` or ``host``) and returns
what the ``websocket`` scope and the ``:status 200`` answer need. There is
no ``Sec-WebSocket-Key`` / ``-Accept`` in HTTP/2; the version, subprotocols
and extensions are as over HTTP/1.1 (RFC 8441 section 5), so a client
speaking another version learns ``sec-websocket-version: 13`` from a 426 as
it would over HTTP/1.1.
"""

from __future__ import annotations

from ..websocket.handshake import VERSION_HEADER, HandshakeError, parse_subprotocols
from .request import RequestFacts

WEBSOCKET = "websocket"


def check_extended_connect(facts: RequestFacts) -> tuple[list[str], list[bytes]]:
    """``(subprotocols, extension offers)``; raises :class:`HandshakeError`."""
    if facts.protocol != WEBSOCKET:
        raise HandshakeError(501, f"the :protocol {facts.protocol!r} is not supported")
    headers = facts.headers
    versions = [v for n, v in headers if n == b"sec-websocket-version"]
    if len(versions) != 1 or versions[0].strip() != b"13":
        raise HandshakeError(
            426, "this server speaks WebSocket version 13 only", headers=(VERSION_HEADER,)
        )
    subprotocols = parse_subprotocols([v for n, v in headers if n == b"sec-websocket-protocol"])
    offers = [v for n, v in headers if n == b"sec-websocket-extensions"]
    return subprotocols, offers
