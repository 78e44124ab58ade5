"""The usual ``pagi-front`` command lines, read without typer.

Importing typer and building its command costs more than the rest of the
front's start-up (typer builds a pydantic adapter per option: about 150 ms
and 20 MiB on the reference machine), and it sits on every cold start. Most
command lines are short — an app, ``--workers``, ``--bind`` or
``--host/--port``, a log level — so :func:`parse_common` reads exactly that
closed set of options into a :class:`~pagi.frontend.config.FrontConfig`.

Invariant: it returns a config only when the typer command line
(``cli_command.py``) would have produced the very same one and would have
printed nothing. Anything else — another option, ``--help``, ``--opt=value``,
a repeated single-valued option, a value typer would refuse or convert
differently, a value that starts with ``-``, any ``PAGI_*`` variable (typer
reads them), sockets passed by systemd (``LISTEN_FDS``) — gives ``None``,
and the caller runs the full typer command line, which also prints its
errors. ``tests/unit/frontend/test_cli_fast.py`` compares the two for every
option read here.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

from pagi.protocol.closed_argv import Parse, read_options, text
from pagi.protocol.log_colors import colors_wanted

from .config import FrontConfig
from .listeners import parse_bind

_LIFESPAN = ("auto", "on", "off")
_INTERFACES = ("auto", "pagi", "asgi")
_LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
# The options that need an app (``cli_rules.check_embedded_options``).
EMBEDDED_ONLY = (
    "workers",
    "app_dir",
    "factory",
    "lifespan",
    "sse_scope",
    "interface",
    "root_path",
    "limit_concurrency",
    "reload",
)


def host_port_address(host: str | None, port: int | None) -> str:
    """``--host H --port P`` as the one ``--bind`` it spells (127.0.0.1 and 8000 by default)."""
    host = host or "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{8000 if port is None else port}"


def _choice(allowed: tuple[str, ...]) -> Parse:
    def parse(value: str) -> str | None:
        return value if value in allowed else None  # typer's choices are case-sensitive

    return parse


def _number(low: int, high: int) -> Parse:
    def parse(digits: str) -> int | None:
        if not (digits.isascii() and digits.isdigit()):
            return None  # "+1", " 1", "1_0": typer's job
        value = int(digits)
        return value if low <= value <= high else None

    return parse


def _app(value: str) -> str | None:
    module, sep, attr = value.partition(":")
    return value if sep and module and attr else None


def _bind(value: str) -> str | None:
    try:
        address = parse_bind(value)
    except ValueError:
        return None
    return None if address.tls else value  # TLS needs the certificate checks


# option -> (FrontConfig field or a local name, parser)
_VALUED: dict[str, tuple[str, Parse]] = {
    "--app": ("app_option", _app),
    "--workers": ("workers", _number(1, 2**31)),
    "--app-dir": ("app_dir", text),
    "--lifespan": ("lifespan", _choice(_LIFESPAN)),
    "--sse-scope": ("sse_scope", _choice(_LIFESPAN)),
    "--interface": ("interface", _choice(_INTERFACES)),
    "--root-path": ("root_path", text),
    "--socket-dir": ("socket_dir", text),
    "--host": ("host", text),
    "--port": ("port", _number(0, 65535)),
    "--log-level": ("log_level", _choice(_LOG_LEVELS)),
}
_REPEATED: dict[str, tuple[str, Parse]] = {
    "--bind": ("binds", _bind),
    "-b": ("binds", _bind),
    "--uds": ("uds", text),
}
_FLAGS: dict[str, tuple[str, bool]] = {
    "--factory": ("factory", True),
    "--no-factory": ("factory", False),
    "--access-log": ("access_log", True),
    "--no-access-log": ("access_log", False),
    "--use-colors": ("use_colors", True),
    "--no-use-colors": ("use_colors", False),
}


def parse_common(argv: Sequence[str], environ: Mapping[str, str]) -> FrontConfig | None:
    """``argv`` (without the program) as the typer command line reads it, or None."""
    if "LISTEN_FDS" in environ or any(name.startswith("PAGI_") for name in environ):
        return None
    values = read_options(argv, _FLAGS, _VALUED, _REPEATED, ("app", _app))
    if values is None:
        return None
    app = values.pop("app", None)
    option = values.pop("app_option", None)
    if app is not None and option is not None and app != option:
        return None
    app = app if app is not None else option
    if app is None and any(name in values for name in EMBEDDED_ONLY):
        return None  # typer refuses them without an app
    host, port = values.pop("host", None), values.pop("port", None)
    if host is not None or port is not None:
        if "binds" in values:
            return None  # typer refuses the mix
        values["binds"] = [host_port_address(host, port)]  # type: ignore[arg-type]
    use_colors = values.pop("use_colors", None)
    config = FrontConfig(app=app, **values)  # type: ignore[arg-type]
    config.private_socket_dir = app is not None and "socket_dir" not in values
    colors = use_colors if isinstance(use_colors, bool) else None
    config.use_colors = colors_wanted(colors, sys.stderr)
    config.binds = config.listen_addresses()
    return config
