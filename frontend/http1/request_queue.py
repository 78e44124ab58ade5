"""Parsed request events waiting for their turn on one HTTP/1.1 connection.

The connection serves one request at a time; whatever the parser produces
beyond what the current request may forward (body past its window, pipelined
requests) waits here. The queue also remembers where the *parser* is (inside
which request, how much of its body it has seen), which the connection needs
to decide keep-alive, ``100 Continue`` and where an error belongs.

Pure (no I/O), so it is unit-tested alone.

Invariants:

* Items are, per request in order: one :class:`RequestHead`, its non-empty
  :class:`Body` chunks, one :class:`EndOfMessage`; a :class:`ParseError` may
  end the queue (the parser is then finished).
* ``body_bytes`` and ``heads`` count exactly the Body bytes and heads queued.
* ``parse_seq`` numbers request heads as parsed (1, 2, ...); the connection
  numbers requests as it starts them, in the same order, so a request's
  number identifies it on both sides.
* A request whose declared or received body exceeds ``max_body_size`` is
  never queued whole: :meth:`accept` returns a 413 error at that point.
"""

from __future__ import annotations

from collections import deque

from .parser import Body, EndOfMessage, ParseError, ParserEvent, RequestHead

#: Queued body bytes above which the connection stops reading.
MAX_PENDING_BODY = 64 * 1024
#: Queued requests above which the connection stops reading.
MAX_PENDING_REQUESTS = 32

QueueItem = RequestHead | Body | EndOfMessage | ParseError


class RequestQueue:
    __slots__ = (
        "body_bytes",
        "heads",
        "in_message",
        "items",
        "max_body_size",
        "parse_body",
        "parse_seq",
    )

    def __init__(self, max_body_size: int) -> None:
        self.items: deque[QueueItem] = deque()
        self.body_bytes = 0  # Body bytes in items
        self.heads = 0  # RequestHeads in items
        self.max_body_size = max_body_size
        self.parse_seq = 0  # request heads parsed so far
        self.in_message = False  # the parser is between a head and its end
        self.parse_body = 0  # body bytes parsed for request ``parse_seq``

    def __len__(self) -> int:
        return len(self.items)

    @property
    def over_limit(self) -> bool:
        """Enough is queued: the connection should stop reading."""
        return self.body_bytes > MAX_PENDING_BODY or self.heads > MAX_PENDING_REQUESTS

    def parsing(self, seq: int) -> bool:
        """The parser is still inside request ``seq`` (its end has not arrived)."""
        return self.in_message and self.parse_seq == seq

    def accept(self, events: list[ParserEvent]) -> ParseError | None:
        """Queue parser events in order.

        Returns a 413 :class:`ParseError` (and queues nothing after that point)
        when a request's content-length or its received body exceeds
        ``max_body_size``; the caller decides where that error belongs (see
        :meth:`parsing`). A request refused by its content-length is not
        queued at all and leaves ``in_message`` false.
        """
        items = self.items
        limit = self.max_body_size
        for ev in events:
            kind = type(ev)
            if kind is Body:
                data: bytes = ev.data  # type: ignore[union-attr]
                if not data:
                    continue
                self.parse_body += len(data)
                if self.parse_body > limit:
                    return ParseError(413, f"request body larger than {limit} bytes")
                items.append(ev)  # type: ignore[arg-type]
                self.body_bytes += len(data)
            elif kind is RequestHead:
                head: RequestHead = ev  # type: ignore[assignment]
                self.parse_seq += 1
                self.parse_body = 0
                if head.content_length is not None and head.content_length > limit:
                    self.in_message = False
                    return ParseError(
                        413,
                        f"request body of {head.content_length} bytes is larger than {limit}",
                    )
                self.in_message = True
                items.append(head)
                self.heads += 1
            else:
                self.in_message = False
                items.append(ev)  # type: ignore[arg-type]
        return None

    def drop_partial(self) -> None:
        """Forget the request being parsed (its end will never come), if queued."""
        if not self.in_message:
            return
        items = self.items
        while items:
            ev = items.pop()
            kind = type(ev)
            if kind is Body:
                self.body_bytes -= len(ev.data)  # type: ignore[union-attr]
            elif kind is RequestHead:
                self.heads -= 1
                break
        self.in_message = False

    def push_error(self, exc: ParseError) -> None:
        self.items.append(exc)

    def next_request(self) -> RequestHead | ParseError | None:
        """Pop the next request head (or the error standing in its place)."""
        items = self.items
        if not items:
            return None
        ev = items.popleft()
        if type(ev) is RequestHead:
            self.heads -= 1
            return ev
        if isinstance(ev, ParseError):
            return ev
        raise AssertionError(f"{ev!r} queued where a request head belongs")

    def take_body(self, room: int) -> tuple[bytes, bool] | None:
        """Take up to ``room`` body bytes of the current request (and its end).

        Returns ``(body, more)`` with ``more`` false when the request's end was
        taken too (``body`` may then be empty), or ``None`` when nothing can be
        taken (no data queued, or no room and the end not next). Chunks are
        split to fit; consecutive chunks are joined.
        """
        items = self.items
        if items and type(items[0]) is EndOfMessage:  # the common case: no body
            items.popleft()
            return b"", False
        parts: list[bytes] = []
        total = 0
        more = True
        while items:
            ev = items[0]
            if type(ev) is EndOfMessage:
                items.popleft()
                more = False
                break
            if total >= room:
                break
            data: bytes = ev.data  # type: ignore[union-attr]
            take = room - total
            if len(data) <= take:
                items.popleft()
                parts.append(data)
                total += len(data)
            else:
                parts.append(data[:take])
                ev.data = data[take:]  # type: ignore[union-attr]
                total += take
                break
        if not total and more:
            return None
        self.body_bytes -= total
        if len(parts) == 1:
            return parts[0], more
        return b"".join(parts), more

    def discard_body(self) -> bool:
        """Drop the current request's queued body; True once its end was dropped."""
        items = self.items
        while items:
            ev = items[0]
            kind = type(ev)
            if kind is Body:
                items.popleft()
                self.body_bytes -= len(ev.data)  # type: ignore[union-attr]
            elif kind is EndOfMessage:
                items.popleft()
                return True
            else:
                raise AssertionError(f"{ev!r} queued inside a request body")
        return False

    def clear(self) -> None:
        self.items.clear()
        self.body_bytes = 0
        self.heads = 0
