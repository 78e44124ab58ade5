"""The ``pagi-front`` command line, built with typer: the reference for every option.

``cli.py`` runs it for every command line :mod:`.cli_fast` does not read.

Every option also reads a ``PAGI_...`` environment variable (repeatable
options take a space-separated list there), so a systemd ``EnvironmentFile=``
can configure the front. The command only validates and fills a
:class:`~pagi.frontend.config.FrontConfig`; :func:`pagi.frontend.server.run`
does the rest. Bad values exit with status 2 and a message naming the option.
The options are defined by concern in ``cli_listeners.py`` (listeners, TLS,
HTTP/2, proxies), ``cli_requests.py`` (HTTP and WebSocket limits),
``cli_workers.py`` (the app, its workers and their pool) and
``cli_operations.py`` (shutdown, control, logging); this signature only puts
them in ``--help`` order. Per-option checks and the front's own option
shapes are in ``cli_values.py`` (the shapes ``pagi-worker`` uses too in
``pagi.protocol.cli_shared``), checks across options in ``cli_rules.py``.
The reference is ``docs/cli.md``.
"""

import sys

import typer
from pagi.protocol.cli_shared import Interface, Lifespan, LogLevel, SseScope, log_config_option
from pagi.protocol.log_colors import colors_wanted

from . import cli_listeners as listen
from . import cli_operations as ops
from . import cli_requests as req
from . import cli_workers as work
from .cli_rules import (
    add_activated_sockets,
    check_embedded_options,
    check_tls,
    host_port_bind,
    resolve_app,
)
from .cli_values import HttpParser, parse_size
from .config import FrontConfig
from .tls.contexts import CertReqs

__all__ = ["cli", "parse_size"]

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
    app_arg: work.AppArg = None,
    app: work.App = None,
    workers: work.Workers = _DEFAULTS.workers,
    app_dir: work.AppDir = None,
    factory: work.Factory = _DEFAULTS.factory,
    lifespan: work.LifespanChoice = Lifespan.auto,
    sse_scope: work.SseScopeChoice = SseScope.auto,
    interface: work.InterfaceChoice = Interface.auto,
    root_path: work.RootPath = _DEFAULTS.root_path,
    socket_dir: work.SocketDir = None,
    bind: listen.Bind = None,
    host: listen.Host = None,
    port: listen.Port = None,
    uds: listen.Uds = None,
    fd: listen.Fd = None,
    backlog: listen.Backlog = _DEFAULTS.backlog,
    max_connections: listen.MaxConnections = _DEFAULTS.max_connections,
    max_connections_per_ip: listen.MaxConnectionsPerIp = _DEFAULTS.max_connections_per_ip,
    http: req.Http = HttpParser.auto,
    max_body_size: req.MaxBodySize = "1G",
    max_header_size: req.MaxHeaderSize = "64K",
    max_headers: req.MaxHeaders = _DEFAULTS.max_headers,
    max_request_line: req.MaxRequestLine = _DEFAULTS.max_request_line,
    server_header: req.ServerHeader = _DEFAULTS.server_header,
    sse_resume: req.SseResume = _DEFAULTS.sse_resume,
    response_window: work.ResponseWindow = "256K",
    body_ring: work.BodyRing = "2M",
    max_link_buffer: work.MaxLinkBuffer = "64M",
    channels: work.Channels = _DEFAULTS.channels,
    channel_capacity: work.ChannelCapacity = _DEFAULTS.channel_capacity,
    keepalive_timeout: req.KeepaliveTimeout = _DEFAULTS.keepalive_timeout,
    header_timeout: req.HeaderTimeout = _DEFAULTS.header_timeout,
    worker_wait_timeout: work.WorkerWaitTimeout = _DEFAULTS.worker_wait_timeout,
    graceful_timeout: ops.GracefulTimeout = _DEFAULTS.graceful_timeout,
    ws_max_size: req.WsMaxSize = "16M",
    ws_per_message_deflate: req.WsPerMessageDeflate = _DEFAULTS.ws_per_message_deflate,
    ws_max_queue: req.WsMaxQueue = "16M",
    ws_ping_interval: req.WsPingInterval = _DEFAULTS.ws_ping_interval,
    ws_ping_timeout: req.WsPingTimeout = 20.0,
    ws_handshake_timeout: req.WsHandshakeTimeout = _DEFAULTS.ws_handshake_timeout,
    ws_close_timeout: req.WsCloseTimeout = _DEFAULTS.ws_close_timeout,
    http2: listen.Http2 = _DEFAULTS.http2,
    http2_max_concurrent_streams: listen.Http2Streams = _DEFAULTS.http2_max_concurrent_streams,
    http2_stall_timeout: listen.Http2StallTimeout = _DEFAULTS.http2_stall_timeout,
    ssl_certfile: listen.SslCertfile = None,
    ssl_keyfile: listen.SslKeyfile = None,
    ssl_keyfile_password: listen.SslKeyfilePassword = None,
    ssl_ca_certs: listen.SslCaCerts = None,
    ssl_cert_reqs: listen.SslCertReqs = CertReqs.none,
    ssl_ciphers: listen.SslCiphers = None,
    ssl_handshake_timeout: listen.SslHandshakeTimeout = _DEFAULTS.ssl_handshake_timeout,
    control_socket: ops.ControlSocket = _DEFAULTS.control_socket,
    control_socket_mode: ops.ControlSocketMode = "0600",
    metrics_bind: ops.MetricsBind = None,
    reload_timeout: work.ReloadTimeout = _DEFAULTS.reload_timeout,
    worker_timeout: work.WorkerTimeout = _DEFAULTS.worker_timeout,
    max_requests: work.MaxRequests = _DEFAULTS.max_requests,
    max_requests_jitter: work.MaxRequestsJitter = _DEFAULTS.max_requests_jitter,
    max_worker_rss: work.MaxWorkerRss = None,
    limit_concurrency: work.LimitConcurrency = _DEFAULTS.limit_concurrency,
    queue_size: work.QueueSize = _DEFAULTS.queue_size,
    proxy_headers: listen.ProxyHeaders = _DEFAULTS.proxy_headers,
    forwarded_allow_ips: listen.ForwardedAllowIps = _DEFAULTS.forwarded_allow_ips,
    proxy_protocol: listen.ProxyProtocol = _DEFAULTS.proxy_protocol,
    handover: ops.Handover = _DEFAULTS.handover,
    reload: work.Reload = _DEFAULTS.reload,
    reload_dir: work.ReloadDir = None,
    reload_include: work.ReloadInclude = None,
    reload_exclude: work.ReloadExclude = None,
    access_log: ops.AccessLog = _DEFAULTS.access_log,
    log_level: ops.LogLevelChoice = LogLevel.info,
    access_log_format: ops.AccessLogFormat = None,
    use_colors: ops.UseColors = None,
    log_config: ops.LogConfig = None,
    env_file: ops.EnvFile = None,
    pid_file: ops.PidFile = None,
    version: ops.Version = False,
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
        sse_resume=sse_resume,
        worker_wait_timeout=worker_wait_timeout,
        graceful_timeout=graceful_timeout,
        response_window=parse_size(response_window),
        body_ring=parse_size(body_ring),
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
