"""The set of connected workers and the routing of new scopes.

A worker is *ready* when it has been welcomed and has not sent DRAIN; it can
take a scope when it is ready and under its HELLO ``capacity`` (0 = no limit).
:meth:`WorkerPool.pick` returns the ready worker with the fewest open scopes;
among equals it rotates (round-robin), so an idle pool spreads requests.

Waiting (:meth:`WorkerPool.wait`) is for the overload path only. Waiters sit in
a FIFO; whenever capacity may have appeared (a worker joined, or a scope
ended) as many waiters are woken as there are free slots. A woken waiter
re-checks :meth:`pick`; if another request took the slot first it goes back
to the *front* of the queue, so waiting stays first-come first-served.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..channels.broker import ChannelBroker
    from .worker_link import WorkerLink


class WorkerPool:
    __slots__ = ("_links", "_rr", "_waiters", "channels")

    def __init__(self, channels: ChannelBroker | None = None) -> None:
        #: The channel broker (None: ``--channels off``); told of joins and losses.
        self.channels = channels
        self._links: list[WorkerLink] = []
        self._rr = 0  # index where the next tie-breaking scan starts
        self._waiters: deque[asyncio.Future[None]] = deque()

    # --- routing (hot path) ----------------------------------------------

    def pick(self) -> WorkerLink | None:
        """The ready worker under capacity with the fewest open scopes, or None."""
        links = self._links
        n = len(links)
        if n == 0:
            return None
        best: WorkerLink | None = None
        best_index = 0
        best_open = 0
        start = self._rr % n
        for step in range(n):
            index = start + step
            if index >= n:
                index -= n
            link = links[index]
            if link.draining:
                continue
            open_scopes = link.open_scopes
            if link.capacity and open_scopes >= link.capacity:
                continue
            if best is None or open_scopes < best_open:
                best = link
                best_index = index
                best_open = open_scopes
        if best is not None:
            self._rr = best_index + 1
        return best

    async def wait(self, timeout: float) -> WorkerLink | None:
        """Wait until :meth:`pick` finds a worker (returned), or ``timeout`` s (None)."""
        link = self.pick()
        if link is not None:
            return link
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + timeout
        first = True
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            fut: asyncio.Future[None] = loop.create_future()
            if first:
                self._waiters.append(fut)
                first = False
            else:
                self._waiters.appendleft(fut)  # lost a race: keep our turn
            try:
                await asyncio.wait_for(fut, remaining)
            except TimeoutError:
                self._forget(fut)
                return None
            except BaseException:
                # Cancelled: give a wake-up we may have consumed to the next waiter.
                self._forget(fut)
                self.capacity_changed()
                raise
            link = self.pick()
            if link is not None:
                return link

    def _forget(self, fut: asyncio.Future[None]) -> None:
        try:
            self._waiters.remove(fut)
        except ValueError:
            pass

    @property
    def waiting(self) -> int:
        """Requests waiting for a worker (:meth:`wait`)."""
        return len(self._waiters)

    def __len__(self) -> int:
        """Number of ready (welcomed, not draining) workers."""
        return sum(1 for link in self._links if not link.draining)

    # --- membership (called by WorkerLink) -----------------------------------

    @property
    def links(self) -> list[WorkerLink]:
        """Every pool member, draining ones included (a copy)."""
        return list(self._links)

    def add(self, link: WorkerLink) -> None:
        if link not in self._links:
            self._links.append(link)
            if self.channels is not None:
                self.channels.link_added(link)
        self.capacity_changed()

    def remove(self, link: WorkerLink) -> None:
        if self.channels is not None:
            self.channels.link_lost(link)
        try:
            self._links.remove(link)
        except ValueError:
            pass

    def capacity_changed(self) -> None:
        """Wake as many waiters as there are free slots (call when a slot may have freed)."""
        waiters = self._waiters
        if not waiters:
            return
        free = self._free_slots()
        while free > 0 and waiters:
            fut = waiters.popleft()
            if fut.done():
                continue
            fut.set_result(None)
            free -= 1

    def _free_slots(self) -> int:
        free = 0
        for link in self._links:
            if link.draining:
                continue
            if not link.capacity:
                return len(self._waiters)
            free += max(0, link.capacity - link.open_scopes)
        return free
