"""Options of the ``pagi-front`` command line: where and how the front listens.

Listeners (``--bind``, ``--host``/``--port``, ``--uds``, ``--fd``), their
connection limits, HTTP/2, TLS (``--ssl-*``) and what a proxy in front may
tell (``--proxy-headers``, ``--forwarded-allow-ips``, ``--proxy-protocol``).
Each name is the ``Annotated`` type of one parameter of
:func:`~pagi.frontend.cli_command.serve`; the reference is ``docs/cli.md``.
"""

from typing import Annotated

import typer
from pagi.protocol.cli_shared import flag, value

from .cli_values import (
    binds_callback,
    count,
    fds_callback,
    forwarded_ips_callback,
    seconds,
)
from .tls.contexts import CertReqs

Bind = Annotated[
    list[str] | None,
    typer.Option(
        "--bind",
        "-b",
        envvar="PAGI_BIND",
        metavar="HOST:PORT",
        callback=binds_callback,
        help="TCP address to listen on, repeatable; IPv6 as [::1]:8000; port 0 "
        "picks a free port; tls://HOST:PORT for TLS. Default 127.0.0.1:8000 "
        "when no --bind/--uds/--fd.",
    ),
]

Host = Annotated[
    str | None,
    value(
        "PAGI_HOST", "HOST", "With --port, a spelling of --bind HOST:PORT (default host 127.0.0.1)."
    ),
]

Port = Annotated[
    int | None,
    typer.Option(
        envvar="PAGI_PORT",
        metavar="PORT",
        min=0,
        max=65535,
        help="With --host, a spelling of --bind HOST:PORT (default port 8000).",
    ),
]

Uds = Annotated[
    list[str] | None,
    typer.Option(
        "--uds",
        envvar="PAGI_UDS",
        metavar="PATH",
        help="Client-facing UNIX socket to listen on (mode 0666), repeatable.",
    ),
]

Fd = Annotated[
    list[int] | None,
    typer.Option(
        "--fd",
        envvar="PAGI_FD",
        metavar="N",
        callback=fds_callback,
        help="Inherited listening socket to serve on (e.g. systemd socket "
        "activation: --fd 3), repeatable.",
    ),
]

Backlog = Annotated[
    int, count("PAGI_BACKLOG", "listen() backlog of every client-facing socket.", positive=True)
]

MaxConnections = Annotated[
    int,
    count(
        "PAGI_MAX_CONNECTIONS",
        "Most client connections open at once; a new one beyond it gets 503 "
        "and is closed (0: no limit but the descriptor limit).",
    ),
]

MaxConnectionsPerIp = Annotated[
    int,
    count(
        "PAGI_MAX_CONNECTIONS_PER_IP",
        "Most client connections open at once from one IP address; a new one "
        "beyond it gets 429 and is closed (0: no limit).",
    ),
]

Http2 = Annotated[
    bool,
    flag(
        "--http2/--no-http2",
        "PAGI_HTTP2",
        "Serve HTTP/2: ALPN h2 on tls:// listeners, prior-knowledge h2c on cleartext ones.",
    ),
]

Http2Streams = Annotated[
    int,
    count(
        "PAGI_HTTP2_MAX_CONCURRENT_STREAMS",
        "Streams one HTTP/2 client may have open at once (SETTINGS).",
        positive=True,
    ),
]

Http2StallTimeout = Annotated[
    float,
    seconds(
        "PAGI_HTTP2_STALL_TIMEOUT",
        "Reset an HTTP/2 stream whose response waits this long on a closed flow-control window.",
    ),
]

SslCertfile = Annotated[
    str | None,
    value(
        "PAGI_SSL_CERTFILE",
        "PATH",
        "PEM certificate (followed by its chain) for the tls:// binds. "
        "Alone, it makes the default bind tls://127.0.0.1:8000.",
    ),
]

SslKeyfile = Annotated[
    str | None,
    value(
        "PAGI_SSL_KEYFILE",
        "PATH",
        "PEM private key of --ssl-certfile (default: read from the certfile).",
    ),
]

SslKeyfilePassword = Annotated[
    str | None,
    value("PAGI_SSL_KEYFILE_PASSWORD", "TEXT", "Password of an encrypted --ssl-keyfile."),
]

SslCaCerts = Annotated[
    str | None,
    value(
        "PAGI_SSL_CA_CERTS",
        "PATH",
        "PEM CA bundle that verifies client certificates (--ssl-cert-reqs).",
    ),
]

SslCertReqs = Annotated[
    CertReqs,
    typer.Option(
        envvar="PAGI_SSL_CERT_REQS",
        help="Client certificates: none (not asked), optional (verified if sent), "
        "required (handshake fails without a valid one).",
    ),
]

SslCiphers = Annotated[
    str | None,
    value(
        "PAGI_SSL_CIPHERS",
        "LIST",
        "OpenSSL cipher list for TLS 1.2 (default: OpenSSL's secure defaults).",
    ),
]

SslHandshakeTimeout = Annotated[
    float,
    seconds(
        "PAGI_SSL_HANDSHAKE_TIMEOUT",
        "A TLS handshake must finish within this, else the connection is closed.",
    ),
]

ProxyHeaders = Annotated[
    bool,
    flag(
        "--proxy-headers/--no-proxy-headers",
        "PAGI_PROXY_HEADERS",
        "Take the client address, scheme and host from Forwarded / "
        "X-Forwarded-For/-Proto/-Host when the peer is in --forwarded-allow-ips.",
    ),
]

ForwardedAllowIps = Annotated[
    str,
    typer.Option(
        envvar="PAGI_FORWARDED_ALLOW_IPS",
        metavar="IPS",
        callback=forwarded_ips_callback,
        help="Comma-separated addresses or CIDRs (or *) whose proxy headers are "
        "believed; UNIX-socket peers always are.",
    ),
]

ProxyProtocol = Annotated[
    bool,
    flag(
        "--proxy-protocol/--no-proxy-protocol",
        "PAGI_PROXY_PROTOCOL",
        "Every client connection starts with a PROXY protocol (v1 or v2) "
        "header; its addresses go into the scope. Others are refused.",
    ),
]
