"""The ``pagi-front`` command line (also ``python -m pagi.frontend``).

Every option also reads a ``PAGI_...`` environment variable (repeatable
options take a space-separated list there), so a systemd ``EnvironmentFile=``
can configure the front. The command only validates and fills a
:class:`~pagi.frontend.config.FrontConfig`; :func:`pagi.frontend.server.run`
does the rest. Bad values exit with status 2 and a message naming the option;
per-option checks are in ``cli_values.py``, checks across options in
``cli_rules.py``. The reference is ``docs/cli.md``.
"""

import sys
from typing import Annotated

import typer
from pagi.protocol.cli_shared import env_file_callback, log_config_option, version_callback
from pagi.protocol.log_colors import colors_wanted

from .cli_rules import (
    add_activated_sockets,
    check_embedded_options,
    check_tls,
    host_port_bind,
    resolve_app,
)
from .cli_values import (
    HttpParser,
    Interface,
    Lifespan,
    LogLevel,
    SseScope,
    access_format_callback,
    app_callback,
    bind_callback,
    binds_callback,
    channels_callback,
    fds_callback,
    forwarded_ips_callback,
    http_callback,
    mode_callback,
    parse_size,
    positive_float,
    positive_int,
    reload_callback,
    size_callback,
)
from .config import FrontConfig
from .tls.contexts import CertReqs

__all__ = ["cli", "main", "parse_size"]

_DEFAULTS = FrontConfig()

cli = typer.Typer(
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)


