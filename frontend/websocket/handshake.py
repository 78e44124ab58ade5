"""The WebSocket opening handshake (RFC 6455 section 4) as the front sees it.

Pure functions, no I/O:

* :func:`is_websocket_upgrade` — which parsed requests are WebSocket
  handshakes. The parsers stop after such a request (the bytes after its head
  belong to the WebSocket) and the connection hands it to
  :mod:`.websocket` instead of serving it as HTTP.
* :func:`check_handshake` — validates the upgrade request and extracts what
  the scope and the 101 need (key, subprotocols, extension offers), or raises
  :class:`HandshakeError` with the status the client must get (400, or 426
  with ``sec-websocket-version: 13`` for another protocol version).
* :func:`accept_head` — the ``101 Switching Protocols`` head.

Routing rule: a request is a WebSocket handshake when it is ``GET``,
``HTTP/1.1``, has no body, and its ``Connection`` header has the ``upgrade``
token with ``Upgrade`` naming ``websocket`` (case-insensitive). Anything else
carrying ``Upgrade: websocket`` (HTTP/1.0, another method, a body, no
``Connection: upgrade``) is an ordinary HTTP request: RFC 9110 lets a server
ignore an upgrade it does not take.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from ..http1.date_header import date_header
from ..http1.parser import RequestHead
from ..http1.response_checks import UnsafeResponse, check_field
from ..http1.responses import CRLF, SERVER_LINE, status_line

_WEBSOCKET: Final = b"websocket"
_TOKEN: Final = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

#: Response header names the front writes itself on a 101; the app's copies
#: are dropped (the worker already refuses them, this is the front's guard).
_OWN_HEADERS: Final = frozenset(
    {
        b"upgrade",
        b"connection",
        b"sec-websocket-accept",
        b"sec-websocket-protocol",
        b"sec-websocket-extensions",
        b"content-length",
        b"transfer-encoding",
    }
)

VERSION_HEADER: Final = (b"sec-websocket-version", b"13")
# RFC 6455 section 1.3: appended to the client's key before hashing.
_ACCEPT_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_token(key: bytes) -> bytes:
    """``Sec-WebSocket-Accept`` for the client's ``Sec-WebSocket-Key`` (RFC 6455 4.2.2)."""
    import hashlib  # on the first WebSocket: keeps OpenSSL's hashes off the front's start

    return base64.b64encode(hashlib.sha1(key + _ACCEPT_GUID).digest())


def is_websocket_upgrade(head: RequestHead) -> bool:
    """The request asks for a WebSocket (see the module's routing rule)."""
    upgrade = head.upgrade
    if upgrade is None or head.method != "GET" or head.http_version != "1.1":
        return False
    if head.chunked or head.content_length:
        return False
    if upgrade == _WEBSOCKET:
        return True
    return any(token.strip(b" \t") == _WEBSOCKET for token in upgrade.split(b","))


class HandshakeError(Exception):
    """The upgrade request is not a valid WebSocket handshake."""

    def __init__(
        self, status: int, reason: str, headers: tuple[tuple[bytes, bytes], ...] = ()
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers


@dataclass(slots=True)
class Handshake:
    """What a valid handshake request carries."""

    key: bytes  # Sec-WebSocket-Key as sent (24 base64 characters)
    subprotocols: list[str]  # Sec-WebSocket-Protocol tokens, in order
    extensions: list[bytes]  # Sec-WebSocket-Extensions field values, in order


def _values(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    return [value for key, value in headers if key == name]


def check_handshake(head: RequestHead) -> Handshake:
    """Validate a request for which :func:`is_websocket_upgrade` is true.

    The version is checked first, so a client speaking an older draft learns
    the version this server speaks (426) whatever else is wrong.
    """
    headers = head.headers
    versions = _values(headers, b"sec-websocket-version")
    if len(versions) != 1 or versions[0].strip() != b"13":
        raise HandshakeError(
            426, "this server speaks WebSocket version 13 only", headers=(VERSION_HEADER,)
        )
    keys = _values(headers, b"sec-websocket-key")
    if len(keys) != 1:
        raise HandshakeError(400, "missing or repeated Sec-WebSocket-Key")
    key = keys[0]
    try:
        raw = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 16:
        raise HandshakeError(400, "Sec-WebSocket-Key is not 16 bytes in base64")
    return Handshake(
        key=key,
        subprotocols=parse_subprotocols(_values(headers, b"sec-websocket-protocol")),
        extensions=_values(headers, b"sec-websocket-extensions"),
    )


def parse_subprotocols(values: Sequence[bytes]) -> list[str]:
    """The tokens of every ``Sec-WebSocket-Protocol`` field, in order.

    Empty list elements (``a,,b``) are skipped as RFC 9110's list rule
    allows; anything that is not a token is a 400.
    """
    out: list[str] = []
    for value in values:
        for item in value.split(b","):
            item = item.strip(b" \t")
            if not item:
                continue
            if _TOKEN.fullmatch(item) is None:
                raise HandshakeError(400, "malformed Sec-WebSocket-Protocol")
            out.append(item.decode("ascii"))
    return out


def accept_head(
    key: bytes,
    subprotocol: str | None,
    extension: bytes | None,
    app_headers: Iterable[Sequence[bytes]],
    *,
    server_header: bool,
) -> bytes:
    """The complete ``101`` head accepting the handshake.

    ``extension`` is the negotiated ``Sec-WebSocket-Extensions`` value, if
    any. The app's headers follow the front's own (those it may not set are
    dropped); ``date`` and ``server`` are added unless the app set them.
    Raises :class:`~..http1.response_checks.UnsafeResponse` for a header or subprotocol
    that could split the head.
    """
    parts = [
        status_line(101),
        b"upgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ",
        accept_token(key),
        CRLF,
    ]
    if subprotocol is not None:
        chosen = subprotocol.encode("utf-8", "replace")
        if _TOKEN.fullmatch(chosen) is None:
            raise UnsafeResponse(f"subprotocol {subprotocol[:60]!r} from the worker is not a token")
        parts += (b"sec-websocket-protocol: ", chosen, CRLF)
    if extension is not None:
        parts += (b"sec-websocket-extensions: ", extension, CRLF)
    has_date = has_server = False
    for name, value in app_headers:
        if name in _OWN_HEADERS:
            continue
        if name == b"date":
            has_date = True
        elif name == b"server":
            has_server = True
        check_field(name, value)
        parts += (name, b": ", value, CRLF)
    if not has_date:
        parts.append(date_header.line())
    if server_header and not has_server:
        parts.append(SERVER_LINE)
    parts.append(CRLF)
    return b"".join(parts)
