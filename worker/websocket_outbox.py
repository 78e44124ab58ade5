"""What a websocket scope sends to the front, within its response window.

An :class:`Outbox` belongs to one websocket scope. It sends WS_SEND messages
(and a refusal's HTTP_RESPONSE_BODY pieces) so that:

* the data in flight never exceeds the response window (WELCOME ``window``,
  plus CREDITs, minus what was sent), and no piece exceeds the link's frame
  size; text is split between code points (a piece of ``k`` code points is at
  most ``4k`` bytes of UTF-8);
* messages go out whole and in order: one that does not fit at once joins the
  queue, which CREDITs pump; pieces of two messages never interleave;
* ``send()`` returns when the last piece is queued on the link, or when the
  message was dropped (:meth:`Outbox.drop`: the app closed, the client left);
* a cancelled ``send()`` drops its message if none of it went out, and
  otherwise lets it finish in the background (the stream of pieces stays well
  formed).

Sizes count code points for ``str`` and bytes for ``bytes``, as the link's
flow control does (docs/worker-protocol.md).
"""

from __future__ import annotations

import asyncio
import collections
from typing import TYPE_CHECKING

from pagi.protocol.kinds import EVENT as _EVENT

if TYPE_CHECKING:
    from .backlog import TransportState
    from .scope_session import ScopeSession

Data = str | bytes


class _Outgoing:
    """One message (or refusal body) waiting for response window."""

    __slots__ = ("code", "data", "done", "future", "more", "pos")

    def __init__(self, code: int, data: Data, more: bool) -> None:
        self.code = code
        self.data = data
        self.more = more  # ``more`` of its last piece (always False for WS_SEND)
        self.pos = 0  # code points/bytes already sent
        self.done = False  # fully sent, or dropped
        self.future: asyncio.Future[None] | None = None

    def finish(self) -> None:
        self.done = True
        future = self.future
        if future is not None and not future.done():
            future.set_result(None)


class Outbox:
    __slots__ = ("_available", "_out", "_session", "_sid", "_transport")

    def __init__(self, session: ScopeSession, sid: int, transport: TransportState) -> None:
        self._session = session
        self._sid = sid
        self._transport = transport
        self._available = session.response_window
        self._out: collections.deque[_Outgoing] | None = None

    def credit(self, nbytes: int) -> None:
        """CREDIT: ``nbytes`` more may be in flight; send what now fits."""
        self._available += nbytes
        if self._out:
            self._pump()

    async def send(self, code: int, data: Data, more: bool) -> None:
        """Send one message (or refusal body piece) as event ``code``, waiting
        for CREDIT as needed."""
        n = len(data)
        out = self._out
        if not out and n <= self._available and n <= self._piece_limit(data):
            self._available -= n
            self._session.link.send([_EVENT, self._sid, code, data, more])
            if n:
                self._transport._sent(n)
            return
        entry = _Outgoing(code, data, more)
        if out is None:
            out = self._out = collections.deque()
        out.append(entry)
        self._pump()
        if entry.done:
            return
        entry.future = self._session.loop.create_future()
        try:
            await entry.future
        except asyncio.CancelledError:
            # nothing of it went out yet: forget it; else it must finish
            queue = self._out
            if entry.pos == 0 and not entry.done and queue is not None and entry in queue:
                queue.remove(entry)
            raise

    def drop(self) -> None:
        """Forget everything still queued; the waiting ``send()`` calls return."""
        out, self._out = self._out, None
        if out:
            for entry in out:
                entry.finish()

    def _piece_limit(self, data: Data) -> int:
        limit = self._session.max_body_piece
        return limit if type(data) is bytes else limit // 4

    def _pump(self) -> None:
        """Send queued pieces while there is window, in order."""
        out = self._out
        link = self._session.link
        sid = self._sid
        while out:
            entry = out[0]
            data = entry.data
            n = len(data)
            pos = entry.pos
            limit = self._piece_limit(data)
            while True:
                take = min(n - pos, self._available, limit)
                if take <= 0 and pos < n:
                    entry.pos = pos
                    return
                end = pos + take
                if pos == 0 and end == n:
                    piece: object = data
                elif isinstance(data, str):
                    piece = data[pos:end]
                else:
                    piece = memoryview(data)[pos:end]
                self._available -= take
                last = end >= n
                link.send([_EVENT, sid, entry.code, piece, entry.more if last else True])
                if take:
                    self._transport._sent(take)
                pos = end
                if last:
                    break
            entry.pos = pos
            out.popleft()
            entry.finish()