@cli.command(
    help="Serve HTTP, WebSocket and SSE, handing each request to a pagi-worker process. "
    "With APP (MODULE:ATTR, e.g. main:app) the front spawns and supervises --workers "
    "workers running it (embedded mode); without it, it serves the pagi-worker "
    "processes started separately on --socket-dir."
)
def serve(
    ctx: typer.Context,
    app_arg: Annotated[
        str | None,
        typer.Argument(
            metavar="APP",
            envvar="PAGI_APP",
            callback=app_callback,
            show_default=False,
            help="The application, MODULE:ATTR: embedded mode.",
        ),
    ] = None,
    app: Annotated[
        str | None,
        typer.Option(
            "--app",
            metavar="MODULE:ATTR",
            callback=app_callback,
            help="The same as APP (kept for existing scripts).",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            envvar="PAGI_WORKERS",
            metavar="N",
            min=1,
            help="Number of worker processes to spawn (embedded mode only).",
        ),
    ] = _DEFAULTS.workers,
    app_dir: Annotated[
        str | None,
        typer.Option(
            envvar="PAGI_APP_DIR",
            metavar="DIR",
            help="Directory the workers add to sys.path before importing the app "
            "(default: the worker's current directory).",
        ),
    ] = None,
    factory: Annotated[
        bool,
        typer.Option(
            "--factory/--no-factory",
            envvar="PAGI_FACTORY",
            help="Treat MODULE:ATTR as a zero-argument callable returning the app.",
        ),
    ] = _DEFAULTS.factory,
    lifespan: Annotated[
        Lifespan,
        typer.Option(
            envvar="PAGI_LIFESPAN",
            help="Run the app's lifespan protocol: auto (if the app supports it), on, off.",
        ),
    ] = Lifespan.auto,
    sse_scope: Annotated[
        SseScope,
        typer.Option(
            envvar="PAGI_SSE_SCOPE",
            help="Give event-stream requests the 'sse' scope: auto (replay as http for apps"
            " that reject it), on, off (always http). Forwarded to embedded workers.",
        ),
    ] = SseScope.auto,
    interface: Annotated[
        Interface,
        typer.Option(
            envvar="PAGI_INTERFACE",
            help="The contract the app was written for: pagi (PAGI Www 0.6), asgi (ASGI 3,"
            " spec 2.4), or auto (asgi for apps of known ASGI frameworks, else pagi)."
            " Forwarded to embedded workers.",
        ),
    ] = Interface.auto,
    root_path: Annotated[
        str,
        typer.Option(
            envvar="PAGI_ROOT_PATH",
            metavar="PATH",
            help="scope['root_path'] for every request (the app's mount prefix).",
        ),
    ] = _DEFAULTS.root_path,
    socket_dir: Annotated[
        str | None,
        typer.Option(
            envvar="PAGI_SOCKET_DIR",
            metavar="DIR",
            help="Directory of the worker socket (workers.sock). Default: /run/pagi; "
            "in embedded mode a private temporary directory removed at exit.",
        ),
    ] = None,
    bind: Annotated[
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
    ] = None,
    host: Annotated[
        str | None,
        typer.Option(
            envvar="PAGI_HOST",
            metavar="HOST",
            help="With --port, a spelling of --bind HOST:PORT (default host 127.0.0.1).",
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            envvar="PAGI_PORT",
            metavar="PORT",
            min=0,
            max=65535,
            help="With --host, a spelling of --bind HOST:PORT (default port 8000).",
        ),
    ] = None,
    uds: Annotated[
        list[str] | None,
        typer.Option(
            "--uds",
            envvar="PAGI_UDS",
            metavar="PATH",
            help="Client-facing UNIX socket to listen on (mode 0666), repeatable.",
        ),
    ] = None,
    fd: Annotated[
        list[int] | None,
        typer.Option(
            "--fd",
            envvar="PAGI_FD",
            metavar="N",
            callback=fds_callback,
            help="Inherited listening socket to serve on (e.g. systemd socket "
            "activation: --fd 3), repeatable.",
        ),
    ] = None,
    backlog: Annotated[
        int,
        typer.Option(
            envvar="PAGI_BACKLOG",
            metavar="N",
            callback=positive_int,
            help="listen() backlog of every client-facing socket.",
        ),
    ] = _DEFAULTS.backlog,
    max_connections: Annotated[
        int,
        typer.Option(
            envvar="PAGI_MAX_CONNECTIONS",
            metavar="N",
            min=0,
            help="Most client connections open at once; a new one beyond it gets 503 "
            "and is closed (0: no limit but the descriptor limit).",
        ),
    ] = _DEFAULTS.max_connections,
    max_connections_per_ip: Annotated[
        int,
        typer.Option(
            envvar="PAGI_MAX_CONNECTIONS_PER_IP",
            metavar="N",
            min=0,
            help="Most client connections open at once from one IP address; a new one "
            "beyond it gets 429 and is closed (0: no limit).",
        ),
    ] = _DEFAULTS.max_connections_per_ip,
    http: Annotated[
        HttpParser,
        typer.Option(
            envvar="PAGI_HTTP",
            callback=http_callback,
            help="HTTP/1.1 parser: h11 (pure Python), httptools (C, llhttp), or auto "
            "(httptools when installed).",
        ),
    ] = HttpParser.auto,
    max_body_size: Annotated[
        str,
        typer.Option(
            envvar="PAGI_MAX_BODY_SIZE",
            metavar="SIZE",
            callback=size_callback,
            help="Largest request body accepted (413 above it). Units K, M, G allowed.",
        ),
    ] = "1G",
    max_header_size: Annotated[
        str,
        typer.Option(
            envvar="PAGI_MAX_HEADER_SIZE",
            metavar="SIZE",
            callback=size_callback,
            help="Largest request header block (431 above it).",
        ),
    ] = "64K",
    max_headers: Annotated[
        int,
        typer.Option(
            envvar="PAGI_MAX_HEADERS",
            metavar="N",
            callback=positive_int,
            help="Most header fields in one request (431 above it).",
        ),
    ] = _DEFAULTS.max_headers,
    max_request_line: Annotated[
        int,
        typer.Option(
            envvar="PAGI_MAX_REQUEST_LINE",
            metavar="BYTES",
            callback=positive_int,
            help="Longest request line in bytes (414 above it).",
        ),
    ] = _DEFAULTS.max_request_line,
    server_header: Annotated[
        bool,
        typer.Option(
            "--server-header/--no-server-header",
            envvar="PAGI_SERVER_HEADER",
            help="Add 'server: pagi' to responses that do not set one.",
        ),
    ] = _DEFAULTS.server_header,
    response_window: Annotated[
        str,
        typer.Option(
            envvar="PAGI_RESPONSE_WINDOW",
            metavar="SIZE",
            callback=size_callback,
            help="Response bytes a worker may send ahead per request before the "
            "client has taken them (flow-control window).",
        ),
    ] = "256K",
    max_link_buffer: Annotated[
        str,
        typer.Option(
            envvar="PAGI_MAX_LINK_BUFFER",
            metavar="SIZE",
            callback=size_callback,
            help="Bytes the front may hold for a worker that does not read its link; "
            "past this the worker is dropped and its requests fail (502 / close 1011).",
        ),
    ] = "64M",
    keepalive_timeout: Annotated[
        float,
        typer.Option(
            envvar="PAGI_KEEPALIVE_TIMEOUT",
            metavar="SECONDS",
            callback=positive_float,
            help="Close an idle keep-alive connection after this long.",
        ),
    ] = _DEFAULTS.keepalive_timeout,
    header_timeout: Annotated[
        float,
        typer.Option(
            envvar="PAGI_HEADER_TIMEOUT",
            metavar="SECONDS",
            callback=positive_float,
            help="A request head must arrive completely within this (else 408).",
        ),
    ] = _DEFAULTS.header_timeout,
    worker_wait_timeout: Annotated[
        float,
        typer.Option(
            "--queue-timeout",
            "--worker-wait-timeout",
            envvar=["PAGI_QUEUE_TIMEOUT", "PAGI_WORKER_WAIT_TIMEOUT"],
            metavar="SECONDS",
            callback=positive_float,
            help="How long a request waits for a free worker before 503 + retry-after "
            "(no worker spends time on it).",
        ),
    ] = _DEFAULTS.worker_wait_timeout,
    graceful_timeout: Annotated[
        float,
        typer.Option(
            envvar="PAGI_GRACEFUL_TIMEOUT",
            metavar="SECONDS",
            callback=positive_float,
            help="On SIGTERM/SIGINT, how long open requests may finish before they "
            "are cut (and, in embedded mode, how long workers get to stop).",
        ),
    ] = _DEFAULTS.graceful_timeout,
    ws_max_size: Annotated[
        str,
        typer.Option(
            envvar="PAGI_WS_MAX_SIZE",
            metavar="SIZE",
            callback=size_callback,
            help="Largest WebSocket message accepted from a client, after "
            "decompression (close 1009 above it).",
        ),
    ] = "16M",
    ws_per_message_deflate: Annotated[
        bool,
        typer.Option(
            "--ws-per-message-deflate/--no-ws-per-message-deflate",
            envvar="PAGI_WS_PER_MESSAGE_DEFLATE",
            help="Accept the permessage-deflate WebSocket extension when a client offers it.",
        ),
    ] = _DEFAULTS.ws_per_message_deflate,
    ws_max_queue: Annotated[
        str,
        typer.Option(
            envvar="PAGI_WS_MAX_QUEUE",
            metavar="SIZE",
            callback=size_callback,
            help="Most WebSocket data the front holds for an app that is not reading "
            "it (close 1008 above it).",
        ),
    ] = "16M",
    channels: Annotated[
        str,
        typer.Option(
            envvar="PAGI_CHANNELS",
            metavar="BACKEND",
            callback=channels_callback,
            help="The channel layer apps reach as scope['pagi.channels']: 'front' (the "
            "front is the broker for its workers), a Redis URL (redis://HOST:PORT/DB: "
            "groups shared by every front using it; needs pagi-server[redis]), or 'off'.",
        ),
    ] = _DEFAULTS.channels,
    channel_capacity: Annotated[
        int,
        typer.Option(
            envvar="PAGI_CHANNEL_CAPACITY",
            metavar="N",
            callback=positive_int,
            help="Messages a channel queues for an app that is not receiving them; "
            "beyond, the group's overflow policy applies (drop the oldest, or close).",
        ),
    ] = _DEFAULTS.channel_capacity,
    ws_ping_interval: Annotated[
        float,
        typer.Option(
            envvar="PAGI_WS_PING_INTERVAL",
            metavar="SECONDS",
            min=0.0,
            help="Ping every WebSocket this often; 0: only when the app asks with "
            "websocket.keepalive, which overrides this per connection.",
        ),
    ] = _DEFAULTS.ws_ping_interval,
    ws_ping_timeout: Annotated[
        float,
        typer.Option(
            envvar="PAGI_WS_PING_TIMEOUT",
            metavar="SECONDS",
            callback=positive_float,
            help="How long to wait for the pong when the keepalive gives no timeout. "
            "No pong: the connection is dropped.",
        ),
    ] = 20.0,
    ws_handshake_timeout: Annotated[
        float,
        typer.Option(
            envvar="PAGI_WS_HANDSHAKE_TIMEOUT",
            metavar="SECONDS",
            callback=positive_float,
            help="How long the app may take to accept or deny a WebSocket (else 504).",
        ),
    ] = _DEFAULTS.ws_handshake_timeout,
    ws_close_timeout: Annotated[
        float,
        typer.Option(
            envvar="PAGI_WS_CLOSE_TIMEOUT",
            metavar="SECONDS",
            callback=positive_float,
            help="How long to wait for the client's close frame after sending ours.",
        ),
    ] = _DEFAULTS.ws_close_timeout,
    http2: Annotated[
        bool,
        typer.Option(
            "--http2/--no-http2",
            envvar="PAGI_HTTP2",
            help="Serve HTTP/2: ALPN h2 on tls:// listeners, prior-knowledge h2c on "
            "cleartext ones.",
        ),
    ] = _DEFAULTS.http2,
    http2_max_concurrent_streams: Annotated[
        int,
        typer.Option(
            envvar="PAGI_HTTP2_MAX_CONCURRENT_STREAMS",
            metavar="N",
            callback=positive_int,
            help="Streams one HTTP/2 client may have open at once (SETTINGS).",
        ),
    ] = _DEFAULTS.http2_max_concurrent_streams,
    http2_stall_timeout: Annotated[
        float,
        typer.Option(
            envvar="PAGI_HTTP2_STALL_TIMEOUT",
            metavar="SECONDS",
            callback=positive_float,
            help="Reset an HTTP/2 stream whose response waits this long on a closed "
            "flow-control window.",
        ),
    ] = _DEFAULTS.http2_stall_timeout,
    ssl_certfile: Annotated[
        str | None,
        typer.Option(
            envvar="PAGI_SSL_CERTFILE",
            metavar="PATH",
            help="PEM certificate (followed by its chain) for the tls:// binds. "
            "Alone, it makes the default bind tls://127.0.0.1:8000.",
        ),
    ] = None,
    ssl_keyfile: Annotated[
        str | None,
        typer.Option(
            envvar="PAGI_SSL_KEYFILE",
            metavar="PATH",
            help="PEM private key of --ssl-certfile (default: read from the certfile).",
        ),
    ] = None,
    ssl_keyfile_password: Annotated[
        str | None,
        typer.Option(
            envvar="PAGI_SSL_KEYFILE_PASSWORD",
            metavar="TEXT",
            help="Password of an encrypted --ssl-keyfile.",
        ),
    ] = None,
    ssl_ca_certs: Annotated[
        str | None,
        typer.Option(
            envvar="PAGI_SSL_CA_CERTS",
            metavar="PATH",
            help="PEM CA bundle that verifies client certificates (--ssl-cert-reqs).",
        ),
    ] = None,
    ssl_cert_reqs: Annotated[
        CertReqs,
        typer.Option(
            envvar="PAGI_SSL_CERT_REQS",
            help="Client certificates: none (not asked), optional (verified if sent), "
            "required (handshake fails without a valid one).",
        ),
    ] = CertReqs.none,
    ssl_ciphers: Annotated[
        str | None,
        typer.Option(
            envvar="PAGI_SSL_CIPHERS",
            metavar="LIST",
            help="OpenSSL cipher list for TLS 1.2 (default: OpenSSL's secure defaults).",
        ),
    ] = None,
    ssl_handshake_timeout: Annotated[
        float,
        typer.Option(
            envvar="PAGI_SSL_HANDSHAKE_TIMEOUT",
            metavar="SECONDS",
            callback=positive_float,
            help="A TLS handshake must finish within this, else the connection is closed.",
        ),
    ] = _DEFAULTS.ssl_handshake_timeout,
    control_socket: Annotated[
        bool,
        typer.Option(
            "--control-socket/--no-control-socket",
            envvar="PAGI_CONTROL_SOCKET",
            help="Serve the control API (pagi-ctl) on <socket-dir>/control.sock.",
        ),
    ] = _DEFAULTS.control_socket,
    control_socket_mode: Annotated[
        str,
        typer.Option(
            envvar="PAGI_CONTROL_SOCKET_MODE",
            metavar="MODE",
            callback=mode_callback,
            help="File mode of control.sock (octal). 0660 admits the front's group too.",
        ),
    ] = "0600",
    metrics_bind: Annotated[
        str | None,
        typer.Option(
            envvar="PAGI_METRICS_BIND",
            metavar="HOST:PORT",
            callback=bind_callback,
            help="Serve Prometheus metrics (/metrics) and a health check (/healthz) on "
            "this TCP address. Needs pip install 'pagi[metrics]'.",
        ),
    ] = None,
    reload_timeout: Annotated[
        float,
        typer.Option(
            envvar="PAGI_RELOAD_TIMEOUT",
            metavar="SECONDS",
            callback=positive_float,
            help="A rolling reload's new workers must be ready within this, else the "
            "reload is abandoned and the old workers keep serving.",
        ),
    ] = _DEFAULTS.reload_timeout,
    worker_timeout: Annotated[
        float,
        typer.Option(
            envvar="PAGI_WORKER_TIMEOUT",
            metavar="SECONDS",
            min=0.0,
            help="A worker whose event loop answers no heartbeat for this long is "
            "reported and replaced (embedded) or killed (production layout); 0: off.",
        ),
    ] = _DEFAULTS.worker_timeout,
    max_requests: Annotated[
        int,
        typer.Option(
            envvar="PAGI_MAX_REQUESTS",
            metavar="N",
            min=0,
            help="Recycle a worker (drain and replace it) after N requests; 0: never.",
        ),
    ] = _DEFAULTS.max_requests,
    max_requests_jitter: Annotated[
        int,
        typer.Option(
            envvar="PAGI_MAX_REQUESTS_JITTER",
            metavar="N",
            min=0,
            help="Add a random 0..N to --max-requests per worker, so they do not "
            "all recycle at once.",
        ),
    ] = _DEFAULTS.max_requests_jitter,
    max_worker_rss: Annotated[
        str | None,
        typer.Option(
            envvar="PAGI_MAX_WORKER_RSS",
            metavar="SIZE",
            callback=size_callback,
            help="Recycle a worker whose resident memory exceeds SIZE (e.g. 512M).",
        ),
    ] = None,
    limit_concurrency: Annotated[
        int,
        typer.Option(
            envvar="PAGI_LIMIT_CONCURRENCY",
            metavar="N",
            min=0,
            help="Embedded mode: each worker takes at most N requests at once (its "
            "HELLO capacity); more wait at the front. 0: no limit.",
        ),
    ] = _DEFAULTS.limit_concurrency,
    queue_size: Annotated[
        int,
        typer.Option(
            envvar="PAGI_QUEUE_SIZE",
            metavar="N",
            min=0,
            help="Most requests waiting for a worker; beyond it 503 + retry-after at once.",
        ),
    ] = _DEFAULTS.queue_size,
    proxy_headers: Annotated[
        bool,
        typer.Option(
            "--proxy-headers/--no-proxy-headers",
            envvar="PAGI_PROXY_HEADERS",
            help="Take the client address, scheme and host from Forwarded / "
            "X-Forwarded-For/-Proto/-Host when the peer is in --forwarded-allow-ips.",
        ),
    ] = _DEFAULTS.proxy_headers,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            envvar="PAGI_FORWARDED_ALLOW_IPS",
            metavar="IPS",
            callback=forwarded_ips_callback,
            help="Comma-separated addresses or CIDRs (or *) whose proxy headers are "
            "believed; UNIX-socket peers always are.",
        ),
    ] = _DEFAULTS.forwarded_allow_ips,
    proxy_protocol: Annotated[
        bool,
        typer.Option(
            "--proxy-protocol/--no-proxy-protocol",
            envvar="PAGI_PROXY_PROTOCOL",
            help="Every client connection starts with a PROXY protocol (v1 or v2) "
            "header; its addresses go into the scope. Others are refused.",
        ),
    ] = _DEFAULTS.proxy_protocol,
    handover: Annotated[
        bool,
        typer.Option(
            "--handover/--no-handover",
            envvar="PAGI_HANDOVER",
            help="Take over the listening sockets of the front running on --socket-dir "
            "(SCM_RIGHTS over its control socket); it stops once this one serves.",
        ),
    ] = _DEFAULTS.handover,
    reload: Annotated[
        bool,
        typer.Option(
            "--reload/--no-reload",
            envvar="PAGI_RELOAD",
            callback=reload_callback,
            help="Development (embedded mode): when the app's files change, roll fresh "
            "workers in; client connections stay open. Needs pip install 'pagi[reload]'.",
        ),
    ] = _DEFAULTS.reload,
    reload_dir: Annotated[
        list[str] | None,
        typer.Option(
            "--reload-dir",
            envvar="PAGI_RELOAD_DIR",
            metavar="DIR",
            help="Directory to watch with --reload, repeatable (default: --app-dir, "
            "else the current directory).",
        ),
    ] = None,
    reload_include: Annotated[
        list[str] | None,
        typer.Option(
            "--reload-include",
            envvar="PAGI_RELOAD_INCLUDE",
            metavar="GLOB",
            help="Files whose change reloads, repeatable (default: *.py).",
        ),
    ] = None,
    reload_exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--reload-exclude",
            envvar="PAGI_RELOAD_EXCLUDE",
            metavar="GLOB",
            help="Paths to ignore, repeatable (default: .*, __pycache__, *.pyc, *.pyo, *~).",
        ),
    ] = None,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            envvar="PAGI_ACCESS_LOG",
            help="Log one line per request (logger 'pagi.access', on stderr).",
        ),
    ] = _DEFAULTS.access_log,
    log_level: Annotated[
        LogLevel,
        typer.Option(
            envvar="PAGI_LOG_LEVEL",
            help="Level of the front's own log (and of spawned workers).",
        ),
    ] = LogLevel.info,
    access_log_format: Annotated[
        str | None,
        typer.Option(
            envvar="PAGI_ACCESS_LOG_FORMAT",
            metavar="TEMPLATE",
            callback=access_format_callback,
            help="Shape of the access line with {field} placeholders, e.g. "
            "'{client} {request_line} {status} {duration_ms:.3f}'; fields in docs/cli.md.",
        ),
    ] = None,
    use_colors: Annotated[
        bool | None,
        typer.Option(
            "--use-colors/--no-use-colors",
            envvar="PAGI_USE_COLORS",
            show_default=False,
            help="Colour the level names of log lines (default: when stderr is a terminal "
            "and NO_COLOR is unset). Forwarded to embedded workers.",
        ),
    ] = None,
    log_config: Annotated[
        str | None,
        typer.Option(
            envvar="PAGI_LOG_CONFIG",
            metavar="FILE",
            help="logging configuration applied over the defaults: .json or .yaml "
            "(dictConfig; YAML needs PyYAML), else INI (fileConfig). Forwarded to "
            "embedded workers.",
        ),
    ] = None,
    env_file: Annotated[
        str | None,
        typer.Option(
            envvar="PAGI_ENV_FILE",
            metavar="FILE",
            is_eager=True,
            callback=env_file_callback,
            help="KEY=VALUE lines added to the environment (not overriding it) before "
            "the options are read: PAGI_* variables in it configure the front, the "
            "rest reach the app's workers.",
        ),
    ] = None,
    pid_file: Annotated[
        str | None,
        typer.Option(
            envvar="PAGI_PID_FILE",
            metavar="PATH",
            help="Write the front's pid here once it serves; removed at exit.",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=version_callback("pagi-front"),
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    app = resolve_app(ctx, app_arg, app)
    ignored = check_embedded_options(ctx, app)
    bind = host_port_bind(ctx, host, port, bind)
    config = FrontConfig(
        app=app,
        workers=workers,
        app_dir=app_dir,
        factory=factory,
        lifespan=lifespan.value,
        sse_scope=sse_scope.value,
        interface=interface.value,
        root_path=root_path,
        socket_dir=socket_dir if socket_dir is not None else _DEFAULTS.socket_dir,
        private_socket_dir=app is not None and socket_dir is None,
        binds=list(bind or ()),
        uds=list(uds or ()),
        fds=list(fd or ()),
        backlog=backlog,
        max_connections=max_connections,
        max_connections_per_ip=max_connections_per_ip,
        http=http.value,
        max_body_size=parse_size(max_body_size),
        max_header_size=parse_size(max_header_size),
        max_headers=max_headers,
        max_request_line=max_request_line,
        keepalive_timeout=keepalive_timeout,
        header_timeout=header_timeout,
        server_header=server_header,
        worker_wait_timeout=worker_wait_timeout,
        graceful_timeout=graceful_timeout,
        response_window=parse_size(response_window),
        max_link_buffer=parse_size(max_link_buffer),
        channels=channels,
        channel_capacity=channel_capacity,
        ws_max_size=parse_size(ws_max_size),
        ws_per_message_deflate=ws_per_message_deflate,
        ws_max_queue=parse_size(ws_max_queue),
        ws_ping_interval=ws_ping_interval,
        ws_ping_timeout=ws_ping_timeout,
        ws_handshake_timeout=ws_handshake_timeout,
        ws_close_timeout=ws_close_timeout,
        http2=http2,
        http2_max_concurrent_streams=http2_max_concurrent_streams,
        http2_stall_timeout=http2_stall_timeout,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        ssl_keyfile_password=ssl_keyfile_password,
        ssl_ca_certs=ssl_ca_certs,
        ssl_cert_reqs=ssl_cert_reqs.value,
        ssl_ciphers=ssl_ciphers,
        ssl_handshake_timeout=ssl_handshake_timeout,
        control_socket=control_socket,
        control_socket_mode=int(control_socket_mode, 8),
        metrics_bind=metrics_bind,
        reload_timeout=reload_timeout,
        worker_timeout=worker_timeout,
        max_requests=max_requests,
        max_requests_jitter=max_requests_jitter,
        max_worker_rss=parse_size(max_worker_rss) if max_worker_rss else 0,
        limit_concurrency=limit_concurrency,
        queue_size=queue_size,
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        proxy_protocol=proxy_protocol,
        handover=handover,
        reload=reload,
        reload_dirs=list(reload_dir or ()),
        reload_include=list(reload_include or ()),
        reload_exclude=list(reload_exclude or ()),
        access_log=access_log,
        log_level=log_level.value,
        access_log_format=access_log_format,
        use_colors=colors_wanted(use_colors, sys.stderr),
        log_config=log_config_option(log_config),
        pid_file=pid_file,
    )
    if handover and socket_dir is None:
        raise typer.BadParameter("give the running front's --socket-dir", param_hint="'--handover'")
    add_activated_sockets(config)
    config.binds = config.listen_addresses()
    check_tls(ctx, config)

    from .server import run

    raise typer.Exit(run(config, warnings=ignored))


def main() -> None:
    """Console-script entry point (``pagi-front``)."""
    cli(prog_name="pagi-front")
