"""Logging setup of pagi-front.

Everything goes to stderr, one line per record::

    2025-01-31 12:00:00,123 INFO front[4242] listening on http://127.0.0.1:8000

Loggers:

* ``pagi.front`` — the front's own messages (listening, workers joining and
  leaving, errors), filtered by ``--log-level``;
* ``pagi.access`` — one INFO line per request (written by the HTTP layer).
  It is governed only by ``--access-log/--no-access-log``, not by
  ``--log-level``, so quietening errors never loses the access log;
* anything else (``asyncio``, libraries) follows ``--log-level`` too.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TextIO

from pagi.protocol.log_colors import make_formatter
from pagi.protocol.log_config import LogConfig, apply_log_config

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")

FORMAT = "%(asctime)s %(levelname)s front[%(process)d] %(message)s"

_HANDLER_NAME = "pagi-front"


class FrontHandler(logging.StreamHandler[TextIO]):
    """pagi-front's stderr handler.

    ``before_emit`` (set by the access log's batched writer) runs before every
    record, so lines it holds are written before anything logged after them.
    ``front_*`` remember what :func:`setup_logging` configured, so the writer
    can tell whether a ``--log-config`` changed the handler's output.
    """

    def __init__(self, stream: TextIO, use_colors: bool) -> None:
        super().__init__(stream)
        self.set_name(_HANDLER_NAME)
        self.front_colors = use_colors
        self.front_formatter = make_formatter(FORMAT, use_colors)
        self.setFormatter(self.front_formatter)
        self.before_emit: Callable[[], None] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.before_emit is not None:
            self.before_emit()
        super().emit(record)


def installed_handler() -> FrontHandler | None:
    """The handler :func:`setup_logging` put on the root logger, if it is still there."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, FrontHandler):
            return handler
    return None


def setup_logging(
    log_level: str = "info",
    access_log: bool = True,
    use_colors: bool = False,
    log_config: LogConfig | None = None,
) -> None:
    """Install the stderr handler on the root logger (idempotent).

    A ``--log-config`` file is applied last, so it wins for whatever it names;
    ``--log-level`` and ``--access-log`` stay the defaults for the rest.
    """
    level = logging.getLevelNamesMapping()[log_level.upper()]
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    root.addHandler(FrontHandler(sys.stderr, use_colors))
    root.setLevel(level)
    logging.getLogger("pagi").setLevel(level)

    access = logging.getLogger("pagi.access")
    # Records propagate to the root handler regardless of ancestor levels, so
    # the access logger's own level alone decides whether lines appear.
    access.setLevel(logging.INFO if access_log else logging.CRITICAL + 1)
    access.disabled = not access_log
    if log_config is not None:
        apply_log_config(log_config)
