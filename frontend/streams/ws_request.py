"""The request of a WebSocket scope: :class:`WSRequest`.

A :class:`~.ws_stream.WSStream` keeps its validated handshake as one
:class:`WSRequest` from :meth:`~.ws_stream.WSStream.start` on: the target,
the headers, the offered subprotocols and the negotiated permessage-deflate
(RFC 7692). Every OPEN of the scope is built from it — the first one and,
after a move to another worker (:class:`~.ws_move.WSMove`), the next, which
adds the ``pagi.resume`` extension and the channel groups to carry.

Invariant: never modified after it is made; it holds no link or scope state
(that is the stream's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pagi.protocol import BodyMode

from ..websocket.deflate import BoundedDeflate, negotiate
from .opening import open_fields
from .resume import with_extension, with_groups

if TYPE_CHECKING:
    from ..config import FrontConfig
    from ..link.handle import Headers as RequestHeaders
    from ..link.handle import OpenFields
    from .interfaces import StreamHost


class WSRequest:
    """One WebSocket's handshake, as every OPEN of its scope carries it."""

    __slots__ = ("deflate", "headers", "http_version", "query", "raw_path", "subprotocols")

    def __init__(
        self,
        config: FrontConfig,
        target: tuple[bytes, bytes, str],
        headers: RequestHeaders,
        subprotocols: list[str],
        offers: list[bytes],
    ) -> None:
        self.raw_path, self.query, self.http_version = target
        self.headers = headers
        self.subprotocols = subprotocols
        #: the agreed ``sec-websocket-extensions`` value and the codec's
        #: deflate, or None (not offered, not enabled, or nothing acceptable)
        self.deflate: tuple[bytes, BoundedDeflate] | None = None
        if config.ws_per_message_deflate and offers:
            self.deflate = negotiate(offers, config.ws_max_size)

    def open_fields(self, conn: StreamHost, ext: dict[str, Any], groups: list[str]) -> OpenFields:
        """OPEN's fields on ``conn`` with the ``pagi.resume`` value ``ext`` and
        the channel ``groups`` to re-join (none on the first OPEN)."""
        extras = with_groups(with_extension(conn.scope_extras, ext), groups)
        return open_fields(
            conn,
            "websocket",
            self.http_version,
            "GET",
            "wss" if conn.scheme == "https" else "ws",
            self.raw_path,
            self.query,
            self.headers,
            {"subprotocols": self.subprotocols, **extras},
            BodyMode.NONE,
        )
