"""Value types and per-option checks of the ``pagi-front`` command line.

Each callback turns a bad value into :class:`typer.BadParameter`, which the
CLI prints as one line naming the option (exit status 2). Checks that involve
several options at once live in :mod:`.cli_rules`.
"""

from __future__ import annotations

import enum
import os
import re

import typer
from pagi.protocol.env_file import EnvFileError, load_env_file
from pagi.protocol.log_config import LogConfig, LogConfigError, read_log_config
from pagi.protocol.version import version_line

from .access_format import compile_format
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


def binds_callback(values: list[str] | None) -> list[str] | None:
    for value in values or ():
        try:
            parse_bind(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
    return values


def size_callback(value: str | None) -> str | None:
    if value is not None:
        try:
            size = parse_size(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        if size <= 0:
            raise typer.BadParameter("must be greater than 0")
    return value


def positive_int(value: int | None) -> int | None:
    if value is not None and value <= 0:
        raise typer.BadParameter("must be at least 1")
    return value


def positive_float(value: float | None) -> float | None:
    if value is not None and not value > 0:
        raise typer.BadParameter("must be greater than 0")
    return value


def fds_callback(values: list[int] | None) -> list[int] | None:
    for fd in values or ():
        if fd < 0:
            raise typer.BadParameter(f"{fd} is not a file descriptor")
    return values


def app_callback(value: str | None) -> str | None:
    if value is not None:
        module, sep, attr = value.partition(":")
        if not sep or not module or not attr:
            raise typer.BadParameter(f"{value!r} must be MODULE:ATTR, e.g. myapp:app")
    return value


def http_callback(value: HttpParser) -> HttpParser:
    if value == HttpParser.httptools:
        try:
            import httptools  # noqa: F401
        except ImportError:
            raise typer.BadParameter(
                "httptools is not installed (pip install 'pagi-server[fast]'), use h11 or auto"
            ) from None
    return value


def version_callback(value: bool) -> None:
    if value:
        typer.echo(version_line("pagi-front"))
        raise typer.Exit(0)


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


def read_log_config_option(path: str | None) -> LogConfig | None:
    """The parsed ``--log-config`` file, or :class:`typer.BadParameter` saying what is wrong."""
    if path is None:
        return None
    try:
        return read_log_config(path)
    except LogConfigError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--log-config'") from None


def access_format_callback(value: str | None) -> str | None:
    if value is not None:
        try:
            compile_format(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
    return value
