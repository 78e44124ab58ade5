"""Moving an open WebSocket to another worker: :class:`WSMove` (docs/resume.md).

An app that accepts with ``"pagi.resume": True`` (the worker then sends
``WS_RESUMABLE``) lets the front move its connection when its worker drains:

1. **Hold.** At a message boundary towards the worker (no message half
   forwarded), the stream's inbound flow stops forwarding
   (:meth:`~..websocket.inbound.InboundFlow.hold`): what the client sends
   waits in the front's inbound queue, and the client's input pauses as when
   the window is used up, so a client that keeps sending is held back by TCP,
   not by the front's memory (``--ws-max-queue`` still bounds the queue).
2. **Hand over.** ``WS_MOVE`` to the old scope: its worker delivers what it
   holds, the app hears ``websocket.disconnect`` 1012 ``moved`` and may
   attach a state token; what it sends until then still reaches the client
   (the old scope's ``WS_SEND`` is forwarded as usual). Its credit is ignored.
3. **Re-open** after the old scope's END: a new ``websocket`` scope on a
   ready worker (through the admission when none is ready at once) with the
   original handshake and ``extensions["pagi.resume"] = {"attempt", "state",
   "reason"}``. Its ``websocket.accept`` is swallowed (the client was
   accepted long ago); then the held messages go to it, in order, within its
   window (:meth:`~..websocket.inbound.InboundFlow.rebase`).

Invariants: one move at a time; nothing the client sent is forwarded while
the move runs, so every message reaches exactly one app, in order. A move
that cannot finish (the old worker dies mid-way, no worker comes, the new app
does not accept within ``--ws-handshake-timeout``) closes the connection
with 1011 (1012 when no worker came) as a worker's loss does.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Protocol

from pagi.protocol import reasons

from .opening import pick_link
from .resume import carried_groups, worker_for
from .ws_phase import OPEN

if TYPE_CHECKING:
    from ..link.handle import LinkHandle
    from .interfaces import StreamHost
    from .ws_channel import WSChannel
    from .ws_input import WSInput

logger = logging.getLogger("pagi.front")

#: How often a move waiting for a message boundary looks again (seconds).
BOUNDARY_RETRY = 0.01

IDLE, HANDING, OPENING = range(3)


class Movable(Protocol):
    """The stream as :class:`WSMove` sees it."""

    @property
    def conn(self) -> StreamHost: ...
    @property
    def link(self) -> LinkHandle | None: ...
    @property
    def sid(self) -> int: ...
    @property
    def worker(self) -> str: ...
    @property
    def channel(self) -> WSChannel | None: ...
    @property
    def input(self) -> WSInput: ...

    def wait(self, task: asyncio.Task[None] | None) -> None:
        """``task`` waits for a worker for the stream (None: the wait is over)."""

    def label(self) -> str: ...

    def reopen(self, link: LinkHandle, ext: dict[str, Any], groups: list[str]) -> None:
        """OPEN the scope again on ``link`` with the ``pagi.resume`` value ``ext``
        and the channel ``groups`` the old scope was in."""

    def disconnect(self, code: int, reason: str, *, defer: bool = True) -> None:
        """Tell the worker the connection is over (WS_DISCONNECT), if it is live there."""


class WSMove:
    """The move state of one movable WebSocket (see the module doc)."""

    __slots__ = ("_stream", "_timer", "attempt", "groups", "phase", "state")

    def __init__(self, stream: Movable) -> None:
        self._stream = stream
        self.state: bytes | None = None  # the app's latest state token
        self.attempt = 0
        self.phase = IDLE
        self.groups: list[str] = []  # channel groups taken along by the move under way
        self._timer: asyncio.TimerHandle | None = None

    def keep_state(self, state: bytes) -> None:
        """``WS_RESUME_STATE``: the app's latest state token, for the next scope."""
        self.state = state

    @property
    def holding(self) -> bool:
        """The client's messages are held (credit from the old scope is ignored)."""
        return self.phase != IDLE

    def extension(self, reason: str | None) -> dict[str, Any]:
        value: dict[str, Any] = {"attempt": self.attempt, "state": self.state}
        if reason is not None:
            value["reason"] = reason
        return value

    # --- the stream's hooks -----------------------------------------------------------

    def worker_draining(self) -> None:
        """The connection's worker drains: start the move at a message boundary."""
        self._timer = None
        stream = self._stream
        channel = stream.channel
        link = stream.link
        if self.phase != IDLE or channel is None or channel.state != OPEN or link is None:
            return
        flow = stream.input.flow
        if flow is None:
            return
        if stream.input.partial_forwarded:  # the worker has part of a message: wait for its end
            self._timer = stream.conn.loop.call_later(BOUNDARY_RETRY, self.worker_draining)
            return
        flow.hold()
        self.phase = HANDING
        # The groups as they stand when the app is told to hand over (it leaves
        # them as its scope ends, before the END that starts the re-open).
        self.groups = carried_groups(stream.conn, (link, stream.sid))
        link.ws_move(stream.sid)

    def handed_over(self) -> bool:
        """A scope's END (the stream's ``link`` is None already): True if it was
        the old scope of a move, which now goes on on another worker."""
        stream = self._stream
        channel = stream.channel
        if self.phase != HANDING or channel is None or channel.state != OPEN:
            return False
        self.phase = OPENING
        link = pick_link(stream.conn)
        if link is None:
            stream.wait(stream.conn.loop.create_task(self._wait()))
        else:
            self._open(link)
        return True

    def accepted(self) -> None:
        """The new scope's ``websocket.accept`` (swallowed): forward what waits."""
        if self.phase != OPENING:
            return
        self._cancel_timer()
        self.phase = IDLE
        stream = self._stream
        flow = stream.input.flow
        link = stream.link
        channel = stream.channel
        if flow is None or link is None or channel is None:
            return
        if channel.state != OPEN:  # the client left during the move
            stream.disconnect(1006, reasons.CLIENT_CLOSED, defer=False)
            return
        flow.rebase(link.request_window)
        stream.input.resume()

    def stop(self) -> None:
        """The connection ends: forget the move."""
        self._cancel_timer()
        self.phase = IDLE

    # --- internals ----------------------------------------------------------------------

    async def _wait(self) -> None:
        stream = self._stream
        link = await worker_for(stream.conn, f"moving {stream.label()}")
        stream.wait(None)
        if self.phase != OPENING:
            return
        if link is None:
            self._fail(1012, "no worker became ready to take it")
            return
        self._open(link)

    def _open(self, link: LinkHandle) -> None:
        stream = self._stream
        self.attempt += 1
        previous = stream.worker
        stream.reopen(link, self.extension("drain"), self.groups)
        timeout = stream.conn.ctx.config.ws_handshake_timeout
        self._timer = stream.conn.loop.call_later(timeout, self._expired)
        logger.info(
            "moving %s from %s to worker %s (was %s; attempt %d, state %s)",
            stream.label(),
            stream.conn.peer,
            link.name,
            previous,
            self.attempt,
            "none" if self.state is None else f"{len(self.state)} bytes",
        )

    def _expired(self) -> None:
        self._timer = None
        if self.phase == OPENING:
            timeout = self._stream.conn.ctx.config.ws_handshake_timeout
            self._fail(1011, f"the new worker's app did not accept within {timeout:g}s")

    def _fail(self, code: int, why: str) -> None:
        stream = self._stream
        self.phase = IDLE
        logger.warning(
            "closing %s from %s (%d): moving it failed: %s",
            stream.label(),
            stream.conn.peer,
            code,
            why,
        )
        stream.disconnect(1006, reasons.SERVER_ERROR, defer=False)
        channel = stream.channel
        if channel is not None:
            channel.scope_ended(code)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
