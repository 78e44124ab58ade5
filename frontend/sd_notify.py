"""systemd's notification protocol (``sd_notify``), spoken by the front.

The service manager passes ``NOTIFY_SOCKET`` (a path, or ``@name`` for the
abstract namespace) and, with ``WatchdogSec=``, ``WATCHDOG_USEC`` (and
``WATCHDOG_PID``). Each notification is one datagram of ``KEY=VALUE`` lines.

Invariants:

* :meth:`Notifier.from_environ` takes the variables *out* of the environment,
  so processes the front spawns (embedded workers) cannot notify on the
  front's behalf (the units also set ``NotifyAccess=main``).
* Without ``NOTIFY_SOCKET`` every method is a no-op: the front runs the same
  under systemd, a container or a terminal.
* Sending never raises: a notification that cannot be delivered is logged
  once at WARNING and dropped (systemd then acts on its own timeouts).
* ``watchdog_interval`` is half of ``WATCHDOG_USEC`` (as ``sd_watchdog_enabled``
  advises), or None when the watchdog is off or meant for another PID.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import MutableMapping

logger = logging.getLogger("pagi.front")


def monotonic_usec() -> int:
    """``CLOCK_MONOTONIC`` in microseconds, the clock ``MONOTONIC_USEC=`` uses."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


def socket_address(value: str) -> str | bytes:
    """The ``connect()`` address of a ``NOTIFY_SOCKET`` value (``@x`` is abstract)."""
    if value.startswith("@"):
        return b"\0" + os.fsencode(value[1:])
    return value


class Notifier:
    """Sends notifications to one ``NOTIFY_SOCKET`` (or nowhere)."""

    __slots__ = ("_address", "_failed", "_sock", "watchdog_interval")

    def __init__(self, address: str | bytes | None, watchdog_interval: float | None) -> None:
        self._address = address
        self._sock: socket.socket | None = None
        self._failed = False
        self.watchdog_interval = watchdog_interval

    @classmethod
    def from_environ(cls, environ: MutableMapping[str, str] | None = None) -> Notifier:
        """Read and remove ``NOTIFY_SOCKET``/``WATCHDOG_USEC``/``WATCHDOG_PID``."""
        env = os.environ if environ is None else environ
        raw = env.pop("NOTIFY_SOCKET", "")
        usec_text = env.pop("WATCHDOG_USEC", "")
        pid_text = env.pop("WATCHDOG_PID", "")
        address = socket_address(raw) if raw else None
        interval: float | None = None
        for_us = not pid_text or (pid_text.isdigit() and int(pid_text) == os.getpid())
        if usec_text.isdigit() and int(usec_text) > 0 and for_us:
            interval = int(usec_text) / 2_000_000
        return cls(address, interval)

    @property
    def enabled(self) -> bool:
        return self._address is not None

    def send(self, *lines: str) -> bool:
        """Send one datagram of ``KEY=VALUE`` lines; True if it left."""
        if self._address is None:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto("\n".join(lines).encode(), self._address)
        except OSError as exc:
            if not self._failed:
                self._failed = True
                logger.warning("cannot notify systemd at %r: %s", self._address, exc)
            return False
        return True

    def ready(self, status: str) -> None:
        self.send("READY=1", f"STATUS={status}")

    def status(self, status: str) -> None:
        self.send(f"STATUS={status}")

    def reloading(self, status: str = "reloading") -> None:
        self.send("RELOADING=1", f"MONOTONIC_USEC={monotonic_usec()}", f"STATUS={status}")

    def stopping(self, status: str = "stopping") -> None:
        self.send("STOPPING=1", f"STATUS={status}")

    def watchdog(self) -> None:
        self.send("WATCHDOG=1")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
