"""``<socket-dir>/workers.sock``: the UNIX socket pagi-worker processes connect to.

The front creates the socket directory (mode 0750) and the socket (mode 0660);
if another front already answers on the path, :meth:`WorkerSocket.open` fails
with a :class:`~pagi.frontend.listeners.ListenError` naming it. Each accepted
connection becomes a :class:`~pagi.frontend.link.worker_link.WorkerLink` that
registers itself with the pool once its HELLO is accepted.
"""

from __future__ import annotations

import logging
import os
import socket

from .acceptor import Acceptor
from .config import FrontConfig
from .link.pool import WorkerPool
from .link.worker_link import WorkerLink
from .listeners import AddressInUse, Listener, ListenError, bind_unix

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
        self._acceptor = Acceptor(self._link, "worker link", 64)

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
            listener = bind_unix(self.path, 128, WORKER_SOCKET_MODE, "worker socket")
        except AddressInUse:
            raise ListenError(
                f"another pagi-front is already running: {self.path} answers "
                "(use another --socket-dir, or stop that front first)"
            ) from None
        self._acceptor.start(listener)
        logger.info("accepting workers on unix:%s", self.path)

    def adopt(self, listener: Listener) -> None:
        """Accept workers on a socket handed over by another front (handover.py)."""
        self._acceptor.start(listener)
        logger.info("accepting workers on unix:%s (handed over)", self.path)

    @property
    def listener(self) -> Listener | None:
        return self._acceptor.listener

    def pause(self) -> None:
        """Accept no worker for now (another front does, during a hand-over)."""
        self._acceptor.pause()

    def resume(self) -> None:
        self._acceptor.resume()

    def _link(self, sock: socket.socket) -> None:
        worker_id = self._next_id
        self._next_id += 1
        link = WorkerLink(sock, worker_id, self._config, self._pool, self.links.discard)
        self.links.add(link)

    def close(self) -> None:
        """Stop accepting, close every link, remove the socket file."""
        self._acceptor.close()
        for link in list(self.links):
            link.close("front stopping")
