"""A new HTTP/2 request stream: checked, then served by a protocol-neutral stream.

:func:`open_stream` turns a request's HEADERS into an :class:`~.writer.H2Writer`
with its stream: an :class:`~..streams.http_stream.HTTPStream` for ``http``
and ``sse`` scopes, a :class:`~..streams.ws_stream.WSStream` for an extended
CONNECT with ``:protocol websocket`` (RFC 8441). Requests it refuses:

* after our GOAWAY (a stream id above the last one announced):
  ``RST_STREAM REFUSED_STREAM``, safe to retry elsewhere;
* malformed (:class:`~.fields.MalformedRequest`): ``RST_STREAM PROTOCOL_ERROR``;
* a plain CONNECT: ``501`` (pagi is not a proxy); ``content-length`` above
  ``--max-body-size``: ``413``; a bad WebSocket handshake: ``400``/``426``/``501``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pagi.protocol import BodyMode

from ..streams.http_stream import HTTPStream
from ..streams.ws_stream import WSStream
from ..websocket.handshake import HandshakeError
from . import frames as F
from .fields import MalformedRequest
from .request import read_request
from .websocket import check_extended_connect
from .writer import H2Writer

if TYPE_CHECKING:
    from .connection import HTTP2Connection
    from .core import H2Core
    from .listener import Fields

logger = logging.getLogger("pagi.front")


def refuse(core: H2Core, sid: int, code: int) -> None:
    """RST_STREAM ``code`` on a new stream (nothing if it is already closed)."""
    core.out.reset_stream(sid, code)


def open_stream(conn: HTTP2Connection, sid: int, fields: Fields, ended: bool) -> H2Writer | None:
    """The writer of the new stream, or None if the stream was refused outright."""
    core = conn.core
    if core.last_stream is not None and sid > core.last_stream:
        refuse(core, sid, F.REFUSED_STREAM)
        return None
    try:
        facts = read_request(fields)
        if ended and facts.content_length:
            raise MalformedRequest("content-length without a body")
    except MalformedRequest as exc:
        logger.info("%s HTTP/2 malformed request on stream %d: %s", conn.peer, sid, exc)
        refuse(core, sid, F.PROTOCOL_ERROR)
        return None
    if facts.content_length is not None:
        core.out.expect_length(sid, facts.content_length)
    writer = H2Writer(conn, sid, facts.method == "HEAD", ended)
    now = conn.loop.time()
    if facts.method == "CONNECT" and facts.protocol is not None:
        ws = writer.ws = WSStream(conn, writer, facts.target, "2", now)
        try:
            subprotocols, offers = check_extended_connect(facts)
        except HandshakeError as exc:
            logger.info("%s bad request: %d %s (HTTP/2)", conn.peer, exc.status, exc.reason)
            ws.reply(exc.status, exc.reason, exc.headers)
            return writer
        ws.start(facts.raw_path, facts.query_string, facts.headers, subprotocols, offers)
        return writer
    stream = HTTPStream(
        conn, writer, facts.method, facts.target, "2", facts.wants_event_stream, now
    )
    writer.http = stream
    limit = conn.config.max_body_size
    if facts.method == "CONNECT":
        stream.reply(501, "CONNECT is not supported here", ())
    elif facts.content_length is not None and facts.content_length > limit:
        logger.info("%s bad request: 413 content-length over %d (HTTP/2)", conn.peer, limit)
        stream.reply(413, f"request body larger than {limit} bytes", ())
    else:
        if ended:
            mode = BodyMode.NONE
        elif facts.expect_continue:
            mode = BodyMode.EXPECT_CONTINUE
        else:
            mode = BodyMode.STREAM
        stream.start(facts.raw_path, facts.query_string, facts.headers, mode)
        writer.feed()
    return writer
