"""Value types and per-option checks of the ``pagi-front`` command line.

Each callback turns a bad value into :class:`typer.BadParameter`, which the
CLI prints as one line naming the option (exit status 2). Checks that involve
several options at once live in :mod:`.cli_rules`.
"""

from __future__ import annotations

import enum
import re
from typing import Any

import typer
from pagi.protocol.cli_shared import count as shared_count

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


class HttpParser(enum.StrEnum):
    auto = "auto"
    h11 = "h11"
    httptools = "httptools"


def binds_callback(values: list[str] | None) -> list[str] | None:
    for value in values or ():
        try:
            parse_bind(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
    return values


def bind_callback(value: str | None) -> str | None:
    """One ``HOST:PORT`` (e.g. ``--metrics-bind``)."""
    if value is not None:
        binds_callback([value])
    return value


def mode_callback(value: str) -> str:
    """An octal file mode for a socket only the front's user (and group) may use."""
    if not re.fullmatch(r"0?[0-7]{3}", value.strip()):
        raise typer.BadParameter(f"{value!r} is not an octal file mode such as 0600 or 0660")
    if int(value, 8) & 0o007:
        raise typer.BadParameter(f"{value} would let every user control the front")
    return value.strip()


def forwarded_ips_callback(value: str) -> str:
    """``--forwarded-allow-ips``: comma-separated addresses or CIDRs, or ``*``."""
    from .forwarded import TrustedProxies

    try:
        TrustedProxies.parse(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return value


def reload_callback(value: bool) -> bool:
    """``--reload`` needs watchfiles (the ``reload`` extra)."""
    if value:
        from .dev_reload import check_available

        problem = check_available()
        if problem is not None:
            raise typer.BadParameter(problem)
    return value


def size_callback(value: str | None) -> str | None:
    if value is not None and _checked_size(value) <= 0:
        raise typer.BadParameter("must be greater than 0")
    return value


def size_or_zero_callback(value: str | None) -> str | None:
    if value is not None:
        _checked_size(value)
    return value


def _checked_size(value: str) -> int:
    try:
        return parse_size(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def positive_int(value: int | None) -> int | None:
    if value is not None and value <= 0:
        raise typer.BadParameter("must be at least 1")
    return value


def positive_float(value: float | None) -> float | None:
    if value is not None and not value > 0:
        raise typer.BadParameter("must be greater than 0")
    return value


def channels_callback(value: str) -> str:
    """``front``, ``off`` or a Redis URL (``redis://``, ``rediss://``, ``unix://``)."""
    if value in ("front", "off") or value.startswith(("redis://", "rediss://", "unix://")):
        return value
    raise typer.BadParameter(
        f"{value!r}: expected 'front', 'off' or a Redis URL such as redis://127.0.0.1:6379/0"
    )


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


def access_format_callback(value: str | None) -> str | None:
    if value is not None:
        try:
            compile_format(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
    return value


# --- option shapes the front's command line repeats ------------------------------


def seconds(envvar: str, text: str) -> Any:
    """A duration option: ``SECONDS``, greater than 0."""
    return typer.Option(envvar=envvar, metavar="SECONDS", callback=positive_float, help=text)


def size(envvar: str, text: str, *, zero: bool = False) -> Any:
    """A byte-size option: ``SIZE`` with optional K/M/G units, greater than 0
    (``zero``: or 0)."""
    check = size_or_zero_callback if zero else size_callback
    return typer.Option(envvar=envvar, metavar="SIZE", callback=check, help=text)


def count(envvar: str, text: str, *, positive: bool = False) -> Any:
    """A count option ``N``: at least 0 (:func:`~pagi.protocol.cli_shared.count`),
    or (``positive``) at least 1."""
    if positive:
        return typer.Option(envvar=envvar, metavar="N", callback=positive_int, help=text)
    return shared_count(envvar, text)
