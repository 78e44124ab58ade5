"""Logging setup of the worker process: one stderr handler on the root logger.

Every line names the worker number and pid, in the same shape as the front's
lines (``... INFO worker#2[4242] pagi.worker: ...``), so the interleaved stderr of many
workers (embedded mode pipes them all through the front) stays readable. The
app's own loggers propagate to the same handler.
"""

from __future__ import annotations

import logging
import sys


def setup_logging(level: str, worker_num: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter(
            f"%(asctime)s %(levelname)s worker#{worker_num}[%(process)d] %(name)s: %(message)s"
        )
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
