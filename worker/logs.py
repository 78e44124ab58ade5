"""Logging setup of the worker process: one stderr handler on the root logger.

Every line names the worker number and pid, in the same shape as the front's
lines (``... INFO worker#2[4242] pagi.worker: ...``), so the interleaved stderr of many
workers (embedded mode pipes them all through the front) stays readable. The
app's own loggers propagate to the same handler.
"""

from __future__ import annotations

import logging
import sys

from pagi.protocol.log_colors import make_formatter
from pagi.protocol.log_config import LogConfig, apply_log_config


def setup_logging(
    level: str, worker_num: int, use_colors: bool = False, log_config: LogConfig | None = None
) -> None:
    """The stderr handler, then the ``--log-config`` file (which wins for what it names)."""
    handler = logging.StreamHandler(sys.stderr)
    fmt = f"%(asctime)s %(levelname)s worker#{worker_num}[%(process)d] %(name)s: %(message)s"
    handler.setFormatter(make_formatter(fmt, use_colors))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    if log_config is not None:
        apply_log_config(log_config)
