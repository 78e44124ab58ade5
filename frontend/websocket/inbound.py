"""Client messages on their way to the worker, within the scope's request window.

:class:`InboundFlow` receives the message pieces the codec decodes from one
read of the client socket and hands them to the worker as ``WS_RECEIVE``
pieces, never more (counted in code points for text, bytes for binary, as
the link specifies) than the worker's request window allows. What does not fit
waits in the front's *inbound queue*; the connection stops reading the client
while the window is used up (:attr:`InboundFlow.blocked`), so the queue only
ever holds the rest of the reads already made, and a client flooding a slow
app is held back by TCP. If the queue still grows past ``max_queue`` (a
compressed read inflating to more than that) the connection is failed with
1008.

Pieces of one message decoded from the same read are joined into one
``WS_RECEIVE`` (a message sent in many small frames costs one link message
per read, not one per frame); :meth:`InboundFlow.flush` ends a read.

For failing a connection after a protocol error without losing the messages
that preceded it, the flow counts the units of complete messages received
(:attr:`complete_units`) and the credit the worker has returned
(:attr:`credited`): once ``credited >= complete_units`` the app has consumed
every complete message.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable


class InboundFlow:
    __slots__ = (
        "_acc",
        "_pending",
        "_send",
        "complete_units",
        "credited",
        "max_queue",
        "pending_size",
        "window",
    )

    def __init__(
        self, send: Callable[[str | bytes, bool], None], window: int, max_queue: int
    ) -> None:
        self._send = send  # queues one WS_RECEIVE piece on the link
        self.window = window  # units the worker can still take
        self.max_queue = max_queue
        # Created on first use: most connections never have anything waiting.
        self._pending: deque[tuple[str | bytes, bool]] | None = None
        self.pending_size = 0  # units waiting in _pending
        self._acc: list[str | bytes] = []  # pieces of the current message not yet emitted
        self.complete_units = 0  # units of every complete message received
        self.credited = 0  # units the worker has granted back (consumed)

    @property
    def blocked(self) -> bool:
        """The worker can take nothing more: stop reading the client."""
        return self.window <= 0 or bool(self._pending)

    @property
    def has_pending(self) -> bool:
        """Pieces wait in the inbound queue for window."""
        return bool(self._pending)

    @property
    def overflowed(self) -> bool:
        return self.pending_size > self.max_queue

    def push(self, piece: str | bytes, more: bool) -> None:
        """One decoded piece of a client message (``more``: not its last)."""
        acc = self._acc
        if more:
            acc.append(piece)
            return
        if acc:
            acc.append(piece)
            piece = "".join(acc) if isinstance(piece, str) else b"".join(acc)  # type: ignore[arg-type]
            acc.clear()
        self.complete_units += len(piece)
        self._emit(piece, False)

    def flush(self) -> None:
        """End of one read: forward the started message's pieces received so far."""
        acc = self._acc
        if acc:
            piece = acc[0] if len(acc) == 1 else acc[0][:0].join(acc)  # type: ignore[arg-type]
            acc.clear()
            self._emit(piece, True)

    def _emit(self, piece: str | bytes, more: bool) -> None:
        n = len(piece)
        if not self._pending:
            window = self.window
            if n <= window:
                self.window = window - n
                self._send(piece, more)
                return
            if window > 0:
                self.window = 0
                self._send(piece[:window], True)
                piece = piece[window:]
                n -= window
        if self._pending is None:
            self._pending = deque()
        self._pending.append((piece, more))
        self.pending_size += n

    def credit(self, nbytes: int) -> None:
        """The worker granted ``nbytes`` more window: forward what waits."""
        self.credited += nbytes
        self.window += nbytes
        self._forward_pending()

    def hold(self) -> None:
        """The scope is moving to another worker: forward nothing until
        :meth:`rebase` (the stream ignores the old scope's credit meanwhile).
        What the client sends waits in the queue, and the input pauses, as
        when the window is used up. (-1, not 0: an empty message waits too.)"""
        self.window = -1

    def rebase(self, window: int) -> None:
        """The scope now lives on another worker, which grants ``window``:
        count from there, and forward what waits (in order)."""
        complete = 0
        waiting = 0
        for piece, more in self._pending or ():
            waiting += len(piece)
            if not more:
                complete = waiting
        self.complete_units = complete
        self.credited = 0
        self.window = window
        self._forward_pending()

    def _forward_pending(self) -> None:
        pending = self._pending
        if pending is None:
            return
        while pending and (self.window > 0 or not pending[0][0]):
            piece, more = pending[0]
            n = len(piece)
            if n <= self.window:
                pending.popleft()
                self.pending_size -= n
                self.window -= n
                self._send(piece, more)
            else:
                window = self.window
                self.window = 0
                pending[0] = (piece[window:], more)
                self.pending_size -= window
                self._send(piece[:window], True)

    def drop_partial(self) -> None:
        """Forget the pieces of an unfinished message not yet forwarded."""
        self._acc.clear()
        pending = self._pending
        while pending and pending[-1][1]:
            piece, _more = pending.pop()
            self.pending_size -= len(piece)

    @property
    def all_consumed(self) -> bool:
        """Every complete message received has been forwarded and consumed."""
        return not self._pending and self.credited >= self.complete_units

    def clear(self) -> None:
        self._acc.clear()
        self._pending = None
        self.pending_size = 0
