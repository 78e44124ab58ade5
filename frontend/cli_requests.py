"""Options of the ``pagi-front`` command line: the limits of one client's requests.

The HTTP/1.1 parser and its limits, keep-alive and header timeouts, and the
WebSocket limits and timers. Each name is the ``Annotated`` type of one
parameter of :func:`~pagi.frontend.cli_command.serve`; the reference is
``docs/cli.md``.
"""

from typing import Annotated

import typer
from pagi.protocol.cli_shared import flag

from .cli_values import HttpParser, count, http_callback, positive_int, seconds, size

Http = Annotated[
    HttpParser,
    typer.Option(
        envvar="PAGI_HTTP",
        callback=http_callback,
        help="HTTP/1.1 parser: h11 (pure Python), httptools (C, llhttp), or auto "
        "(httptools when installed).",
    ),
]

MaxBodySize = Annotated[
    str,
    size(
        "PAGI_MAX_BODY_SIZE", "Largest request body accepted (413 above it). Units K, M, G allowed."
    ),
]

MaxHeaderSize = Annotated[
    str, size("PAGI_MAX_HEADER_SIZE", "Largest request header block (431 above it).")
]

MaxHeaders = Annotated[
    int,
    count("PAGI_MAX_HEADERS", "Most header fields in one request (431 above it).", positive=True),
]

MaxRequestLine = Annotated[
    int,
    typer.Option(
        envvar="PAGI_MAX_REQUEST_LINE",
        metavar="BYTES",
        callback=positive_int,
        help="Longest request line in bytes (414 above it).",
    ),
]

ServerHeader = Annotated[
    bool,
    flag(
        "--server-header/--no-server-header",
        "PAGI_SERVER_HEADER",
        "Add 'server: pagi' to responses that do not set one.",
    ),
]

SseResume = Annotated[
    bool,
    flag(
        "--sse-resume/--no-sse-resume",
        "PAGI_SSE_RESUME",
        "Keep an event stream open when its worker drains or dies and resume it on "
        "another worker with Last-Event-ID (docs/resume.md).",
    ),
]

KeepaliveTimeout = Annotated[
    float, seconds("PAGI_KEEPALIVE_TIMEOUT", "Close an idle keep-alive connection after this long.")
]

HeaderTimeout = Annotated[
    float,
    seconds("PAGI_HEADER_TIMEOUT", "A request head must arrive completely within this (else 408)."),
]

WsMaxSize = Annotated[
    str,
    size(
        "PAGI_WS_MAX_SIZE",
        "Largest WebSocket message accepted from a client, after "
        "decompression (close 1009 above it).",
    ),
]

WsPerMessageDeflate = Annotated[
    bool,
    flag(
        "--ws-per-message-deflate/--no-ws-per-message-deflate",
        "PAGI_WS_PER_MESSAGE_DEFLATE",
        "Accept the permessage-deflate WebSocket extension when a client offers it.",
    ),
]

WsMaxQueue = Annotated[
    str,
    size(
        "PAGI_WS_MAX_QUEUE",
        "Most WebSocket data the front holds for an app that is not reading "
        "it (close 1008 above it).",
    ),
]

WsPingInterval = Annotated[
    float,
    typer.Option(
        envvar="PAGI_WS_PING_INTERVAL",
        metavar="SECONDS",
        min=0.0,
        help="Ping every WebSocket this often; 0: only when the app asks with "
        "websocket.keepalive, which overrides this per connection.",
    ),
]

WsPingTimeout = Annotated[
    float,
    seconds(
        "PAGI_WS_PING_TIMEOUT",
        "How long to wait for the pong when the keepalive gives no timeout. "
        "No pong: the connection is dropped.",
    ),
]

WsHandshakeTimeout = Annotated[
    float,
    seconds(
        "PAGI_WS_HANDSHAKE_TIMEOUT",
        "How long the app may take to accept or deny a WebSocket (else 504).",
    ),
]

WsCloseTimeout = Annotated[
    float,
    seconds(
        "PAGI_WS_CLOSE_TIMEOUT", "How long to wait for the client's close frame after sending ours."
    ),
]
