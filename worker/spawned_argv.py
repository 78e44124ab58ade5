"""The command line pagi-front gives its embedded workers, read without typer.

Building the typer command costs more than the rest of a worker's start-up
(typer builds a pydantic adapter per option: about 100 ms on the reference
machine), and in embedded mode that cost sits on the front's cold start. The
argv pagi-front writes (``frontend/supervisor.py: worker_argv``) uses a small
closed set of options with values it has already checked, so
:func:`parse_spawned` reads exactly that shape into a
:class:`~pagi.worker.config.WorkerConfig`.

Invariant: it returns a config only when typer would have produced the very
same one. Anything else — another option, ``--help``, a value typer would
refuse or convert differently, a repeated option, or a ``PAGI_*`` variable
for an option the command line leaves out (typer would read it) — gives
``None``, and the caller runs the full typer command line, which also prints
its errors.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence

from pagi.protocol.closed_argv import Parse, read_options, text
from pagi.protocol.log_colors import colors_wanted
from pagi.protocol.log_config import LogConfigError, read_log_config

from .config import INTERFACE_MODES, LIFESPAN_MODES, LOG_LEVELS, SSE_SCOPE_MODES, WorkerConfig


def _choice(allowed: tuple[str, ...]) -> Parse:
    def parse(given: str) -> str | None:
        value = given.lower()  # the worker's typer choices are case-insensitive
        return value if value in allowed else None

    return parse


def _count(digits: str) -> int | None:
    return int(digits) if digits.isascii() and digits.isdigit() else None


def _seconds(number: str) -> float | None:
    try:
        value = float(number)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


# option -> (WorkerConfig field, parser, the env variable typer would read without it)
_VALUED: dict[str, tuple[str, Parse, str]] = {
    "--socket-dir": ("socket_dir", text, "PAGI_SOCKET_DIR"),
    "--app-dir": ("app_dir", text, "PAGI_APP_DIR"),
    "--worker-num": ("worker_num", _count, "PAGI_WORKER_NUM"),
    "--lifespan": ("lifespan", _choice(LIFESPAN_MODES), "PAGI_LIFESPAN"),
    "--sse-scope": ("sse_scope", _choice(SSE_SCOPE_MODES), "PAGI_SSE_SCOPE"),
    "--interface": ("interface", _choice(INTERFACE_MODES), "PAGI_INTERFACE"),
    "--root-path": ("root_path", text, "PAGI_ROOT_PATH"),
    "--log-level": ("log_level", _choice(LOG_LEVELS), "PAGI_LOG_LEVEL"),
    "--graceful-timeout": ("graceful_timeout", _seconds, "PAGI_GRACEFUL_TIMEOUT"),
    "--capacity": ("capacity", _count, "PAGI_WORKER_CAPACITY"),
    "--log-config": ("log_config", text, "PAGI_LOG_CONFIG"),
}
_FLAGS = {
    "--factory": ("factory", True),
    "--use-colors": ("use_colors", True),
    "--no-use-colors": ("use_colors", False),
}
_OPTIONS = {option: (field, parse) for option, (field, parse, _env) in _VALUED.items()}
_FLAG_ENV = {"factory": "PAGI_FACTORY", "use_colors": "PAGI_USE_COLORS"}
# Options worker_argv never writes: their variables would change the result.
_UNWRITTEN_ENV = ("PAGI_WORKER_NAME", "PAGI_WORKER_WINDOW", "PAGI_ENV_FILE")


def parse_spawned(argv: Sequence[str], environ: Mapping[str, str]) -> WorkerConfig | None:
    """``argv`` (without the program) as typer would read it, or None (see the module)."""
    values = read_options(argv, _FLAGS, _OPTIONS, positional=("app", text))
    if values is None or "app" not in values:
        return None
    unset_env = [env for _opt, (field, _p, env) in _VALUED.items() if field not in values]
    unset_env += [env for field, env in _FLAG_ENV.items() if field not in values]
    if any(env in environ for env in (*unset_env, *_UNWRITTEN_ENV)):
        return None
    log_config = values.pop("log_config", None)
    use_colors = values.pop("use_colors", None)
    config = WorkerConfig(**values)  # type: ignore[arg-type]
    if isinstance(log_config, str):
        try:
            config.log_config = read_log_config(log_config)
        except LogConfigError:
            return None  # typer's command line says what is wrong
    choice = use_colors if isinstance(use_colors, bool) else None
    config.use_colors = colors_wanted(choice, sys.stderr)
    return config
