"""What the front tells systemd, and when (``Type=notify`` units).

:class:`ServiceNotifier` runs one loop task that:

* sends ``READY=1`` (with ``STATUS=``) the first time the front is listening
  and at least one worker is ready (polled every 0.1 s until then);
* afterwards sends ``STATUS=`` with live counts whenever they change (checked
  once a second at most);
* sends ``WATCHDOG=1`` every ``watchdog_interval`` (half of ``WATCHDOG_USEC``)
  from the front's own event loop, so a wedged loop stops the pings and
  systemd restarts the front.

``RELOADING=1`` … ``READY=1`` around a rolling reload and ``STOPPING=1`` at
shutdown are sent by the caller through :meth:`reloading`, :meth:`reloaded`
and :meth:`stopping`. Without ``NOTIFY_SOCKET`` nothing is sent and no task
runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from .acceptor import cancel_and_wait
from .sd_notify import Notifier

#: How often readiness is checked before READY=1 was sent.
READY_POLL = 0.1
#: How often STATUS= is refreshed (sent only when it changed).
STATUS_PERIOD = 1.0


class ServiceNotifier:
    """Drives a :class:`Notifier` from the front's state.

    ``is_ready()`` says whether READY=1 may be sent; ``describe()`` gives the
    one-line STATUS text.
    """

    def __init__(
        self,
        notifier: Notifier,
        is_ready: Callable[[], bool],
        describe: Callable[[], str],
    ) -> None:
        self._notifier = notifier
        self._is_ready = is_ready
        self._describe = describe
        self._task: asyncio.Task[None] | None = None
        self._last_status = ""
        self.ready_sent = False

    def start(self) -> None:
        if self._notifier.enabled and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="pagi-sd-notify")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self._notifier.watchdog_interval
        next_ping = loop.time()
        next_status = loop.time()
        while True:
            now = loop.time()
            if interval is not None and now >= next_ping:
                self._notifier.watchdog()
                next_ping = now + interval
            if not self.ready_sent:
                if self._is_ready():
                    self._last_status = self._describe()
                    self._notifier.ready(self._last_status)
                    self.ready_sent = True
                    next_status = now + STATUS_PERIOD
            elif now >= next_status:
                self.refresh()
                next_status = now + STATUS_PERIOD
            wake = next_status if self.ready_sent else now + READY_POLL
            if interval is not None:
                wake = min(wake, next_ping)
            await asyncio.sleep(max(0.0, wake - loop.time()))

    def refresh(self) -> None:
        """Send STATUS= now if it changed since the last one."""
        status = self._describe()
        if status != self._last_status:
            self._last_status = status
            self._notifier.status(status)

    def reloading(self, what: str) -> None:
        self._notifier.reloading(what)

    def reloaded(self) -> None:
        self._last_status = self._describe()
        self._notifier.ready(self._last_status)

    def stopping(self) -> None:
        self._notifier.stopping("stopping: draining connections")

    async def close(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        self._notifier.close()
