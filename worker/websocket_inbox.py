"""What the front sent a websocket scope that the app has not taken yet, and the credit it owes.

An :class:`Inbox` belongs to one :class:`~.websocket_scope.WebSocketScope`,
which passes itself to the calls that act on it (the inbox holds no reference
back: the scope would otherwise be a reference cycle per connection, left to
the garbage collector).
It is the queue of complete messages (each with the window it has not
credited back yet), the message being assembled from WS_RECEIVE pieces and
the credit owed to the front. The scope's ``receive()`` pops it; its
``on_ws_event`` hands it the pieces (:meth:`Inbox.take`). Invariants:

* the front may send at most ``_recv_allowed`` (the scope's) more code
  points/bytes of message data (HELLO window, then every CREDIT); more is a
  link violation, as is WS_RECEIVE before the app accepted, or pieces of one
  message mixing text and binary;
* a message's pieces become *owed* credit when the app *takes* them: a
  complete message when ``receive()`` returns it; pieces of an incomplete
  message as soon as the app is waiting in ``receive()`` with nothing complete
  queued ahead of it (otherwise a message larger than the window could never
  complete). So the worker holds at most one window of data the app has not
  asked for, plus the one message being assembled for a waiting app (bounded
  by the front's maximum message size);
* owed credit goes back in one CREDIT once it reaches ``batch`` (a quarter of
  the window), or all of it together with the pieces of a message the app is
  waiting for. No deadlock: when the app waits with nothing queued, the front
  can send all but the owed credit (less than a quarter), and what it has
  already sent either completes a message (which wakes the app) or is a piece
  of one (which returns everything owed). A stream of small messages costs one
  CREDIT per quarter window instead of one per message. After
  WS_RETURN_CREDIT (the front failing the connection waits to learn what the
  app has taken) everything owed is credited at once, and every message from
  then on as it is taken;
* after the client side is gone (WS_DISCONNECT, CLOSE, link lost, or a
  denial) complete messages already queued are delivered first, the
  incomplete one is dropped (:meth:`Inbox.drop_partial`), then
  ``websocket.disconnect`` is returned on every call.

Sizes count code points for ``str`` and bytes for ``bytes``, as the link's
flow control does (docs/worker-protocol.md).
"""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING, cast

from pagi.protocol import LinkError

from .websocket_outbox import Data

if TYPE_CHECKING:
    from .websocket_scope import WebSocketScope


class Inbox:
    """Complete messages for the app (``messages``, oldest first: ``(data,
    uncredited)``), the message being assembled and the credit owed.

    The queue is an attribute, not a base class: mypyc's compiled build
    crashes constructing a native class derived from ``collections.deque``
    (docs/performance.md, "The compiled build").
    """

    __slots__ = ("batch", "messages", "owed", "partial", "partial_uncredited")

    def __init__(self, window: int) -> None:
        self.messages: collections.deque[tuple[Data, int]] = collections.deque()
        self.batch = max(1, window // 4)  # owed credit that goes back in one CREDIT
        self.owed = 0  # taken by the app, not yet credited back
        self.partial: list[Data] | None = None  # pieces of the message being assembled
        self.partial_uncredited = 0

    def take(self, scope: WebSocketScope, data: Data, more: bool) -> None:
        """One WS_RECEIVE piece of ``scope``'s (``more``: the message goes on)."""
        if scope.gone:
            return
        if not scope._accepted:
            raise LinkError(f"scope {scope.sid}: WS_RECEIVE before the app accepted the connection")
        n = len(data)
        if n > scope._recv_allowed:
            raise LinkError(
                f"scope {scope.sid}: {n} bytes of websocket message exceed the window "
                f"({scope._recv_allowed} left)"
            )
        scope._recv_allowed -= n
        partial = self.partial
        if partial is None:
            if not more:  # a whole message in one piece: the common case
                self.messages.append((data, n))
                scope._wake_receivers()
                return
            self.partial = [data]
        else:
            if type(data) is not type(partial[0]):
                raise LinkError(f"scope {scope.sid}: a websocket message mixes text and binary")
            partial.append(data)
            if not more:
                self.partial = None
                if type(data) is str:
                    whole: Data = "".join(cast("list[str]", partial))
                else:
                    whole = b"".join(cast("list[bytes]", partial))
                uncredited = self.partial_uncredited + n
                self.partial_uncredited = 0
                self.messages.append((whole, uncredited))
                scope._wake_receivers()
                return
        if scope._recv_waiters and not self.messages:
            # The app is waiting for this very message: pull the rest.
            scope._grant(n + self.owed)
            self.owed = 0
        else:
            self.partial_uncredited += n

    def return_all(self, scope: WebSocketScope) -> None:
        """WS_RETURN_CREDIT: credit what ``scope`` owes now, and every message as it is taken."""
        self.batch = 1
        owed = self.owed
        self.owed = 0
        scope._grant(owed)

    def drop_partial(self) -> None:
        """The client side is gone: the message being assembled never completes."""
        self.partial = None
        self.partial_uncredited = 0
