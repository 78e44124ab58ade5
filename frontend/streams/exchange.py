"""One request/response of an HTTP/1.1 connection: the worker-facing half.

An :class:`Exchange` is created by :class:`~.http11.HTTP11Connection` for each
request it starts and is handed to :meth:`WorkerLink.open_scope` as the scope's
``ScopeHandler``: the link calls its ``on_*`` methods with the worker's
response events, and the exchange turns them into bytes for the client
(framing from :mod:`.responses`, file bodies from :mod:`.file_body`).

The connection owns the socket, the request queue and keep-alive; the exchange
owns the response: head (written lazily, together with the first body bytes
when they arrive in the same batch), body framing, response credit, file
streaming, trailers, and the reaction to the app's END or the worker's loss.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import TYPE_CHECKING, Any

from pagi.protocol import BodyMode, Outcome, reasons

from ..access_log import short_target
from ..http1.parser import RequestHead
from ..http1.responses import (
    CHUNKED,
    CONTINUE,
    LAST_CHUNK,
    LENGTH,
    NO_BODY,
    InvalidResponse,
    UnsafeResponse,
    build_head,
    chunk,
    last_chunk_with_trailers,
)
from .file_body import PUMP_DONE, PUMP_YIELD, FileBody, regular_file_length
from .sse import SSEKeepalive, set_keepalive

if TYPE_CHECKING:
    from ..http1.connection import HTTP11Connection

logger = logging.getLogger("pagi.front")

_NONE = BodyMode.NONE
_EXPECT = BodyMode.EXPECT_CONTINUE


class Exchange:
    """One request/response on a connection; the :class:`ScopeHandler` of its scope.

    Lifecycle flags only move forward: ``head_written`` (bytes of the response
    head reached the transport), ``app_done`` (the worker sent its last
    response message), ``finished`` (the whole response was handed to the
    transport, or it was abandoned), ``ended`` (END or worker loss: the link has
    forgotten the scope), ``close_sent`` (we sent CLOSE: the link calls nothing
    more). A finished exchange ignores further response events.
    """

    __slots__ = (
        "app_done",
        "body_bytes",
        "body_mode",
        "close_sent",
        "conn",
        "continue_sent",
        "ended",
        "file",
        "finished",
        "framing",
        "head_written",
        "headers",
        "http11",
        "http_version",
        "is_head",
        "keep_alive",
        "keepalive",
        "length",
        "link",
        "method",
        "open_args",
        "prefix",
        "request_done",
        "seq",
        "sid",
        "sse",
        "started_at",
        "status",
        "target",
        "trailer_block",
        "trailers",
        "ungranted",
        "waiter",
        "window",
        "worker",
    )

    def __init__(self, conn: HTTP11Connection, head: RequestHead, seq: int, now: float) -> None:
        self.conn = conn
        self.seq = seq  # ordinal of this request on the connection (1, 2, ...)
        self.method = head.method
        self.target = head.target
        self.http_version = head.http_version
        self.http11 = head.http_version == "1.1"
        self.is_head = head.method == "HEAD"
        self.keep_alive = head.keep_alive
        self.started_at = now
        self.worker = "-"  # name for the access log
        # request side
        self.link: Any = None  # the WorkerLink, once the scope is opened
        self.sid = 0
        self.body_mode = _NONE
        self.window = 0  # request body bytes we may still forward
        self.waiter: asyncio.Task[None] | None = None
        # (raw_path, query_string, headers, body_mode) while waiting for a worker
        self.open_args: tuple[bytes, bytes, list[tuple[bytes, bytes]], BodyMode] | None = None
        self.request_done = False  # EndOfMessage consumed from the queue
        self.continue_sent = False
        # response side
        self.status: int | None = None
        self.headers: list[list[bytes]] = []
        self.trailers = False
        self.head_written = False
        self.framing = NO_BODY
        self.length: int | None = None
        self.body_bytes = 0
        self.ungranted = 0
        self.prefix = b""  # head waiting to go out with the first file chunk
        self.file: FileBody | None = None
        self.trailer_block: bytes | None = None
        self.app_done = False
        self.finished = False
        self.ended = False
        self.close_sent = False
        # SSE: the request asked for text/event-stream (an "sse" scope); the
        # idle-comment timer the worker asked for (sse_stream.py)
        self.sse = False
        self.keepalive: SSEKeepalive | None = None

    def __repr__(self) -> str:
        return f"<Exchange #{self.seq} sid={self.sid} {self.method} status={self.status}>"

    # --- ScopeHandler: called by the WorkerLink --------------------------------

    def on_response_start(self, status: int, headers: list[list[bytes]], trailers: bool) -> None:
        if self.finished:
            return
        self.status = status
        self.headers = headers
        self.trailers = trailers
        # Coalesce the head with the first body message when it is in the same
        # batch from the link; otherwise send the head alone at the end of this
        # loop iteration so streaming clients see it promptly.
        self.conn.loop.call_soon(self._flush_head)

    def on_response(
        self, status: int, headers: list[list[bytes]], trailers: bool, body: bytes, more: bool
    ) -> None:
        if self.finished:
            return
        self.status = status
        self.headers = headers
        self.trailers = trailers
        self.on_response_body(body, more)

    def on_response_body(self, body: bytes, more: bool) -> None:
        if self.finished:
            return
        conn = self.conn
        n = len(body)
        if self.head_written:
            head = b""
        else:
            made = self._make_head(None, final=not more)
            if made is None:
                return
            head = made
        framing = self.framing
        data = b""
        if n and framing != NO_BODY:
            if framing == CHUNKED:
                data = chunk(body)
            elif framing == LENGTH:
                assert self.length is not None
                room = self.length - self.body_bytes
                if n > room:
                    logger.error(
                        "app sent more body than its content-length %d for %s %s (worker %s); "
                        "extra bytes dropped, connection will close",
                        self.length,
                        self.method,
                        short_target(self.target),
                        self.worker,
                    )
                    self.keep_alive = False
                    body = body[:room]
                data = body
            else:
                data = body
            self.body_bytes += len(data) if framing != CHUNKED else n
        if more:
            out = head + data if head else data
            if out:
                conn.write(out)
                if self.keepalive is not None:
                    self.keepalive.last_write = conn.loop.time()
            if n and not self.close_sent and not self.ended:
                if conn.write_paused:
                    self.ungranted += n
                else:
                    self.link.grant(self.sid, n)
            return
        if self.trailers:
            # The terminating chunk goes out with the trailer section.
            out = head + data if head else data
            if out:
                conn.write(out)
            return
        self.app_done = True
        tail = LAST_CHUNK if framing == CHUNKED else b""
        conn.write(b"".join((head, data, tail)) if (head or tail) else data)
        self._finish()

    def on_response_file(self, fd: int, offset: int, length: int | None) -> None:
        if self.finished:
            os.close(fd)
            return
        body = FileBody(fd, offset, None)
        self.file = body
        self.app_done = not self.trailers
        try:
            known = regular_file_length(fd, offset, length)
        except OSError as exc:
            self._file_failed(f"cannot stat the response file: {exc.strerror or exc}")
            return
        if known is None:
            self._file_failed("the response file descriptor is not a regular file")
            return
        if not self.head_written:
            made = self._make_head(known, final=True)
            if made is None:
                return
            self.prefix = made
        if self.framing == NO_BODY:
            known = 0
        elif self.framing == LENGTH:
            assert self.length is not None
            known = min(known, self.length - self.body_bytes)
        body.remaining = known
        self._pump_file()

    def on_response_trailers(self, headers: list[list[bytes]]) -> None:
        if self.finished:
            return
        self.app_done = True
        block = b""
        try:
            if self.framing == CHUNKED:
                block = last_chunk_with_trailers(headers)
        except UnsafeResponse as exc:
            logger.error("aborting %s %s: %s", self.method, short_target(self.target), exc)
            self.conn.abort_exchange(self)
            return
        self.trailer_block = block
        if self.file is None:
            self._write_trailers()

    def on_sse_keepalive(self, interval: float, comment: str) -> None:
        set_keepalive(self, interval, comment)

    def on_request_credit(self, nbytes: int) -> None:
        if self.finished or self.ended or self.close_sent:
            return
        conn = self.conn
        self.window += nbytes
        if self.body_mode == _EXPECT and not self.continue_sent:
            self.continue_sent = True
            # "100 Continue" only if nothing final went out and the client is
            # still waiting for it (it has not started sending the body).
            if not self.head_written and conn.awaiting_body(self):
                conn.write(CONTINUE)
        conn.process()

    def on_end(self, outcome: int, response_started: bool, detail: str) -> None:
        self.ended = True
        if self.finished:
            return
        conn = self.conn
        if not self.head_written:
            if self.file is not None:
                self.file.close()
                self.file = None
            if outcome == Outcome.RAISED:
                what = f"the app raised: {detail}" if detail else "the app raised"
            else:
                what = "the app returned without sending a response"
            logger.error(
                "500: %s (worker %s, %s %s from %s)",
                what,
                self.worker,
                self.method,
                short_target(self.target),
                conn.peer,
            )
            conn.server_reply(self, 500, "", worker=self.worker)
        elif not self.app_done:
            how = f"raised ({detail})" if outcome == Outcome.RAISED else "returned"
            logger.warning(
                "aborting the response to %s %s from %s: the app %s before finishing it "
                "(worker %s)",
                self.method,
                short_target(self.target),
                conn.peer,
                how,
                self.worker,
            )
            conn.abort_exchange(self)
        # else the response is complete or its file is still being written.

    def on_worker_lost(self) -> None:
        self.ended = True
        if self.finished:
            return
        conn = self.conn
        if not self.head_written:
            if self.file is not None:
                self.file.close()
                self.file = None
            logger.error(
                "502: worker %s went away during %s %s from %s",
                self.worker,
                self.method,
                short_target(self.target),
                conn.peer,
            )
            conn.server_reply(
                self, 502, "the worker serving this request went away", worker=self.worker
            )
        elif not self.app_done:
            logger.warning(
                "aborting the response to %s %s from %s: worker %s went away mid-response",
                self.method,
                short_target(self.target),
                conn.peer,
                self.worker,
            )
            conn.abort_exchange(self)

    # --- internals -------------------------------------------------------------

    def _make_head(self, known_length: int | None, final: bool) -> bytes | None:
        """The response head with framing decided; None if the app's head is
        unusable (a 500 was sent instead)."""
        conn = self.conn
        keep = self.keep_alive and not conn.shutting_down
        if keep and final and not conn.request_parsed(self):
            keep = False  # the body will not be read: announce the close
        assert self.status is not None
        try:
            head, framing, length, keep = build_head(
                self.status,
                self.headers,
                http11=self.http11,
                keep_alive=keep,
                is_head=self.is_head,
                known_length=known_length,
                trailers=self.trailers,
                server_header=conn.config.server_header,
            )
        except InvalidResponse as exc:
            logger.error(
                "%d: %s (worker %s, %s %s from %s)",
                exc.status,
                exc,
                self.worker,
                self.method,
                short_target(self.target),
                conn.peer,
            )
            if self.file is not None:
                self.file.close()
                self.file = None
            conn.detach(self, reasons.SERVER_ERROR)
            conn.server_reply(self, exc.status, "", worker=self.worker)
            return None
        self.head_written = True
        self.framing = framing
        self.length = length
        self.keep_alive = keep
        return head

    def _flush_head(self) -> None:
        if self.head_written or self.finished or self.status is None:
            return
        head = self._make_head(None, final=False)
        if head is not None:
            self.conn.write(head)

    def _file_failed(self, message: str) -> None:
        conn = self.conn
        if self.file is not None:
            self.file.close()
            self.file = None
        if not self.head_written:
            logger.error(
                "500: %s (worker %s, %s %s from %s)",
                message,
                self.worker,
                self.method,
                short_target(self.target),
                conn.peer,
            )
            conn.server_reply(self, 500, "", worker=self.worker)
        else:
            logger.error(
                "aborting the response to %s %s from %s: %s (worker %s)",
                self.method,
                short_target(self.target),
                conn.peer,
                message,
                self.worker,
            )
            conn.abort_exchange(self)

    def _write_file_chunk(self, data: bytes) -> None:
        self.body_bytes += len(data)
        if self.framing == CHUNKED:
            data = chunk(data)
        prefix = self.prefix
        if prefix:
            self.prefix = b""
            data = prefix + data
        self.conn.write(data)

    def _pump_file(self) -> None:
        body = self.file
        if body is None or self.finished:
            return
        conn = self.conn
        if conn.closing:
            return
        try:
            result = body.pump(self._write_file_chunk, conn.is_write_paused)
        except OSError as exc:
            self._file_failed(f"reading the response file failed: {exc.strerror or exc}")
            return
        if result == PUMP_YIELD:
            conn.loop.call_soon(self._pump_file)
            return
        if result != PUMP_DONE:
            return  # blocked: resume_writing pumps again
        body.close()  # a file that shrank since fstat is caught by _finish's length check
        self.file = None
        tail = self.prefix
        self.prefix = b""
        if self.trailers:
            if tail:
                conn.write(tail)
            if self.trailer_block is not None:
                self._write_trailers()
            return
        if self.framing == CHUNKED:
            tail += LAST_CHUNK
        if tail:
            conn.write(tail)
        self._finish()

    def _write_trailers(self) -> None:
        block = self.trailer_block
        if block:
            self.conn.write(block)
        self._finish()

    def on_writable(self) -> None:
        """The transport drained below its low-water mark."""
        if self.ungranted and not self.finished and not self.ended and not self.close_sent:
            self.link.grant(self.sid, self.ungranted)
        self.ungranted = 0
        if self.file is not None:
            self._pump_file()

    def _finish(self) -> None:
        if self.framing == LENGTH and self.length is not None and self.body_bytes < self.length:
            logger.error(
                "the response to %s %s from %s ended after %d of its %d bytes of "
                "content-length (worker %s); closing the connection",
                self.method,
                short_target(self.target),
                self.conn.peer,
                self.body_bytes,
                self.length,
                self.worker,
            )
            self.keep_alive = False
        if self.keepalive is not None:
            self.keepalive.stop()
        self.conn.response_done(self)
