"""What both command lines share: option callbacks (``--version``, ``--env-file``,
``--log-config``), the choices of the options both have, and the shapes of
their typer options (:func:`value`, :func:`flag`, :func:`count`,
:func:`choice`, and the options both programs have alike), so one option reads
and shows the same in ``pagi-front --help`` and ``pagi-worker --help``.

Each turns a problem into :class:`typer.BadParameter`, printed as one line
naming the option (exit status 2), so both programs refuse bad input alike.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable
from typing import Any

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


# --- option shapes both typer commands use ----------------------------------------
# (each returns the typer.Option of an ``Annotated[...]`` parameter; the option's
# name comes from the parameter's)


def value(envvar: str, metavar: str, text: str) -> Any:
    """An option taking one value, shown as ``metavar``, checked by its type only."""
    return typer.Option(envvar=envvar, metavar=metavar, help=text)


def flag(decls: str, envvar: str, text: str) -> Any:
    """An on/off option spelled ``decls`` (``--name/--no-name``)."""
    return typer.Option(decls, envvar=envvar, help=text)


def count(envvar: str, text: str) -> Any:
    """A count option ``N``, at least 0."""
    return typer.Option(envvar=envvar, metavar="N", min=0, help=text)


def choice(envvar: str, text: str) -> Any:
    """One of an enum's values, spelled as they are (lowercase): another letter
    case is refused, naming the accepted values."""
    return typer.Option(envvar=envvar, help=text)


def use_colors_option(text: str) -> Any:
    """``--use-colors/--no-use-colors`` (unset: :func:`~.log_colors.colors_wanted` decides)."""
    return typer.Option(
        "--use-colors/--no-use-colors", envvar="PAGI_USE_COLORS", show_default=False, help=text
    )


def env_file_option(text: str) -> Any:
    """``--env-file FILE``, loaded before any other option reads its variable."""
    return typer.Option(
        envvar="PAGI_ENV_FILE",
        metavar="FILE",
        is_eager=True,
        callback=env_file_callback,
        help=text,
    )


def version_option(program: str) -> Any:
    """``--version``: print ``program``'s version line and exit."""
    return typer.Option(
        "--version",
        callback=version_callback(program),
        is_eager=True,
        help="Print the version and exit.",
    )
