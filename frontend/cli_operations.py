"""Options of the ``pagi-front`` command line: running the front in production.

Shutdown, the control socket, metrics, hand-over, the pid file, logging and
the access log, ``--env-file`` and ``--version``. Each name is the
``Annotated`` type of one parameter of :func:`~pagi.frontend.cli_command.serve`; the
reference is ``docs/cli.md``.
"""

from typing import Annotated

import typer
from pagi.protocol.cli_shared import (
    LogLevel,
    choice,
    env_file_option,
    flag,
    use_colors_option,
    value,
    version_option,
)

from .cli_values import access_format_callback, bind_callback, mode_callback, seconds

GracefulTimeout = Annotated[
    float,
    seconds(
        "PAGI_GRACEFUL_TIMEOUT",
        "On SIGTERM/SIGINT, how long open requests may finish before they "
        "are cut (and, in embedded mode, how long workers get to stop).",
    ),
]

ControlSocket = Annotated[
    bool,
    flag(
        "--control-socket/--no-control-socket",
        "PAGI_CONTROL_SOCKET",
        "Serve the control API (pagi-ctl) on <socket-dir>/control.sock.",
    ),
]

ControlSocketMode = Annotated[
    str,
    typer.Option(
        envvar="PAGI_CONTROL_SOCKET_MODE",
        metavar="MODE",
        callback=mode_callback,
        help="File mode of control.sock (octal). 0660 admits the front's group too.",
    ),
]

MetricsBind = Annotated[
    str | None,
    typer.Option(
        envvar="PAGI_METRICS_BIND",
        metavar="HOST:PORT",
        callback=bind_callback,
        help="Serve Prometheus metrics (/metrics) and a health check (/healthz) on "
        "this TCP address. Needs pip install 'pagi-server[metrics]'.",
    ),
]

Handover = Annotated[
    bool,
    flag(
        "--handover/--no-handover",
        "PAGI_HANDOVER",
        "Take over the listening sockets of the front running on --socket-dir "
        "(SCM_RIGHTS over its control socket); it stops once this one serves.",
    ),
]

AccessLog = Annotated[
    bool,
    flag(
        "--access-log/--no-access-log",
        "PAGI_ACCESS_LOG",
        "Log one line per request (logger 'pagi.access', on stderr).",
    ),
]

LogLevelChoice = Annotated[
    LogLevel,
    choice("PAGI_LOG_LEVEL", "Level of the front's own log (and of spawned workers)."),
]

AccessLogFormat = Annotated[
    str | None,
    typer.Option(
        envvar="PAGI_ACCESS_LOG_FORMAT",
        metavar="TEMPLATE",
        callback=access_format_callback,
        help="Shape of the access line with {field} placeholders, e.g. "
        "'{client} {request_line} {status} {duration_ms:.3f}'; fields in docs/cli.md.",
    ),
]

UseColors = Annotated[
    bool | None,
    use_colors_option(
        "Colour the level names of log lines (default: when stderr is a terminal "
        "and NO_COLOR is unset). Forwarded to embedded workers."
    ),
]

LogConfig = Annotated[
    str | None,
    value(
        "PAGI_LOG_CONFIG",
        "FILE",
        "logging configuration applied over the defaults: .json or .yaml "
        "(dictConfig; YAML needs PyYAML), else INI (fileConfig). Forwarded to "
        "embedded workers.",
    ),
]

EnvFile = Annotated[
    str | None,
    env_file_option(
        "KEY=VALUE lines added to the environment (not overriding it) before "
        "the options are read: PAGI_* variables in it configure the front, the "
        "rest reach the app's workers."
    ),
]

PidFile = Annotated[
    str | None,
    value("PAGI_PID_FILE", "PATH", "Write the front's pid here once it serves; removed at exit."),
]

Version = Annotated[bool, version_option("pagi-front")]
