"""The front's end of one worker link: a connected, greeted ``pagi-worker``.

A :class:`WorkerLink` owns one accepted UNIX stream socket. It reads with
``recvmsg`` (descriptors arrive as ``SCM_RIGHTS`` ancillary data), decodes with
:class:`~pagi.protocol.LinkDecoder` and calls the :class:`ScopeHandler` of each
scope; it queues outgoing messages and writes them once per loop iteration.
Everything runs as loop callbacks: no task per link or per scope.

Invariants:

* The first message must be HELLO, within ``config.handshake_timeout``; the
  link joins the pool only after WELCOME has been queued.
* Scope ids are assigned here, increasing from 1, never reused. A message for
  an id never assigned is a violation; one for an id already forgotten is
  ignored (it crossed a CLOSE on the wire).
* Per scope the worker's events follow ``START (BODY* more=True)
  (BODY more=False | FILE) [TRAILERS if announced]``, and the response body
  bytes never exceed the window (WELCOME ``window`` plus every :meth:`grant`).
  Anything else drops the whole worker.
* Received descriptors wait in a FIFO; each decoded HTTP_RESPONSE_FILE takes
  the oldest. A descriptor nobody takes over is closed here, so none leaks.
* After :meth:`close_scope` no handler method is called for that scope; the id
  is kept (and counted in ``open_scopes``) until the worker's END.
* When the link dies, every scope still attached gets ``on_worker_lost`` once,
  then the link forgets them all. No handler method is called after that.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import logging
import os
import socket
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from pagi.protocol import PROTOCOL_VERSION, BodyMode, Event, Kind, LinkDecoder, LinkError
from pagi.protocol import messages as m
from pagi.protocol.codec import encode_many

from .config import FrontConfig

if TYPE_CHECKING:
    from .pool import WorkerPool

logger = logging.getLogger("pagi.front")

RECV_SIZE = 256 * 1024
#: Most descriptors accepted in one recvmsg (one per HTTP_RESPONSE_FILE frame).
MAX_FDS_PER_RECV = 64
ANCILLARY_SIZE = socket.CMSG_SPACE(MAX_FDS_PER_RECV * array.array("i").itemsize)
#: Descriptors received but not yet claimed by a FILE frame; more is a violation.
MAX_PENDING_FDS = 1024
_RECV_FLAGS = getattr(socket, "MSG_CMSG_CLOEXEC", 0)

# Plain ints for the dispatch hot path.
_HELLO = int(Kind.HELLO)
_EVENT = int(Kind.EVENT)
_CREDIT = int(Kind.CREDIT)
_END = int(Kind.END)
_DRAIN = int(Kind.DRAIN)
_PING = int(Kind.PING)
_PONG = int(Kind.PONG)
_STATS = int(Kind.STATS)
_START = int(Event.HTTP_RESPONSE_START)
_BODY = int(Event.HTTP_RESPONSE_BODY)
_FILE = int(Event.HTTP_RESPONSE_FILE)
_TRAILERS = int(Event.HTTP_RESPONSE_TRAILERS)
_REQUEST = int(Event.HTTP_REQUEST)

# Response state of a scope, as the worker's events move it forward.
_BEFORE_START = 0
_IN_BODY = 1  # started; body events may follow
_AWAIT_TRAILERS = 2  # body complete; announced trailers must follow
_COMPLETE = 3  # nothing more but END


class ScopeHandler(Protocol):
    """The per-request object the HTTP layer gives to :meth:`WorkerLink.open_scope`."""

    def on_response_start(
        self, status: int, headers: list[list[bytes]], trailers: bool
    ) -> None: ...
    def on_response_body(self, body: bytes, more: bool) -> None: ...
    def on_response_file(self, fd: int, offset: int, length: int | None) -> None: ...
    def on_response_trailers(self, headers: list[list[bytes]]) -> None: ...
    def on_request_credit(self, nbytes: int) -> None: ...
    def on_end(self, outcome: int, response_started: bool, detail: str) -> None: ...
    def on_worker_lost(self) -> None: ...


class _Violation(LinkError):
    """The worker broke the protocol in a way the codec cannot see (order, window)."""


class _Scope:
    __slots__ = ("handler", "state", "trailers", "window")

    def __init__(self, handler: ScopeHandler, window: int) -> None:
        self.handler: ScopeHandler | None = handler  # None once close_scope was called
        self.state = _BEFORE_START
        self.trailers = False
        self.window = window  # response body bytes the worker may still send


class WorkerLink:
    """One connected worker. Created on accept; starts reading at once."""

    __slots__ = (
        "_config",
        "_decoder",
        "_fds",
        "_flush_scheduled",
        "_handshake_timer",
        "_last_sid",
        "_loop",
        "_on_closed",
        "_out",
        "_pool",
        "_queue",
        "_scopes",
        "_sock",
        "app",
        "capacity",
        "closed",
        "draining",
        "interface",
        "name",
        "open_scopes",
        "pid",
        "request_window",
        "stats",
        "welcomed",
        "worker_id",
    )

    def __init__(
        self,
        sock: socket.socket,
        worker_id: int,
        config: FrontConfig,
        pool: WorkerPool,
        on_closed: Callable[[WorkerLink], None] | None = None,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._sock = sock
        self._config = config
        self._pool = pool
        self._on_closed = on_closed
        self._decoder = LinkDecoder("front", config.max_frame_size)
        self._fds: deque[int] = deque()
        self._scopes: dict[int, _Scope] = {}
        self._last_sid = 0
        self._queue: list[list[Any]] = []
        self._flush_scheduled = False
        self._out = bytearray()  # written partially; the writer callback is armed
        self.worker_id = worker_id
        self.name = f"#{worker_id}"  # replaced by the HELLO name
        self.pid: int | None = None
        self.app = ""
        self.interface = ""
        self.capacity = 0
        self.request_window = 0
        self.open_scopes = 0
        self.welcomed = False
        self.draining = False
        self.closed = False
        self.stats: dict[Any, Any] = {}
        sock.setblocking(False)
        self._loop.add_reader(sock.fileno(), self._on_readable)
        self._handshake_timer: asyncio.TimerHandle | None = self._loop.call_later(
            config.handshake_timeout, self._handshake_expired
        )

    def __repr__(self) -> str:
        return f"<WorkerLink {self.name!r} id={self.worker_id} open={self.open_scopes}>"

    # --- the HTTP layer's side ---------------------------------------------

    def open_scope(
        self,
        handler: ScopeHandler,
        scope_type: str,
        http_version: str,
        method: str,
        scheme: str,
        raw_path: bytes,
        query_string: bytes,
        headers: list[list[bytes]] | list[tuple[bytes, bytes]],
        client: list[Any] | None,
        server: list[Any] | None,
        extras: dict[str, Any],
        body_mode: BodyMode,
    ) -> int:
        """Queue OPEN for a new scope and return its id.

        On a link that has already died the handler gets ``on_worker_lost``
        from the next loop iteration (never re-entrantly).
        """
        self._last_sid = sid = self._last_sid + 1
        if self.closed:
            self._loop.call_soon(handler.on_worker_lost)
            return sid
        self._scopes[sid] = _Scope(handler, self._config.response_window)
        self.open_scopes += 1
        self._send(
            [
                Kind.OPEN,
                sid,
                scope_type,
                http_version,
                method,
                scheme,
                raw_path,
                query_string,
                headers,
                client,
                server,
                extras,
                body_mode,
            ]
        )
        return sid

    def send_request_body(self, scope_id: int, body: bytes, more: bool) -> None:
        """Queue a request body chunk (the caller keeps within the request window)."""
        scope = self._scopes.get(scope_id)
        if scope is not None and scope.handler is not None:
            self._send([_EVENT, scope_id, _REQUEST, body, more])

    def grant(self, scope_id: int, nbytes: int) -> None:
        """Give the worker ``nbytes`` more response window on a scope."""
        scope = self._scopes.get(scope_id)
        if scope is not None and scope.handler is not None and nbytes > 0:
            scope.window += nbytes
            self._send([_CREDIT, scope_id, nbytes])

    def close_scope(self, scope_id: int, reason: str) -> None:
        """Tell the worker the client side ended; detach the handler."""
        scope = self._scopes.get(scope_id)
        if scope is not None and scope.handler is not None:
            scope.handler = None
            self._send([Kind.CLOSE, scope_id, reason])

    def close(self, reason: str = "front shutting down") -> None:
        """Close the link from our side (best-effort flush of queued messages first)."""
        if self.closed:
            return
        self._flush(final=True)
        self._teardown(logging.INFO, f"closing link to worker {self.name}: {reason}")

    # --- reading --------------------------------------------------------------

    def _on_readable(self) -> None:
        try:
            data, ancdata, flags, _addr = self._sock.recvmsg(RECV_SIZE, ANCILLARY_SIZE, _RECV_FLAGS)
        except (BlockingIOError, InterruptedError):
            return
        except ConnectionResetError:  # it died with our messages unread
            self._left()
            return
        except OSError as exc:
            self._drop(f"receive failed: {exc.strerror or exc}")
            return
        if ancdata and not self._take_fds(ancdata, flags):
            return
        if not data:
            self._on_eof()
            return
        try:
            msgs = self._decoder.feed(data)
        except LinkError as exc:
            self._drop(str(exc))
            return
        for msg in msgs:
            try:
                self._dispatch(msg)
            except _Violation as exc:
                self._drop(str(exc))
                return
            except Exception:
                logger.exception("error handling %s from worker %s", _describe(msg), self.name)
            if self.closed:
                return

    def _take_fds(self, ancdata: list[tuple[int, int, bytes]], flags: int) -> bool:
        fds = array.array("i")
        for level, kind, data in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
        self._fds.extend(fds)
        if flags & socket.MSG_CTRUNC:
            self._drop(
                f"more than {MAX_FDS_PER_RECV} file descriptors in one write (ancillary data cut)"
            )
            return False
        if len(self._fds) > MAX_PENDING_FDS:
            self._drop(f"more than {MAX_PENDING_FDS} file descriptors without FILE frames")
            return False
        return True

    def _on_eof(self) -> None:
        try:
            self._decoder.check_eof()
        except LinkError as exc:
            self._drop(str(exc))
            return
        self._left()

    def _left(self) -> None:
        if self.welcomed:
            self._teardown(logging.INFO, f"worker {self.name} left")
        else:
            self._teardown(logging.INFO, f"link {self.name} closed before HELLO")

    def _handshake_expired(self) -> None:
        self._handshake_timer = None
        if not self.welcomed and not self.closed:
            self._drop(f"no HELLO within {self._config.handshake_timeout:g} s")

    # --- dispatch ---------------------------------------------------------------

    def _dispatch(self, msg: list[Any]) -> None:
        kind = msg[0]
        if kind == _EVENT:
            if not self.welcomed:
                raise _Violation("EVENT before HELLO")
            self._on_event(msg)
        elif kind == _END:
            if not self.welcomed:
                raise _Violation("END before HELLO")
            sid = msg[1]
            scope = self._scopes.pop(sid, None)
            if scope is None:
                self._check_known(sid, "END")
                return
            self.open_scopes -= 1
            self._pool.capacity_changed()
            if scope.handler is not None:
                scope.handler.on_end(msg[2], msg[3], msg[4])
        elif kind == _CREDIT:
            if not self.welcomed:
                raise _Violation("CREDIT before HELLO")
            sid = msg[1]
            scope = self._scopes.get(sid)
            if scope is None:
                self._check_known(sid, "CREDIT")
            elif scope.handler is not None:
                scope.handler.on_request_credit(msg[2])
        elif kind == _HELLO:
            if self.welcomed:
                raise _Violation("second HELLO")
            self._on_hello(msg[2], msg[3])
        elif not self.welcomed:
            raise _Violation(f"first message was {Kind(kind).name}, not HELLO")
        elif kind == _PING:
            self._send([_PONG, 0, msg[2]])
        elif kind == _DRAIN:
            if not self.draining:
                self.draining = True
                logger.info("worker %s draining", self.name)
        elif kind == _STATS:
            self.stats = msg[2]
        # PONG: nothing to do (the front sends no PING yet).

    def _check_known(self, sid: int, what: str) -> None:
        if sid > self._last_sid:
            raise _Violation(f"{what} for scope {sid}, which was never opened")

    def _on_event(self, msg: list[Any]) -> None:
        sid = msg[1]
        code = msg[2]
        fd = -1
        if code == _FILE:
            if not self._fds:
                raise _Violation(f"scope {sid}: HTTP_RESPONSE_FILE without a file descriptor")
            fd = self._fds.popleft()
        scope = self._scopes.get(sid)
        if scope is None:
            if fd >= 0:
                os.close(fd)
            self._check_known(sid, Event(code).name)
            return
        try:
            handler = scope.handler
            if code == _BODY:
                if scope.state != _IN_BODY:
                    raise _Violation(f"scope {sid}: HTTP_RESPONSE_BODY {_when(scope.state)}")
                body = msg[3]
                scope.window -= len(body)
                if scope.window < 0:
                    raise _Violation(
                        f"scope {sid}: response body exceeds the granted window "
                        f"by {-scope.window} bytes"
                    )
                more = msg[4]
                if not more:
                    scope.state = _AWAIT_TRAILERS if scope.trailers else _COMPLETE
                if handler is not None:
                    handler.on_response_body(body, more)
            elif code == _START:
                if scope.state != _BEFORE_START:
                    raise _Violation(f"scope {sid}: second HTTP_RESPONSE_START")
                scope.state = _IN_BODY
                scope.trailers = msg[5]
                if handler is not None:
                    handler.on_response_start(msg[3], msg[4], msg[5])
            elif code == _FILE:
                if scope.state != _IN_BODY:
                    raise _Violation(f"scope {sid}: HTTP_RESPONSE_FILE {_when(scope.state)}")
                scope.state = _AWAIT_TRAILERS if scope.trailers else _COMPLETE
                if handler is not None:
                    claimed, fd = fd, -1
                    handler.on_response_file(claimed, msg[3], msg[4])
            else:  # _TRAILERS (the codec admits no other code from a worker)
                if scope.state != _AWAIT_TRAILERS:
                    if scope.state != _COMPLETE:
                        problem = _when(scope.state)
                    elif scope.trailers:
                        problem = "sent twice"
                    else:
                        problem = "not announced in HTTP_RESPONSE_START"
                    raise _Violation(f"scope {sid}: HTTP_RESPONSE_TRAILERS {problem}")
                scope.state = _COMPLETE
                if handler is not None:
                    handler.on_response_trailers(msg[3])
        finally:
            if fd >= 0:
                os.close(fd)

    def _on_hello(self, version: int, info: dict[Any, Any]) -> None:
        name = info.get("name")
        self.name = name if isinstance(name, str) and name else f"#{self.worker_id}"
        pid = info.get("pid")
        self.pid = pid if type(pid) is int else None
        if version != PROTOCOL_VERSION:
            self._reject(
                f"protocol version {version} not supported; this front speaks {PROTOCOL_VERSION}"
            )
            return
        window = info.get("window")
        if type(window) is not int or window < 0:
            self._reject("HELLO info 'window' must be a non-negative integer")
            return
        capacity = info.get("capacity", 0)
        if type(capacity) is not int or capacity < 0:
            self._reject("HELLO info 'capacity' must be a non-negative integer")
            return
        app = info.get("app", "")
        interface = info.get("interface", "")
        self.app = app if isinstance(app, str) else ""
        self.interface = interface if isinstance(interface, str) else ""
        self.request_window = window
        self.capacity = capacity
        self.welcomed = True
        if self._handshake_timer is not None:
            self._handshake_timer.cancel()
            self._handshake_timer = None
        self._send(
            m.welcome(
                PROTOCOL_VERSION,
                {
                    "window": self._config.response_window,
                    "worker_id": self.worker_id,
                    "max_frame_size": self._config.max_frame_size,
                },
            )
        )
        logger.info("worker %s pid %s joined", self.name, self.pid)
        self._pool.add(self)

    def _reject(self, reason: str) -> None:
        self._queue.append(m.reject(reason))
        self._flush(final=True)
        self._teardown(logging.WARNING, f"rejected worker {self.name} (pid {self.pid}): {reason}")

    # --- writing ----------------------------------------------------------------

    def _send(self, msg: list[Any]) -> None:
        if self.closed:
            return
        self._queue.append(msg)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self, final: bool = False) -> None:
        """Write everything queued as one send; buffer the rest behind the writer.

        ``final``: best effort before closing, never arms the writer.
        """
        self._flush_scheduled = False
        if self.closed or not self._queue:
            return
        data = encode_many(self._queue)
        self._queue.clear()
        if self._out:
            self._out += data
            if final:
                self._write_out()
            elif len(self._out) > self._config.max_link_buffer:
                self._drop_stuck()
            return
        try:
            sent = self._sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError as exc:
            if not final:
                self._send_failed(exc)
            return
        if sent < len(data) and not final:
            self._out += memoryview(data)[sent:]
            if len(self._out) > self._config.max_link_buffer:
                self._drop_stuck()
                return
            self._loop.add_writer(self._sock.fileno(), self._write_out)

    def _write_out(self) -> None:
        if self.closed:
            return
        try:
            sent = self._sock.send(self._out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._send_failed(exc)
            return
        del self._out[:sent]
        if not self._out:
            self._loop.remove_writer(self._sock.fileno())

    def _send_failed(self, exc: OSError) -> None:
        if isinstance(exc, (BrokenPipeError, ConnectionResetError)):
            self._left()
        else:
            self._drop(f"send failed: {exc.strerror or exc}")

    def _drop_stuck(self) -> None:
        self._drop(
            f"stuck: more than {self._config.max_link_buffer} bytes waiting to be written to it"
        )

    # --- ending -------------------------------------------------------------------

    def _drop(self, reason: str) -> None:
        self._teardown(logging.WARNING, f"dropping worker {self.name}: {reason}")

    def _teardown(self, level: int, message: str) -> None:
        if self.closed:
            return
        self.closed = True
        logger.log(level, message)
        if self._handshake_timer is not None:
            self._handshake_timer.cancel()
            self._handshake_timer = None
        fileno = self._sock.fileno()
        if fileno >= 0:
            self._loop.remove_reader(fileno)
            if self._out:
                self._loop.remove_writer(fileno)
        self._sock.close()
        self._out.clear()
        self._queue.clear()
        while self._fds:
            with contextlib.suppress(OSError):
                os.close(self._fds.popleft())
        self._pool.remove(self)
        scopes = list(self._scopes.values())
        self._scopes.clear()
        self.open_scopes = 0
        for scope in scopes:
            if scope.handler is not None:
                try:
                    scope.handler.on_worker_lost()
                except Exception:
                    logger.exception("error in on_worker_lost (worker %s)", self.name)
        if self._on_closed is not None:
            self._on_closed(self)


def _when(state: int) -> str:
    if state == _BEFORE_START:
        return "before HTTP_RESPONSE_START"
    if state == _IN_BODY:
        return "before the response body was complete"
    return "after the response body was complete"


def _describe(msg: list[Any]) -> str:
    try:
        kind = Kind(msg[0])
    except ValueError:
        return "message"
    if kind == Kind.EVENT:
        return f"{Event(msg[2]).name} for scope {msg[1]}"
    return f"{kind.name} for scope {msg[1]}" if msg[1] else kind.name
