"""One HTTP/2 request stream as one ``http`` or ``sse`` scope on a worker.

:class:`H2Stream` is the :class:`~..link_scope.ScopeHandler` of its scope. It
opens the scope (or answers 503/413/501 itself), forwards the request body
within the worker's request window, and queues the response in a
:class:`~.output.StreamOutput` that its connection flushes within the HTTP/2
windows. Invariants:

* Request DATA is acknowledged to h2 (reopening the client's window) only as
  it is forwarded to the worker (or dropped once nobody will read it), so a
  client can never have more than the stream window buffered here.
* The last ``HTTP_REQUEST`` has ``more=False``; a request whose HEADERS ended
  the stream opens with body mode NONE and sends none.
* Once :attr:`done` (final frame sent, or the stream reset) the connection
  forgets the stream; the scope is told ``CLOSE`` unless its response was
  complete.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from h2.errors import ErrorCodes
from pagi.protocol import BodyMode, Outcome, reasons

from ..access_log import log_access, short_target
from ..context import FrontContext
from ..link.worker_link import WorkerLink
from .core import H2Core
from .heads import response_headers, server_answer, trailer_headers
from .output import StreamOutput
from .request import RequestFacts

logger = logging.getLogger("pagi.front")

_RETRY_AFTER = ((b"retry-after", b"1"),)
_NO_BODY_STATUS = frozenset({204, 304})


class StreamHost(Protocol):
    """What a stream needs from its HTTP/2 connection."""

    ctx: FrontContext
    core: H2Core
    peer: str
    client: list[object] | None
    server: list[object] | None
    secure: bool
    scope_extras: dict[str, object]

    def wake(self, stream: H2Stream) -> None:
        """The stream has output (or finished): flush it soon."""


class H2Stream:
    """Request stream ``sid`` of an HTTP/2 connection."""

    __slots__ = (
        "_continue",
        "_host",
        "_in",
        "_in_ended",
        "_keepalive",
        "_req_done",
        "_scope",
        "_started_at",
        "_waiter",
        "_window",
        "done",
        "ended",
        "facts",
        "link",
        "out",
        "sid",
        "status",
        "worker",
    )

    def __init__(self, host: StreamHost, sid: int, facts: RequestFacts, ended: bool) -> None:
        self._host = host
        self.sid = sid
        self.facts = facts
        self._started_at = asyncio.get_running_loop().time()
        self._in = bytearray()
        self._in_ended = ended  # the client's END_STREAM has arrived
        self._req_done = ended  # the worker has had the final HTTP_REQUEST (or none is due)
        self._window = 0  # request bytes the worker will take
        self.link: WorkerLink | None = None
        self._scope = 0  # scope id on the link; 0 while not open or after CLOSE
        self._waiter: asyncio.Task[None] | None = None
        self._keepalive: asyncio.TimerHandle | None = None
        self._continue = False  # the client waits for 100 (Continue) before its body
        self.out = StreamOutput(sid, no_body=facts.method == "HEAD")
        self.done = False
        self.ended = False  # the worker's END (or its loss) has arrived
        self.status = 0
        self.worker = "-"

    # --- opening ----------------------------------------------------------------------

    def start(self) -> None:
        facts = self._host.ctx.config
        if self.facts.method == "CONNECT":
            self.answer(501, "CONNECT is not supported here")
        elif (
            self.facts.content_length is not None
            and self.facts.content_length > facts.max_body_size
        ):
            self.answer(413, f"request body larger than {facts.max_body_size} bytes")
        elif self._host.ctx.shutting_down:
            self.answer(503, "the server is shutting down", _RETRY_AFTER)
        else:
            link = self._host.ctx.pool.pick()
            if link is None:
                self._waiter = asyncio.get_running_loop().create_task(self._wait())
            else:
                self._open(link)

    async def _wait(self) -> None:
        timeout = self._host.ctx.config.worker_wait_timeout
        link = await self._host.ctx.pool.wait(timeout)
        self._waiter = None
        if self.done:
            return
        if link is None:
            logger.warning(
                "503: no worker ready within %gs for %s %s from %s (HTTP/2)",
                timeout,
                self.facts.method,
                short_target(self.facts.target),
                self._host.peer,
            )
            self.answer(503, "no worker is available", _RETRY_AFTER)
        else:
            self._open(link)

    def _open(self, link: WorkerLink) -> None:
        host = self._host
        facts = self.facts
        self.link = link
        self.worker = link.name
        mode = BodyMode.NONE if self._req_done else BodyMode.STREAM
        if mode == BodyMode.STREAM and facts.expect_continue:
            mode = BodyMode.EXPECT_CONTINUE  # the worker's first CREDIT means "send 100"
            self._continue = True
        self._window = 0 if self._continue else link.request_window
        self._scope = link.open_scope(
            self,
            "sse" if facts.wants_event_stream else "http",
            "2",
            facts.method,
            "https" if host.secure else "http",
            facts.raw_path,
            facts.query_string,
            facts.headers,
            host.client,
            host.server,
            host.scope_extras,
            mode,
        )
        self._forward()

    # --- request body ---------------------------------------------------------------

    def on_data(self, data: bytes, flow_length: int) -> None:
        core = self._host.core
        if flow_length > len(data):
            core.consumed(self.sid, flow_length - len(data))  # padding
        if self.done or (self.link is not None and not self._scope) or self._req_done:
            core.consumed(self.sid, len(data))  # nobody will read it
            return
        self._in += data
        self._forward()

    def on_request_end(self) -> None:
        self._in_ended = True
        if not self._req_done:
            self._forward()
        self._check_done()

    def on_request_credit(self, nbytes: int) -> None:
        self._window += nbytes
        if self._continue:
            self._continue = False
            if not self.out.head_sent and not self.done:
                self._host.core.conn.send_headers(self.sid, [(b":status", b"100")])
                self._host.wake(self)
        self._forward()

    def _forward(self) -> None:
        link = self.link
        if link is None or not self._scope or self._req_done:
            return
        buffered = self._in
        if buffered and self._window > 0:
            n = min(len(buffered), self._window)
            piece = bytes(buffered[:n])
            del buffered[:n]
            self._window -= n
            last = self._in_ended and not buffered
            link.send_request_body(self._scope, piece, not last)
            self._host.core.consumed(self.sid, n)
            self._req_done = last
            self._host.wake(self)
        elif self._in_ended and not buffered:
            link.send_request_body(self._scope, b"", False)
            self._req_done = True

    # --- the response, from the worker ------------------------------------------------

    def on_response_start(self, status: int, headers: list[list[bytes]], trailers: bool) -> None:
        self.status = status
        if status in _NO_BODY_STATUS:
            self.out.no_body = True
        config = self._host.ctx.config
        self.out.start(response_headers(status, headers, config.server_header), trailers)

    def on_response_body(self, body: bytes, more: bool) -> None:
        self._grant(self.out.body(body, more))
        if not more:
            self._stop_keepalive()
        self._host.wake(self)

    def on_response(
        self, status: int, headers: list[list[bytes]], trailers: bool, body: bytes, more: bool
    ) -> None:
        self.on_response_start(status, headers, trailers)
        self.on_response_body(body, more)

    def on_response_file(self, fd: int, offset: int, length: int | None) -> None:
        self.out.file(fd, offset, length)
        self._stop_keepalive()
        self._host.wake(self)

    def on_response_trailers(self, headers: list[list[bytes]]) -> None:
        self.out.trailers(trailer_headers(headers))
        self._host.wake(self)

    def on_sse_keepalive(self, interval: float, comment: str) -> None:
        self._stop_keepalive()
        if interval > 0 and not self.done:
            line = b":" + comment.encode("utf-8") + b"\n\n"
            loop = asyncio.get_running_loop()
            self._keepalive = loop.call_later(interval, self._keepalive_fire, interval, line)

    def _keepalive_fire(self, interval: float, line: bytes) -> None:
        self._keepalive = None
        if self.done or self.out.complete:
            return
        if not self.out.pending:  # idle: nothing waits for the client
            self.out.body(line, True, credited=False)
            self._host.wake(self)
        self._keepalive = asyncio.get_running_loop().call_later(
            interval, self._keepalive_fire, interval, line
        )

    def _stop_keepalive(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
            self._keepalive = None

    def on_end(self, outcome: int, response_started: bool, detail: str) -> None:
        self.ended = True
        if self.done:
            return
        if not self.out.started:
            what = "the app returned without sending a response"
            if outcome == Outcome.RAISED:
                what = f"the app raised: {detail}" if detail else "the app raised"
            logger.error(
                "500: %s (worker %s, %s %s from %s, HTTP/2)",
                what,
                self.worker,
                self.facts.method,
                short_target(self.facts.target),
                self._host.peer,
            )
            self.answer(500, "")
        elif not self._final_known():
            logger.warning(
                "resetting the HTTP/2 stream of %s %s from %s: the app ended before finishing "
                "its response (worker %s)",
                self.facts.method,
                short_target(self.facts.target),
                self._host.peer,
                self.worker,
            )
            self.reset(ErrorCodes.INTERNAL_ERROR)
        else:
            self._check_done()

    def _final_known(self) -> bool:
        out = self.out
        return out._final and (not out.expect_trailers or out._trailers is not None)

    def on_worker_lost(self) -> None:
        self.ended = True
        self._scope = 0
        if self.done:
            return
        if not self.out.started:
            logger.error("502: worker %s lost during %s", self.worker, self.facts.method)
            self.answer(502, "the worker handling the request went away")
        elif not self._final_known():
            self.reset(ErrorCodes.INTERNAL_ERROR)

    def _grant(self, nbytes: int) -> None:
        if nbytes and self.link is not None and self._scope:
            self.link.grant(self._scope, nbytes)

    # --- flushing and ending ----------------------------------------------------------

    def flush(self, window: int) -> None:
        """Called by the connection: hand h2 what ``window`` allows."""
        if self.done:
            return
        conn = self._host.core.conn
        try:
            granted = self.out.flush(conn, window, conn.max_outbound_frame_size)
        except OSError as exc:
            logger.error("reading the response file failed: %s", exc)
            self.reset(ErrorCodes.INTERNAL_ERROR)
            return
        self._grant(granted)
        self._check_done()

    def _check_done(self) -> None:
        if self.done or not self.out.complete:
            return
        if not self._in_ended:
            if not (self.ended or not self._scope) and not self._req_done:
                return  # the app may still read the request body
            # RFC 9113 section 8.1: a complete response ends the request too.
            self._host.core.conn.reset_stream(self.sid, ErrorCodes.NO_ERROR)
        self._finish()

    def answer(
        self, status: int, message: str, extra: tuple[tuple[bytes, bytes], ...] = ()
    ) -> None:
        """A response of the front's own (the app is not involved or failed)."""
        self.status = status
        head, body = server_answer(status, message, self._host.ctx.config.server_header, extra)
        self.out.close()
        self.out = StreamOutput(self.sid, no_body=self.facts.method == "HEAD")
        self.out.start(head, False)
        self.out.body(body, False, credited=False)
        if self._scope and self.link is not None and not self.ended:
            self.link.close_scope(self._scope, reasons.SERVER_ERROR)
            self._scope = 0
        self._host.wake(self)

    def reset(self, code: int, reason: str = reasons.CLIENT_CLOSED) -> None:
        """Reset the stream from our side (``code`` -1: the client reset it)."""
        if self.done:
            return
        conn = self._host.core.conn
        if code >= 0:
            try:
                conn.reset_stream(self.sid, code)
            except Exception:  # the stream is already closed in h2
                pass
        self._finish(reason)

    def client_reset(self) -> None:
        self.reset(-1)

    def _finish(self, reason: str = reasons.CLIENT_CLOSED) -> None:
        self.done = True
        self._stop_keepalive()
        self.out.close()
        if self._waiter is not None:
            self._waiter.cancel()
            self._waiter = None
        if self._scope and self.link is not None and not self.ended and not self.out.complete:
            self.link.close_scope(self._scope, reason)
        self._scope = 0
        if self._in:
            self._host.core.consumed(self.sid, len(self._in))
            self._in.clear()
        log_access(
            self._host.peer,
            self.facts.method,
            self.facts.target,
            "2",
            self.status,
            self.out.sent,
            asyncio.get_running_loop().time() - self._started_at,
            self.worker,
        )
        self._host.wake(self)
