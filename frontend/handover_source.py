"""The running front's side of a hand-over (see :mod:`.handover`).

:class:`HandoverSource` answers ``POST /handover`` with the descriptors of
every listening socket the front owns and pauses accepting workers and
control connections; on ``POST /handover/done`` it disowns the socket files
(they now belong to the new front) and starts the graceful stop; if the
connection closes first, it resumes as if nothing happened.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable

from .control_api import OperationError
from .control_socket import ControlSocket
from .listeners import Listener
from .worker_socket import WorkerSocket

logger = logging.getLogger("pagi.front")


class HandoverSource:
    def __init__(
        self,
        listeners: Callable[[], list[Listener]],
        workers: WorkerSocket,
        control: ControlSocket,
        private_dir: Callable[[], str | None],
        on_done: Callable[[], None],
    ) -> None:
        self._listeners = listeners
        self._workers = workers
        self._control = control
        self._private_dir = private_dir
        self._on_done = on_done
        self.state = "idle"  # idle | handing | done

    def _owned(self) -> list[tuple[str, Listener]]:
        owned = [("client", listener) for listener in self._listeners()]
        if self._workers.listener is not None:
            owned.append(("workers", self._workers.listener))
        if self._control.listener is not None:
            owned.append(("control", self._control.listener))
        return owned

    def give(self, closed: asyncio.Future[None] | None) -> tuple[dict[str, object], list[int]]:
        """Step 1: describe and pass every listening socket; pause workers/control."""
        if self.state != "idle":
            raise OperationError(409, f"a hand-over is already {self.state}")
        entries: list[dict[str, object]] = []
        fds: list[int] = []
        for role, listener in self._owned():
            entries.append(
                {"role": role, "url": listener.url, "name": listener.name or None,
                 "path": listener.uds_path}
            )  # fmt: skip
            fds.append(listener.sock.fileno())
        self._workers.pause()
        self._control.pause()
        self.state = "handing"
        logger.info("handing %d socket(s) over to a new front", len(fds))
        if closed is not None:
            closed.add_done_callback(self._connection_closed)
        return {"sockets": entries, "private_dir": self._private_dir()}, fds

    def _connection_closed(self, _future: asyncio.Future[None]) -> None:
        if self.state == "handing":
            self.state = "idle"
            self._workers.resume()
            self._control.resume()
            logger.warning("hand-over abandoned: the new front went away; serving on")

    def done(self) -> dict[str, object]:
        """Step 2: the new front serves; disown the socket files and stop."""
        if self.state != "handing":
            raise OperationError(409, "no hand-over under way")
        self.state = "done"
        for _role, listener in self._owned():
            listener.uds_path = None  # the new front removes them when it is done
        logger.info("sockets handed over to the new front; stopping")
        self._on_done()
        return {"stopping": os.getpid()}
