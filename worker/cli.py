"""``pagi-worker APP [options]``: the command line (every option also reads a
``PAGI_*`` environment variable, so systemd ``EnvironmentFile=`` works).

This module only turns arguments into a :class:`~pagi.worker.config.WorkerConfig`
and hands it to :func:`~pagi.worker.runner.run`; ``main`` is the console script.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from pagi.protocol.cli_shared import (
    Interface,
    Lifespan,
    LogLevel,
    SseScope,
    env_file_callback,
    log_config_option,
    version_callback,
)
from pagi.protocol.log_colors import colors_wanted

from .config import WorkerConfig

# The same help style as pagi-front: plain click formatting, no rich panels.
cli = typer.Typer(
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


@cli.command(
    help="Run a PAGI/ASGI application as a pagi-worker: import APP, run its lifespan, "
    "connect to pagi-front over <socket-dir>/workers.sock and serve the requests it "
    "hands over. Exit status: 0 graceful stop, 1 rejected by the front or other fatal "
    "error, 2 APP cannot be loaded, 3 lifespan startup failed."
)
def serve(
    app: Annotated[
        str,
        typer.Argument(
            metavar="APP",
            envvar="PAGI_APP",
            help="The application as MODULE:ATTR, e.g. mypackage.main:app.",
            show_default=False,
        ),
    ],
    socket_dir: Annotated[
        str,
        typer.Option(
            "--socket-dir",
            envvar="PAGI_SOCKET_DIR",
            help="Directory holding pagi-front's workers.sock.",
        ),
    ] = "/run/pagi",
    app_dir: Annotated[
        str,
        typer.Option(
            "--app-dir",
            envvar="PAGI_APP_DIR",
            help="Directory put first on sys.path before importing APP.",
        ),
    ] = ".",
    factory: Annotated[
        bool,
        typer.Option(
            "--factory/--no-factory",
            envvar="PAGI_FACTORY",
            help="APP is a zero-argument callable that returns the application.",
        ),
    ] = False,
    lifespan: Annotated[
        Lifespan,
        typer.Option(
            "--lifespan",
            envvar="PAGI_LIFESPAN",
            help=(
                "auto: use lifespan if the app supports it; on: require it; off: never "
                "send lifespan events."
            ),
        ),
    ] = Lifespan.auto,
    graceful_timeout: Annotated[
        float,
        typer.Option(
            "--graceful-timeout",
            envvar="PAGI_GRACEFUL_TIMEOUT",
            min=0,
            metavar="SECONDS",
            help=(
                "On SIGTERM/SIGINT, how long open requests may run before they are "
                "cancelled; also bounds lifespan shutdown."
            ),
        ),
    ] = 30.0,
    root_path: Annotated[
        str,
        typer.Option(
            "--root-path",
            envvar="PAGI_ROOT_PATH",
            help="scope['root_path'] of every request (where the app is mounted).",
        ),
    ] = "",
    worker_num: Annotated[
        int,
        typer.Option(
            "--worker-num",
            envvar="PAGI_WORKER_NUM",
            min=0,
            metavar="N",
            help="This worker's number: lifespan scope pagi.worker_num, logs and name.",
        ),
    ] = 0,
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            envvar="PAGI_WORKER_NAME",
            help='Name shown by the front and in the process title; defaults to "APP #N".',
            show_default=False,
        ),
    ] = None,
    capacity: Annotated[
        int,
        typer.Option(
            "--capacity",
            envvar="PAGI_WORKER_CAPACITY",
            min=0,
            metavar="N",
            help="Most requests this worker takes at once (told to the front); 0 = no limit.",
        ),
    ] = 0,
    window: Annotated[
        int,
        typer.Option(
            "--window",
            envvar="PAGI_WORKER_WINDOW",
            min=1,
            metavar="BYTES",
            help="Request-body bytes the front may forward per request before the app reads.",
        ),
    ] = 256 * 1024,
    sse_scope: Annotated[
        SseScope,
        typer.Option(
            "--sse-scope",
            envvar="PAGI_SSE_SCOPE",
            help=(
                "Requests that accept text/event-stream: on: give the app 'sse' scopes; "
                "off: give it plain 'http' scopes; auto: 'sse', but an app that declines its "
                "first one (raises or returns before responding) gets it replayed as 'http', "
                "and so do all later ones."
            ),
        ),
    ] = SseScope.auto,
    interface: Annotated[
        Interface,
        typer.Option(
            "--interface",
            envvar="PAGI_INTERFACE",
            help=(
                "The contract the app was written for: pagi (PAGI Www 0.6) or asgi (ASGI 3, "
                "spec 2.4); auto: asgi when the app is built on a known ASGI framework "
                "(Starlette, FastAPI, Django, Quart, Litestar, ...), else pagi."
            ),
        ),
    ] = Interface.auto,
    log_level: Annotated[
        LogLevel,
        typer.Option(
            "--log-level",
            envvar="PAGI_LOG_LEVEL",
            help="Logging threshold.",
        ),
    ] = LogLevel.info,
    use_colors: Annotated[
        bool | None,
        typer.Option(
            "--use-colors/--no-use-colors",
            envvar="PAGI_USE_COLORS",
            show_default=False,
            help="Colour the level names of log lines (default: when stderr is a terminal "
            "and NO_COLOR is unset).",
        ),
    ] = None,
    log_config: Annotated[
        str | None,
        typer.Option(
            "--log-config",
            envvar="PAGI_LOG_CONFIG",
            metavar="FILE",
            help="logging configuration applied over the defaults: .json or .yaml "
            "(dictConfig; YAML needs PyYAML), else INI (fileConfig).",
        ),
    ] = None,
    env_file: Annotated[
        str | None,
        typer.Option(
            "--env-file",
            envvar="PAGI_ENV_FILE",
            metavar="FILE",
            is_eager=True,
            callback=env_file_callback,
            help="KEY=VALUE lines added to the environment (not overriding it) before "
            "the options are read, so the app sees them too.",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=version_callback("pagi-worker"),
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    from .runner import run  # keeps --help fast: no uvloop/app imports

    config = WorkerConfig(
        app=app,
        socket_dir=socket_dir,
        app_dir=app_dir,
        factory=factory,
        lifespan=lifespan.value,
        graceful_timeout=graceful_timeout,
        root_path=root_path,
        worker_num=worker_num,
        name=name or None,
        capacity=capacity,
        window=window,
        log_level=log_level.value,
        sse_scope=sse_scope.value,
        interface=interface.value,
        use_colors=colors_wanted(use_colors, sys.stderr),
        log_config=log_config_option(log_config),
    )
    raise typer.Exit(run(config))


def main() -> None:
    """Console script entry point (``pagi-worker``)."""
    cli(prog_name="pagi-worker")
