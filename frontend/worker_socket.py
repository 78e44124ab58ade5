"""``<socket-dir>/workers.sock``: the UNIX socket pagi-worker processes connect to.

The front creates the socket directory (mode 0750) and the socket (mode 0660);
if another front already answers on the path, :meth:`WorkerSocket.open` fails
with a :class:`~pagi.frontend.listeners.ListenError` naming it. Each accepted
connection becomes a :class:`~pagi.frontend.link.worker_link.WorkerLink` that
registers itself with the pool once its HELLO is accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

from .config import FrontConfig
from .link.pool import WorkerPool
from .link.worker_link import WorkerLink
from .listeners import AddressInUse, Listener, ListenError, bind_unix, close_listeners

logger = logging.getLogger("pagi.front")

WORKER_SOCKET_NAME = "workers.sock"
WORKER_SOCKET_MODE = 0o660
SOCKET_DIR_MODE = 0o750


class WorkerSocket:
    """``<socket-dir>/workers.sock``: accepts workers and owns their links."""

    def __init__(self, config: FrontConfig, pool: WorkerPool) -> None:
        self._config = config
        self._pool = pool
        self.path = os.path.join(config.socket_dir, WORKER_SOCKET_NAME)
        self.links: set[WorkerLink] = set()
        self._next_id = 1
        self._loop = asyncio.get_running_loop()
        self._listener: Listener | None = None

    def open(self) -> None:
        """Create the directory and the socket. Raises :class:`ListenError`."""
        directory = self._config.socket_dir
        if not os.path.isdir(directory):
            try:
                os.makedirs(directory, mode=SOCKET_DIR_MODE, exist_ok=True)
                os.chmod(directory, SOCKET_DIR_MODE)
            except OSError as exc:
                raise ListenError(
                    f"cannot create socket dir {directory}: {exc.strerror or exc}"
                ) from None
        try:
            self._listener = bind_unix(self.path, 128, WORKER_SOCKET_MODE, "worker socket")
        except AddressInUse:
            raise ListenError(
                f"another pagi-front is already running: {self.path} answers "
                "(use another --socket-dir, or stop that front first)"
            ) from None
        self._loop.add_reader(self._listener.sock.fileno(), self._accept)
        logger.info("accepting workers on unix:%s", self.path)

    def _accept(self) -> None:
        assert self._listener is not None
        for _ in range(64):
            try:
                sock, _addr = self._listener.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                logger.warning("accepting a worker link failed: %s", exc.strerror or exc)
                return
            worker_id = self._next_id
            self._next_id += 1
            link = WorkerLink(sock, worker_id, self._config, self._pool, self.links.discard)
            self.links.add(link)

    def close(self) -> None:
        """Stop accepting, close every link, remove the socket file."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError, ValueError):
                self._loop.remove_reader(listener.sock.fileno())
            close_listeners([listener])
        for link in list(self.links):
            link.close("front stopping")
