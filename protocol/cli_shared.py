"""What both command lines share: option callbacks (``--version``, ``--env-file``,
``--log-config``) and the choices of the options both have.

Each turns a problem into :class:`typer.BadParameter`, printed as one line
naming the option (exit status 2), so both programs refuse bad input alike.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable

import typer

from .env_file import EnvFileError, load_env_file
from .log_config import LogConfig, LogConfigError, read_log_config
from .version import version_line


class Lifespan(enum.StrEnum):
    """``--lifespan``."""

    auto = "auto"
    on = "on"
    off = "off"


class SseScope(enum.StrEnum):
    """``--sse-scope``."""

    auto = "auto"
    on = "on"
    off = "off"


class Interface(enum.StrEnum):
    """``--interface``."""

    auto = "auto"
    pagi = "pagi"
    asgi = "asgi"


class LogLevel(enum.StrEnum):
    """``--log-level``."""

    critical = "critical"
    error = "error"
    warning = "warning"
    info = "info"
    debug = "debug"


def version_callback(program: str) -> Callable[[bool], None]:
    """An eager ``--version`` callback printing :func:`version_line` for ``program``."""

    def callback(value: bool) -> None:
        if value:
            typer.echo(version_line(program))
            raise typer.Exit(0)

    return callback


def env_file_callback(value: str | None) -> str | None:
    """Eager: load the file before any other option reads its ``PAGI_*`` variable."""
    if value is not None:
        try:
            load_env_file(value, os.environ)
        except OSError as exc:
            raise typer.BadParameter(f"cannot read {value}: {exc.strerror}") from None
        except EnvFileError as exc:
            raise typer.BadParameter(str(exc)) from None
    return value


def log_config_option(path: str | None) -> LogConfig | None:
    """The parsed ``--log-config`` file, or :class:`typer.BadParameter` saying what is wrong."""
    if path is None:
        return None
    try:
        return read_log_config(path)
    except LogConfigError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--log-config'") from None
