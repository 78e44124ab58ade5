"""One ``http`` or ``sse`` scope, from the request head to the last response byte.

An :class:`HTTPStream` is created by the protocol connection for each request
and is the link's handler for its scope (:class:`~..link.handlers.HTTPScopeHandler`).
It owns the scope's whole life against the worker link: opening (through
:func:`~.opening.open_scope`), the request body within the request window,
the response events, response credit, file bodies, trailers, SSE keepalive,
END, the loss of the worker or of the client, shutdown, and the access-log
line. It does not know the HTTP version: bytes go out through its
:class:`~.interfaces.HTTPWriter`. This class holds the hot path (request
body, response events, credit) and the state; the abnormal ends are decided
in :mod:`.http_ending`, the access line is built by
:func:`~.access_record.log_http`, and an SSE resumption is run by
:class:`~.resume.SSEResume` — all through the methods here.

State (each written only here):

* ``phase`` — see :mod:`.http_phase`; it only moves forward.
* ``link`` — the worker link while the scope is live there: set by OPEN,
  cleared by END, by the worker's loss and by our CLOSE. Nothing is sent to
  the worker for this scope while it is None.
* ``request_done`` — the request body was read to its end (or discarded).
* ``window`` — request body bytes the worker will still take; debited by
  :meth:`send_body`, credited by :meth:`on_request_credit`.
* ``resume`` — an ``sse`` stream's :class:`~.resume.SSEResume` (``--sse-resume``):
  it may re-open the scope on another worker when this one drains or dies
  (:meth:`reopen`); the response goes on unchanged (docs/resume.md).
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Any

from pagi.protocol import BodyMode, reasons
from pagi.protocol.kinds import BODY_EXPECT_CONTINUE, BODY_NONE

from ..access_log import short_target
from ..forwarded import scope_addresses
from . import http_ending
from .access_record import log_http
from .file_response import FileResponse
from .http_phase import APP_DONE, DONE, OPENED, SENDING, STARTED, WAITING
from .opening import open_scope
from .resume import SSEResume, with_extension, with_groups
from .sse import SSEKeepalive

if TYPE_CHECKING:
    from ..link.handle import Headers as RequestHeaders
    from ..link.handle import LinkHandle
    from .interfaces import ExtraHeaders, Headers, HTTPWriter, StreamHost

_NO_HEADERS: Headers = []


class HTTPStream:
    """One request/response; the scope handler of its ``http``/``sse`` scope."""

    __slots__ = (
        "_pending",
        "body_bytes",
        "body_mode",
        "conn",
        "file",
        "headers",
        "http_version",
        "keepalive",
        "link",
        "method",
        "phase",
        "request_done",
        "resume",
        "sid",
        "sse",
        "started_at",
        "status",
        "target",
        "trailers",
        "ungranted",
        "waiter",
        "window",
        "worker",
        "writer",
    )

    def __init__(
        self,
        conn: StreamHost,
        writer: HTTPWriter,
        method: str,
        target: bytes,
        http_version: str,
        sse: bool,
        now: float,
    ) -> None:
        self.conn = conn
        self.writer = writer
        self.method = method
        self.target = target
        self.http_version = http_version
        self.sse = sse  # the request asked for text/event-stream: an "sse" scope
        self.started_at = now
        self.phase = WAITING
        self.worker = "-"  # name for the access log
        # request side
        self.link: LinkHandle | None = None
        self.sid = 0
        self.body_mode: int = BODY_NONE
        self.window = 0
        self.request_done = False
        self.waiter: asyncio.Task[None] | None = None
        self._pending: tuple[bytes, bytes, RequestHeaders, BodyMode] | None = None
        # response side
        self.status = 0
        self.headers = _NO_HEADERS
        self.trailers = False
        self.body_bytes = 0
        self.ungranted = 0  # response bytes written while paused, not yet credited
        self.file: FileResponse | None = None
        self.keepalive: SSEKeepalive | None = None
        self.resume: SSEResume | None = None

    @property
    def done(self) -> bool:
        """The response was handed over completely, or abandoned."""
        return self.phase == DONE

    @property
    def streaming(self) -> bool:
        """The response head went out and the app has not finished the body."""
        return self.phase == SENDING

    def write_comment(self, payload: bytes) -> bool:
        """Add bytes the app did not send (an SSE comment) to a streaming body,
        unless the client is backed up. False: the body has no room for them."""
        writer = self.writer
        if self.phase >= SENDING and not writer.blocked():
            if not writer.open_ended():
                return False
            self.body_bytes += writer.data(payload, False)
        return True

    def __repr__(self) -> str:
        return f"<HTTPStream sid={self.sid} {self.method} phase={self.phase} status={self.status}>"

    # --- opening ---------------------------------------------------------------

    def start(self, raw_path: bytes, query: bytes, headers: RequestHeaders, mode: BodyMode) -> None:
        """Open the scope now, or once a worker is ready."""
        self._pending = (raw_path, query, headers, mode)
        if self.sse and self.conn.ctx.config.sse_resume:
            self.resume = SSEResume(self, raw_path, query, headers, mode)
        open_scope(self)

    def waiting(self) -> bool:
        return self.phase == WAITING

    def label(self) -> str:
        return f"{self.method} {short_target(self.target)}"

    def open(self, link: LinkHandle) -> None:
        pending = self._pending
        assert pending is not None
        self._pending = None
        raw_path, query, headers, mode = pending
        self.phase = OPENED
        extras = self.conn.scope_extras
        if self.resume is not None:
            extras = with_extension(extras, self.resume.extension(None))
        self._open_on(link, raw_path, query, headers, extras, mode)

    def reopen(
        self,
        link: LinkHandle,
        target: tuple[bytes, bytes],
        headers: RequestHeaders,
        ext: dict[str, Any],
        body: bytes,
        groups: list[str],
    ) -> None:
        """OPEN the scope again on ``link`` for the response under way
        (:class:`~.resume.SSEResume`; the old scope is closed already)."""
        self.ungranted = 0  # owed to the old scope
        mode = BodyMode.STREAM if body else BodyMode.NONE
        raw_path, query = target
        extras = with_groups(with_extension(self.conn.scope_extras, ext), groups)
        self._open_on(link, raw_path, query, headers, extras, mode)
        if body:
            self.window -= len(body)
            link.send_request_body(self.sid, body, False)

    def end_moved(self, why: str) -> None:
        """A resumption failed: cut the stream as a worker's death does."""
        http_ending.cut(self, why)

    def _open_on(
        self,
        link: LinkHandle,
        raw_path: bytes,
        query: bytes,
        headers: RequestHeaders,
        extras: dict[str, Any],
        mode: BodyMode,
    ) -> None:
        self.link = link
        self.worker = link.name
        self.body_mode = mode
        self.window = 0 if mode == BODY_EXPECT_CONTINUE else link.request_window
        conn = self.conn
        client, scheme, server = scope_addresses(  # --proxy-headers (forwarded.py)
            conn.ctx.trusted_proxies, conn.client, conn.scheme, conn.server, headers, False
        )
        self.sid = link.open_http(
            self,
            (
                "sse" if self.sse else "http",
                self.http_version,
                self.method,
                scheme,
                raw_path,
                query,
                headers,
                client,
                server,
                extras,
                mode,
            ),
        )
        if self.resume is not None:
            self.resume.origin = (link, self.sid)

    def opened_late(self) -> None:
        self.writer.resume_input()

    def abort_wait(self) -> None:
        self.writer.abort()

    # --- the request body ------------------------------------------------------------

    def send_body(self, body: bytes, more: bool) -> None:
        """Forward a request body piece (the protocol keeps within ``window``)."""
        if not more:
            self.request_done = True
            if not body and self.body_mode == BODY_NONE:
                return
        self.window -= len(body)
        if self.resume is not None:
            self.resume.record_body(body)
        link = self.link
        if link is not None:
            link.send_request_body(self.sid, body, more)

    def skip_body(self, complete: bool) -> None:
        """The protocol discarded the rest of the request body nobody will read
        (``complete``: up to its end)."""
        self.request_done = complete

    def on_request_credit(self, nbytes: int) -> None:
        if self.phase == DONE or self.link is None:
            return
        self.window += nbytes
        if self.body_mode == BODY_EXPECT_CONTINUE:
            self.body_mode = BodyMode.STREAM
            # "100 Continue" only before any final response
            if self.phase < SENDING:
                self.writer.send_continue()
        self.writer.resume_input()

    # --- the response --------------------------------------------------------------

    def on_response_start(self, status: int, headers: Headers, trailers: bool) -> None:
        if self.phase == DONE:
            return
        if self.resume is not None and self.resume.swallow_start(status, headers):
            return
        self.status, self.headers, self.trailers = status, headers, trailers
        self.phase = STARTED
        # Coalesce the head with the first body message when it is in the same
        # batch from the link; otherwise send the head alone at the end of this
        # loop iteration so streaming clients see it promptly.
        self.conn.loop.call_soon(self._flush_head)

    def on_response(
        self, status: int, headers: Headers, trailers: bool, body: bytes, more: bool
    ) -> None:
        if self.phase == DONE:
            return
        if self.resume is None or not self.resume.swallow_start(status, headers):
            self.status, self.headers, self.trailers = status, headers, trailers
            self.phase = STARTED
        self.on_response_body(body, more)

    def on_response_body(self, body: bytes, more: bool) -> None:
        phase = self.phase
        if phase == DONE:
            return
        if phase == STARTED and not self._respond(None, not more):
            return
        writer = self.writer
        if more:
            self.body_bytes += writer.data(body, False)
            if self.keepalive is not None:
                self.keepalive.touch()
            if self.resume is not None:
                self.resume.feed(body)
            link = self.link
            if body and link is not None:
                if writer.paused:
                    self.ungranted += len(body)
                else:
                    link.grant(self.sid, len(body))
            return
        self.body_bytes += writer.data(body, True)
        if not self.trailers:  # else the body's end goes out with the trailers
            self._complete()

    def on_response_file(self, fd: int, offset: int, length: int | None) -> None:
        if self.phase == DONE:
            os.close(fd)
            return
        file = self.file = FileResponse(self, fd, offset)
        known = file.body.length_of(length)
        if isinstance(known, str):
            self.file_failed(known)
            return
        if self.phase == STARTED and not self._respond(known, True):
            return
        if not self.trailers:
            self.phase = APP_DONE
        file.body.remaining = self.writer.room(known)
        file.pump()

    def on_response_trailers(self, headers: Headers) -> None:
        if self.phase == DONE:
            return
        self.phase = APP_DONE
        if self.file is not None:
            self.file.trailers = headers
        elif not http_ending.trailers_refused(self, self.writer.trailers(headers)):
            self._complete()

    def on_sse_keepalive(self, interval: float, comment: str) -> None:
        if self.phase != DONE and self.sse and (self.keepalive is not None or interval > 0):
            if self.keepalive is None:
                self.keepalive = SSEKeepalive(self)
            self.keepalive.configure(interval, comment)

    def on_sse_no_resume(self) -> None:
        """The app's ``sse.start`` refused resumption."""
        if self.resume is not None:
            self.resume.refuse()

    def on_worker_draining(self) -> None:
        """This scope's worker drains: an event stream moves to another one."""
        if self.resume is not None and self.phase != DONE:
            self.resume.worker_draining()

    def on_writable(self) -> None:
        """The writer is no longer paused: credit what was held back, pump the file."""
        ungranted = self.ungranted
        if ungranted:
            self.ungranted = 0
            link = self.link
            if link is not None and self.phase != DONE:
                link.grant(self.sid, ungranted)
        if self.file is not None:
            self.file.pump()

    # --- the end of the scope (decisions in .http_ending) ---------------------------

    def on_end(self, outcome: int, response_started: bool, detail: str) -> None:
        self.link = None
        http_ending.scope_ended(self, outcome, detail)

    def on_worker_lost(self) -> None:
        self.link = None
        if self.resume is None or not self.resume.worker_lost():
            http_ending.worker_lost(self)

    def on_abort(self, detail: str) -> None:
        """The app aborted its scope; the worker knows: no CLOSE goes back."""
        self.link = None
        http_ending.app_aborted(self, detail)

    def client_gone(self) -> None:
        http_ending.client_gone(self)

    def abort(self, reason: str) -> bool:
        return http_ending.abort(self, reason)

    def fail_request(self, status: int, message: str) -> bool:
        return http_ending.fail_request(self, status, message)

    def shutdown(self) -> None:
        http_ending.shutdown(self)

    def file_failed(self, message: str) -> None:
        http_ending.file_failed(self, message)

    def reply(self, status: int, message: str, extra: ExtraHeaders) -> None:
        """Answer with a response of the front's own (nothing written yet) and end."""
        self.status = status
        self.body_bytes = self.writer.reply(status, message, extra)
        self.phase = DONE
        log_http(self, status)
        self.writer.end()

    def reply_own(self, status: int, message: str) -> None:
        """:meth:`reply` for a request the front refuses itself (no worker's)."""
        self.worker = "-"
        self.reply(status, message, ())

    def abort_response(self) -> None:
        """The response cannot be completed: log it and reset."""
        self.abandon()
        self.release(reasons.SERVER_ERROR)
        self.writer.abort()

    def abandon(self) -> None:
        """No byte more goes out: the access line for the response as it stands."""
        if self.phase != DONE:
            log_http(self, self.status if self.phase >= SENDING else 499)
            self.phase = DONE

    def release(self, reason: str | None) -> None:
        """Free the stream's resources; CLOSE its scope with ``reason`` if still live."""
        if self.waiter is not None:
            self.waiter.cancel()
            self.waiter = None
        self.close_file()
        if self.keepalive is not None:
            self.keepalive.stop()
        link = self.link
        if reason is not None and link is not None:
            self.link = None
            link.close_scope(self.sid, reason)

    def close_file(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    # --- internals -------------------------------------------------------------

    def _respond(self, known_length: int | None, final: bool) -> bool:
        """Hand the head to the writer; on an unusable head answer 500 (or 502
        for one that could split the response) instead."""
        refused = self.writer.respond(self.status, self.headers, self.trailers, known_length, final)
        if refused is None:
            self.phase = SENDING
            return True
        http_ending.head_refused(self, refused)
        return False

    def _flush_head(self) -> None:
        if self.phase == STARTED and self._respond(None, False):
            self.writer.flush()

    def _complete(self) -> None:
        """The whole response is handed to the writer."""
        if self.keepalive is not None:
            self.keepalive.stop()
        self.phase = DONE
        log_http(self, self.status)
        self.writer.end()

    # --- the file body (driven by self.file) -------------------------------------------

    def file_chunk(self, data: bytes) -> None:
        self.body_bytes += self.writer.data(data, False)

    def file_sent(self, trailers: Headers | None) -> None:
        """The whole file is out (one that shrank since fstat is caught by the
        writer's end); ``trailers``: the app's, if they came meanwhile."""
        self.close_file()
        writer = self.writer
        if not self.trailers:
            self.body_bytes += writer.data(b"", True)
            self._complete()
            return
        writer.flush()
        if trailers is None:
            return
        if not http_ending.trailers_refused(self, writer.trailers(trailers)):
            self._complete()
