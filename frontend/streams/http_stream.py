"""One ``http`` or ``sse`` scope, from the request head to the last response byte.

An :class:`HTTPStream` is created by the protocol connection for each request
and is the link's handler for its scope (:class:`~..link.handlers.HTTPScopeHandler`).
It owns the scope's whole life against the worker link: opening
(:mod:`.http_opening`; the stream takes the link in :meth:`attach`), the
request body within the request window,
the response events, response credit, file bodies, trailers, END, the loss
of the worker or of the client, shutdown, and the access-log line. It does
not know the HTTP version: bytes go out through its
:class:`~.interfaces.HTTPWriter`. This class holds the hot path (request
body, response events, credit) and the state; the abnormal ends are decided
in :mod:`.http_ending`, the access line is built by
:func:`~.access_record.log_http`, a file body is pumped by
:class:`~.file_response.FileResponse`, and an ``sse`` scope's keepalive and
resumption live in its :class:`~.event_stream.EventStream` — all through the
methods here.

State (each written only here):

* ``phase`` — see :mod:`.http_phase`; it only moves forward.
* ``link`` — the worker link while the scope is live there: set by OPEN,
  cleared by END, by the worker's loss and by our CLOSE. Nothing is sent to
  the worker for this scope while it is None.
* ``request_done`` — the request body was read to its end (or discarded).
* ``window`` — request body bytes the worker will still take; debited by
  :meth:`send_body`, credited by :meth:`on_request_credit`.
* ``sse`` — an ``sse`` scope's :class:`~.event_stream.EventStream` (None for
  ``http``); its resumption may re-open the scope on another worker
  (:meth:`reopen`); the response goes on unchanged (docs/resume.md).
* ``waiter`` — the task waiting for a worker for this stream (:meth:`wait`);
  ending the stream cancels it.
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING

from pagi.protocol import BodyMode, reasons
from pagi.protocol.kinds import BODY_EXPECT_CONTINUE, BODY_NONE

from ..access_log import short_target
from . import http_ending
from .access_record import log_http
from .event_stream import EventStream
from .file_response import FileResponse
from .http_opening import open_http, open_on
from .http_phase import APP_DONE, DONE, OPENED, SENDING, STARTED, WAITING

if TYPE_CHECKING:
    from ..link.handle import Headers as RequestHeaders
    from ..link.handle import LinkHandle, OpenFields
    from .interfaces import ExtraHeaders, Headers, HTTPWriter, StreamHost
    from .resume import OpenArgs

_NO_HEADERS: Headers = []


class HTTPStream:
    """One request/response; the scope handler of its ``http``/``sse`` scope."""

    __slots__ = (
        "body_bytes",
        "body_mode",
        "conn",
        "file",
        "headers",
        "http_version",
        "link",
        "method",
        "phase",
        "request_done",
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
        # the request asked for text/event-stream: an "sse" scope
        self.sse: EventStream | None = EventStream(self) if sse else None
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
        # response side
        self.status = 0
        self.headers = _NO_HEADERS
        self.trailers = False
        self.body_bytes = 0
        self.ungranted = 0  # response bytes written while paused, not yet credited
        self.file: FileResponse | None = None

    @property
    def done(self) -> bool:
        """The response was handed over completely, or abandoned."""
        return self.phase == DONE

    @property
    def streaming(self) -> bool:
        """The response head went out and the app has not finished the body."""
        return self.phase == SENDING

    def __repr__(self) -> str:
        return f"<HTTPStream sid={self.sid} {self.method} phase={self.phase} status={self.status}>"

    # --- opening ---------------------------------------------------------------

    def start(self, raw_path: bytes, query: bytes, headers: RequestHeaders, mode: BodyMode) -> None:
        """Open the scope now, or once a worker is ready (:mod:`.http_opening`)."""
        if self.sse is not None:
            self.sse.start(raw_path, query, headers, mode)
        open_http(self, raw_path, query, headers, mode)

    def wait(self, task: asyncio.Task[None] | None) -> None:
        """``task`` waits for a worker for this stream (None: the wait is over)."""
        self.waiter = task

    def waiting(self) -> bool:
        return self.phase == WAITING

    def label(self) -> str:
        return f"{self.method} {short_target(self.target)}"

    def attach(self, link: LinkHandle, fields: OpenFields, mode: BodyMode) -> None:
        """OPEN the scope on ``link`` with ``fields``: from now on the stream is
        the scope's handler there, with the request window ``link`` grants."""
        if self.phase == WAITING:
            self.phase = OPENED
        self.link = link
        self.worker = link.name
        self.body_mode = mode
        self.window = 0 if mode == BODY_EXPECT_CONTINUE else link.request_window
        sid = self.sid = link.open_http(self, fields)
        if self.sse is not None:
            self.sse.opened(link, sid)

    def reopen(self, link: LinkHandle, open_args: OpenArgs, body: bytes) -> None:
        """Move the response under way to a new scope on ``link``
        (:class:`~.resume.SSEResume`): CLOSE the old scope if it is still live,
        then OPEN with ``open_args`` (raw path, query, headers, extras) and
        replay the request ``body``."""
        old = self.link
        if old is not None:
            self.link = None
            old.close_scope(self.sid, reasons.SERVER_SHUTDOWN)
        self.ungranted = 0  # owed to the old scope
        raw_path, query, headers, extras = open_args
        mode = BodyMode.STREAM if body else BodyMode.NONE
        open_on(self, link, raw_path, query, headers, mode, extras)
        if body:
            self.window -= len(body)
            link.send_request_body(self.sid, body, False)

    # --- the request body ------------------------------------------------------------

    def send_body(self, body: bytes, more: bool) -> None:
        """Forward a request body piece (the protocol keeps within ``window``)."""
        if not more:
            self.request_done = True
            if not body and self.body_mode == BODY_NONE:
                return
        self.window -= len(body)
        if self.sse is not None:
            self.sse.request_body(body)
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
        if self.sse is not None and self.sse.swallow_start(status, headers):
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
        if self.sse is None or not self.sse.swallow_start(status, headers):
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
            if self.sse is not None:
                self.sse.body_written(body)
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
        file.start(length)

    def on_response_trailers(self, headers: Headers) -> None:
        if self.phase == DONE:
            return
        self.phase = APP_DONE
        if self.file is not None:
            self.file.trailers = headers
        elif not http_ending.trailers_refused(self, self.writer.trailers(headers)):
            self._complete()

    def on_sse_keepalive(self, interval: float, comment: str) -> None:
        if self.phase != DONE and self.sse is not None:
            self.sse.configure_keepalive(interval, comment)

    def on_sse_no_resume(self) -> None:
        if self.sse is not None:
            self.sse.refuse_resume()

    def on_worker_draining(self) -> None:
        """This scope's worker drains: an event stream moves to another one."""
        if self.sse is not None and self.phase != DONE:
            self.sse.worker_draining()

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
        if self.sse is None or not self.sse.worker_lost():
            http_ending.worker_lost(self)

    def on_abort(self, detail: str) -> None:
        """The app aborted its scope; the worker knows: no CLOSE goes back."""
        self.link = None
        http_ending.app_aborted(self, detail)

    # The other ends are http_ending's functions (each acts on the stream only
    # through the methods of this class). They are called from methods, not
    # bound as class attributes: a compiled function is no descriptor, so the
    # compiled build would call it without the stream.

    def client_gone(self) -> None:
        """The client connection ended."""
        http_ending.client_gone(self)

    def abort(self, reason: str) -> bool:
        """The connection closes at once; True: the client was answered 503."""
        return http_ending.abort(self, reason)

    def fail_request(self, status: int, message: str) -> bool:
        """A malformed or too large request body; False: the response was complete."""
        return http_ending.fail_request(self, status, message)

    def shutdown(self) -> None:
        """The front shuts down."""
        http_ending.shutdown(self)

    def file_failed(self, message: str) -> None:
        """The response file cannot be sized or read."""
        http_ending.file_failed(self, message)

    def end_moved(self, why: str) -> None:
        """A resumption failed: cut as a worker's death does."""
        http_ending.cut(self, why)

    def reply(self, status: int, message: str, extra: ExtraHeaders, own: bool = False) -> None:
        """Answer with a response of the front's own (nothing written yet) and
        end; ``own``: a request the front refuses itself (no worker's answer)."""
        if own:
            self.worker = "-"
        self.status = status
        self.body_bytes = self.writer.reply(status, message, extra)
        self.phase = DONE
        log_http(self, status)
        self.writer.end()

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
        if self.sse is not None:
            self.sse.stop()
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
        if self.sse is not None:
            self.sse.stop()
        self.phase = DONE
        log_http(self, self.status)
        self.writer.end()

    # --- the file body (see FileSink) ---------------------------------------------

    def file_head(self, known_length: int | None) -> bool:
        if self.phase == STARTED and not self._respond(known_length, True):
            return False
        if not self.trailers:
            self.phase = APP_DONE
        return True

    def write_body(self, data: bytes) -> None:
        """Body bytes the worker did not send as such (a file's piece, an SSE comment)."""
        self.body_bytes += self.writer.data(data, False)
