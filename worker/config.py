"""Every setting of pagi-worker, in one place.

The CLI (``cli.py``) fills a :class:`WorkerConfig`; nothing else reads options
or environment variables. The defaults here are the documented defaults
(``docs/worker.md``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from pagi.protocol.log_config import LogConfig

KiB = 1024

LIFESPAN_MODES = ("auto", "on", "off")
SSE_SCOPE_MODES = ("auto", "on", "off")
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


@dataclass(slots=True)
class WorkerConfig:
    app: str  # MODULE:ATTR
    socket_dir: str = "/run/pagi"  # the front's workers.sock lives here
    app_dir: str = "."  # prepended to sys.path before importing the app
    factory: bool = False  # app is a zero-argument callable returning the app
    lifespan: str = "auto"  # auto | on | off
    graceful_timeout: float = 30.0  # bound on draining scopes and lifespan shutdown
    root_path: str = ""  # scope["root_path"] of every request
    worker_num: int = 0  # lifespan scope pagi.worker_num; part of the name
    name: str | None = None  # None: "MODULE:ATTR #N"
    capacity: int = 0  # most concurrent scopes (sent in HELLO); 0 = no limit
    window: int = 256 * KiB  # request-body window granted per scope (HELLO)
    log_level: str = "info"
    sse_scope: str = "auto"  # auto | on | off: whether the app gets "sse" scopes (sse_scope.py)
    use_colors: bool = False  # coloured level names in log lines
    log_config: LogConfig | None = None  # --log-config, applied over the default logging

    @property
    def socket_path(self) -> str:
        return os.path.join(self.socket_dir, "workers.sock")

    @property
    def display_name(self) -> str:
        """The worker's name in HELLO, logs and the process title."""
        if self.name:
            return self.name
        return f"{self.app} #{self.worker_num}"
