"""The ``pagi-front`` command line (also ``python -m pagi.frontend``).

Every option also reads a ``PAGI_...`` environment variable (repeatable
options take a space-separated list there), so a systemd ``EnvironmentFile=``
can configure the front. The command only validates and fills a
:class:`~pagi.frontend.config.FrontConfig`; :func:`pagi.frontend.server.run`
does the rest. Bad values exit with status 2 and a message naming the option.
The reference is ``docs/cli.md``.
"""

import enum
import re
from typing import Annotated

import typer

from .config import FrontConfig
from .listeners import parse_bind

_SIZE = re.compile(r"^\s*(\d+)\s*([kmg]?)(i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_size(text: str) -> int:
    """``1048576``, ``64K``, ``10M``, ``1G`` (binary units; a trailing ``B``/``iB`` is allowed)."""
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a size (examples: 65536, 64K, 10M, 1G)")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


class Lifespan(enum.StrEnum):
    auto = "auto"
    on = "on"
    off = "off"


class SseScope(enum.StrEnum):
    auto = "auto"
    on = "on"
    off = "off"


class HttpParser(enum.StrEnum):
    auto = "auto"
    h11 = "h11"
    httptools = "httptools"


class LogLevel(enum.StrEnum):
    critical = "critical"
    error = "error"
    warning = "warning"
    info = "info"
    debug = "debug"


def _binds_callback(values: list[str] | None) -> list[str] | None:
    for value in values or ():
        try:
            parse_bind(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
    return values


def _size_callback(value: str | None) -> str | None:
    if value is not None:
        try:
            size = parse_size(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        if size <= 0:
            raise typer.BadParameter("must be greater than 0")
    return value


def _positive_int(value: int | None) -> int | None:
    if value is not None and value <= 0:
        raise typer.BadParameter("must be at least 1")
    return value


def _positive_float(value: float | None) -> float | None:
    if value is not None and not value > 0:
        raise typer.BadParameter("must be greater than 0")
    return value


def _fds_callback(values: list[int] | None) -> list[int] | None:
    for fd in values or ():
        if fd < 0:
            raise typer.BadParameter(f"{fd} is not a file descriptor")
    return values


def _app_callback(value: str | None) -> str | None:
    if value is not None:
        module, sep, attr = value.partition(":")
        if not sep or not module or not attr:
            raise typer.BadParameter(f"{value!r} must be MODULE:ATTR, e.g. myapp:app")
    return value


def _http_callback(value: HttpParser) -> HttpParser:
    if value == HttpParser.httptools:
        try:
            import httptools  # noqa: F401
        except ImportError:
            raise typer.BadParameter(
                "httptools is not installed (pip install 'pagi[fast]'), use h11 or auto"
            ) from None
    return value


def _version_callback(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"pagi-front {version('pagi')}")
        except PackageNotFoundError:
            typer.echo("pagi-front (version unknown)")
        raise typer.Exit(0)


_DEFAULTS = FrontConfig()

cli = typer.Typer(
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)


@cli.command(help="Serve HTTP, forwarding each request to a pagi-worker process.")
def serve(
    app: Annotated[
        str | None,
        typer.Option(
            "--app",
            envvar="PAGI_APP",
            metavar="MODULE:ATTR",
            callback=_app_callback,
            help="Embedded mode: spawn and supervise --workers pagi-worker processes "
            "running this application. Without it the front only waits for "
            "separately started workers on --socket-dir.",
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
            callback=_binds_callback,
            help="TCP address to listen on, repeatable; IPv6 as [::1]:8000; port 0 "
            "picks a free port. Default 127.0.0.1:8000 when no --bind/--uds/--fd.",
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
            callback=_fds_callback,
            help="Inherited listening socket to serve on (e.g. systemd socket "
            "activation: --fd 3), repeatable.",
        ),
    ] = None,
    backlog: Annotated[
        int,
        typer.Option(
            envvar="PAGI_BACKLOG",
            metavar="N",
            callback=_positive_int,
            help="listen() backlog of every client-facing socket.",
        ),
    ] = _DEFAULTS.backlog,
    http: Annotated[
        HttpParser,
        typer.Option(
            envvar="PAGI_HTTP",
            callback=_http_callback,
            help="HTTP/1.1 parser: h11 (pure Python), httptools (C, llhttp), or auto "
            "(httptools when installed).",
        ),
    ] = HttpParser.auto,
    max_body_size: Annotated[
        str,
        typer.Option(
            envvar="PAGI_MAX_BODY_SIZE",
            metavar="SIZE",
            callback=_size_callback,
            help="Largest request body accepted (413 above it). Units K, M, G allowed.",
        ),
    ] = "1G",
    max_header_size: Annotated[
        str,
        typer.Option(
            envvar="PAGI_MAX_HEADER_SIZE",
            metavar="SIZE",
            callback=_size_callback,
            help="Largest request header block (431 above it).",
        ),
    ] = "64K",
    max_headers: Annotated[
        int,
        typer.Option(
            envvar="PAGI_MAX_HEADERS",
            metavar="N",
            callback=_positive_int,
            help="Most header fields in one request (431 above it).",
        ),
    ] = _DEFAULTS.max_headers,
    max_request_line: Annotated[
        int,
        typer.Option(
            envvar="PAGI_MAX_REQUEST_LINE",
            metavar="BYTES",
            callback=_positive_int,
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
            callback=_size_callback,
            help="Response bytes a worker may send ahead per request before the "
            "client has taken them (flow-control window).",
        ),
    ] = "256K",
    max_link_buffer: Annotated[
        str,
        typer.Option(
            envvar="PAGI_MAX_LINK_BUFFER",
            metavar="SIZE",
            callback=_size_callback,
            help="Bytes the front may hold for a worker that does not read its link; "
            "past this the worker is dropped and its requests fail (502 / close 1011).",
        ),
    ] = "64M",
    keepalive_timeout: Annotated[
        float,
        typer.Option(
            envvar="PAGI_KEEPALIVE_TIMEOUT",
            metavar="SECONDS",
            callback=_positive_float,
            help="Close an idle keep-alive connection after this long.",
        ),
    ] = _DEFAULTS.keepalive_timeout,
    header_timeout: Annotated[
        float,
        typer.Option(
            envvar="PAGI_HEADER_TIMEOUT",
            metavar="SECONDS",
            callback=_positive_float,
            help="A request head must arrive completely within this (else 408).",
        ),
    ] = _DEFAULTS.header_timeout,
    worker_wait_timeout: Annotated[
        float,
        typer.Option(
            envvar="PAGI_WORKER_WAIT_TIMEOUT",
            metavar="SECONDS",
            callback=_positive_float,
            help="How long a request waits for a free worker before 503.",
        ),
    ] = _DEFAULTS.worker_wait_timeout,
    graceful_timeout: Annotated[
        float,
        typer.Option(
            envvar="PAGI_GRACEFUL_TIMEOUT",
            metavar="SECONDS",
            callback=_positive_float,
            help="On SIGTERM/SIGINT, how long open requests may finish before they "
            "are cut (and, in embedded mode, how long workers get to stop).",
        ),
    ] = _DEFAULTS.graceful_timeout,
    ws_max_size: Annotated[
        str,
        typer.Option(
            envvar="PAGI_WS_MAX_SIZE",
            metavar="SIZE",
            callback=_size_callback,
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
            callback=_size_callback,
            help="Most WebSocket data the front holds for an app that is not reading "
            "it (close 1008 above it).",
        ),
    ] = "16M",
    ws_ping_interval: Annotated[
        float,
        typer.Option(
            envvar="PAGI_WS_PING_INTERVAL",
            metavar="SECONDS",
            min=0.0,
            help="Ping every WebSocket this often (0: only when the app asks with "
            "websocket.keepalive, which overrides this).",
        ),
    ] = _DEFAULTS.ws_ping_interval,
    ws_ping_timeout: Annotated[
        float | None,
        typer.Option(
            envvar="PAGI_WS_PING_TIMEOUT",
            metavar="SECONDS",
            callback=_positive_float,
            help="How long to wait for the pong when the keepalive gives no timeout "
            "(default: the ping interval). No pong: the connection is dropped.",
        ),
    ] = None,
    ws_handshake_timeout: Annotated[
        float,
        typer.Option(
            envvar="PAGI_WS_HANDSHAKE_TIMEOUT",
            metavar="SECONDS",
            callback=_positive_float,
            help="How long the app may take to accept or deny a WebSocket (else 504).",
        ),
    ] = _DEFAULTS.ws_handshake_timeout,
    ws_close_timeout: Annotated[
        float,
        typer.Option(
            envvar="PAGI_WS_CLOSE_TIMEOUT",
            metavar="SECONDS",
            callback=_positive_float,
            help="How long to wait for the client's close frame after sending ours.",
        ),
    ] = _DEFAULTS.ws_close_timeout,
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
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    config = FrontConfig(
        app=app,
        workers=workers,
        app_dir=app_dir,
        factory=factory,
        lifespan=lifespan.value,
        sse_scope=sse_scope.value,
        root_path=root_path,
        socket_dir=socket_dir if socket_dir is not None else _DEFAULTS.socket_dir,
        private_socket_dir=app is not None and socket_dir is None,
        binds=list(bind or ()),
        uds=list(uds or ()),
        fds=list(fd or ()),
        backlog=backlog,
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
        ws_max_size=parse_size(ws_max_size),
        ws_per_message_deflate=ws_per_message_deflate,
        ws_max_queue=parse_size(ws_max_queue),
        ws_ping_interval=ws_ping_interval,
        ws_ping_timeout=ws_ping_timeout,
        ws_handshake_timeout=ws_handshake_timeout,
        ws_close_timeout=ws_close_timeout,
        access_log=access_log,
        log_level=log_level.value,
    )
    config.binds = config.listen_addresses()

    from .server import run

    raise typer.Exit(run(config))


def main() -> None:
    """Console-script entry point (``pagi-front``)."""
    cli(prog_name="pagi-front")
