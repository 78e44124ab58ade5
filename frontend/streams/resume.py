"""Resuming an event stream on another worker: :class:`SSEResume` (docs/resume.md).

When the worker serving an ``sse`` scope drains (rolling reload, recycle,
``pagi-ctl drain``, a worker's own SIGTERM) or dies, the front keeps the
client's response open and re-opens the scope on another ready worker: the
same method, target, headers and request body, ``last-event-id`` set to the
last id the client was sent (:mod:`.sse_ids` follows the bytes), and the
``pagi.resume`` scope extension. The new scope's ``sse.start`` is swallowed
when it matches what the client already has (same status, same content type);
anything else ends the stream as a worker's death does. Events continue on
the same response: the client sees no reconnect.

:class:`SSEResume` belongs to one :class:`~.http_stream.HTTPStream` (created
for an ``sse`` request when ``--sse-resume`` is on) and decides; the stream
carries out the re-OPEN (:meth:`Resumable.reopen`) and the cut: it writes no
field of the stream.

Invariants:

* A stream is moved only between two events (:attr:`SSEIdTracker.at_boundary`),
  only once its response is a streaming ``text/event-stream``, only once its
  request body has been read whole, and only while it is :attr:`usable`: the
  body fits :data:`MAX_REPLAY_BODY`, its id is known, the app did not refuse
  (``sse.start`` with ``"pagi.resume": False``), and fewer than
  :data:`MAX_FAILED_ATTEMPTS` re-opened scopes in a row ended before their
  ``sse.start``.
* On drain the old scope stays attached until a new worker is ready: the move
  (CLOSE ``server_shutdown`` to the old scope, OPEN on the new worker) is one
  step, so no event is lost between them. A stream caught mid-event when its
  worker starts draining moves at the next event boundary.
* On a worker's death at a boundary the stream waits for a worker through the
  front's admission (``--worker-wait-timeout``) and is cut if none comes; a
  death mid-event cuts it (the half event cannot be completed).
* The wait task, if any, is the stream's waiter (:meth:`Resumable.wait`):
  ending the stream cancels it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Protocol, cast

from pagi.protocol import BodyMode

from .opening import pick_link, wait_link
from .sse import is_event_stream
from .sse_ids import SSEIdTracker

if TYPE_CHECKING:
    from ..channels.broker import ChannelLink
    from ..link.handle import Headers as RequestHeaders
    from ..link.handle import LinkHandle
    from .interfaces import Headers, StreamHost

logger = logging.getLogger("pagi.front")

#: The scope extension key (``scope["extensions"]["pagi.resume"]``).
EXTENSION = "pagi.resume"
#: Most request body bytes kept for replay; a stream with a larger body is not resumed.
MAX_REPLAY_BODY = 64 * 1024
#: Re-opened scopes in a row that may end before their ``sse.start`` (a crashing app).
MAX_FAILED_ATTEMPTS = 3
#: Why a scope is re-opened, as the extension's ``reason`` says.
DRAIN = "drain"
WORKER_LOST = "worker_lost"

_LAST_EVENT_ID = b"last-event-id"

#: What a re-OPEN needs besides the link: raw path, query, headers, OPEN's extras.
OpenArgs = tuple[bytes, bytes, "RequestHeaders", dict[str, Any]]


class Resumable(Protocol):
    """The stream as :class:`SSEResume` sees it."""

    @property
    def conn(self) -> StreamHost: ...
    @property
    def link(self) -> LinkHandle | None: ...
    @property
    def waiter(self) -> asyncio.Task[None] | None: ...
    @property
    def request_done(self) -> bool: ...
    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> Headers: ...
    @property
    def worker(self) -> str: ...

    @property
    def streaming(self) -> bool:
        """The response head went out and the app has not finished the body."""

    def label(self) -> str: ...

    def wait(self, task: asyncio.Task[None] | None) -> None:
        """``task`` waits for a worker for the stream (None: the wait is over)."""

    def reopen(self, link: LinkHandle, open_args: OpenArgs, body: bytes) -> None:
        """CLOSE the old scope if still live; OPEN again on ``link`` with
        ``open_args`` (raw path, query, headers, extras); replay ``body``."""

    def end_moved(self, why: str) -> None:
        """The stream cannot go on: cut it as a worker's death does."""


def with_extension(extras: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    """A copy of OPEN's ``extras`` whose ``extensions`` also hold ``pagi.resume``."""
    out = dict(extras)
    extensions = dict(out.get("extensions") or ())
    extensions[EXTENSION] = value
    out["extensions"] = extensions
    return out


def carried_groups(conn: StreamHost, origin: tuple[LinkHandle, int] | None) -> list[str]:
    """The channel groups of the scope at ``origin`` (its link, its scope id),
    which the scope re-opened elsewhere takes along (OPEN ``extras["channels"]``,
    docs/channels.md); read before the old scope leaves them. Also answers for
    a link just lost (the broker keeps a dead worker's memberships a while)."""
    broker = conn.ctx.pool.channels
    if broker is None or origin is None:
        return []
    link, sid = origin
    return broker.groups_of(cast("ChannelLink", link), sid)


def with_groups(extras: dict[str, Any], groups: list[str]) -> dict[str, Any]:
    """``extras`` with ``channels.groups`` for the worker to re-join (if any)."""
    if not groups:
        return extras
    return {**extras, "channels": {"groups": groups}}


async def worker_for(conn: StreamHost, what: str) -> LinkHandle | None:
    """A ready worker for a connection being resumed or moved (``what``, for the
    log), through the front's admission; None if none came in time."""
    try:
        return await wait_link(conn, f"{what} from {conn.peer}")
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("error while waiting for a worker for %s from %s", what, conn.peer)
        return None


def _content_type(headers: Headers) -> bytes | None:
    for name, value in headers:
        if name == b"content-type":
            return value.lower()
    return None


class SSEResume:
    """What one event stream needs to be resumed, and the moves (see the module doc)."""

    __slots__ = (
        "_body",
        "_body_size",
        "_headers",
        "_no_body",
        "_stream",
        "_target",
        "attempt",
        "awaiting_start",
        "failures",
        "ids",
        "moving",
        "origin",
        "refused",
    )

    def __init__(
        self,
        stream: Resumable,
        raw_path: bytes,
        query: bytes,
        headers: RequestHeaders,
        mode: BodyMode,
    ) -> None:
        self._stream = stream
        self._target = (raw_path, query)
        self._no_body = mode == BodyMode.NONE  # complete whether or not it is "read"
        last: bytes | None = None
        kept: list[list[bytes]] = []
        for name, value in headers:
            if name == _LAST_EVENT_ID:
                last = value
            else:
                kept.append([name, value])
        self._headers = kept
        self.ids = SSEIdTracker(last)
        self._body: list[bytes] = []
        self._body_size = 0
        self.attempt = 0  # scopes re-opened so far
        self.failures = 0  # re-opened scopes in a row that ended before sse.start
        self.moving = False  # a move is wanted: at the next boundary, or waiting for a worker
        self.awaiting_start = False  # the re-opened scope's sse.start has not come yet
        self.refused = False  # the app said no (or the body was too large to keep)
        self.origin: tuple[LinkHandle, int] | None = None  # the scope now serving the stream

    @property
    def usable(self) -> bool:
        return not self.refused and not self.ids.unusable and self.failures < MAX_FAILED_ATTEMPTS

    def extension(self, reason: str | None) -> dict[str, Any]:
        """The ``pagi.resume`` value for the scope opened next (attempt 0: the first)."""
        last = self.ids.last_id
        value: dict[str, Any] = {
            "attempt": self.attempt,
            "last_event_id": None if last is None else last.decode("utf-8", "replace"),
        }
        if reason is not None:
            value["reason"] = reason
        return value

    # --- fed by the stream ---------------------------------------------------------

    def record_body(self, body: bytes) -> None:
        """A request body piece went to the worker: keep it for a replay."""
        if self.refused or not body:
            return
        self._body_size += len(body)
        if self._body_size > MAX_REPLAY_BODY:
            self.refused = True
            self._body = []
            return
        self._body.append(body)

    def feed(self, body: bytes) -> None:
        """Response body bytes were written to the client."""
        ids = self.ids
        ids.feed(body)
        if self.moving and ids.at_boundary and self._stream.link is not None:
            self._move(DRAIN)

    def swallow_start(self, status: int, headers: Headers) -> bool:
        """A response start: False if it is the stream's own (not a re-opened
        scope's). Otherwise it is swallowed when it matches what the client
        has (same status and content type); if not, the stream ends."""
        if not self.awaiting_start:
            return False
        self.awaiting_start = False
        stream = self._stream
        if status == stream.status and _content_type(headers) == _content_type(stream.headers):
            self.failures = 0
        else:
            stream.end_moved(f"the resumed scope answered {status}, not the stream the client has")
        return True

    def refuse(self) -> None:
        """The app's ``sse.start`` said ``"pagi.resume": False``."""
        self.refused = True
        self.moving = False

    # --- the worker is going away -----------------------------------------------

    def worker_draining(self) -> None:
        """The stream's worker starts draining: move the stream off it (between
        events, else at the next boundary), one loop iteration from now, so
        that the workers a rolling reload drains together have all stopped
        taking scopes by then and the stream goes to a fresh one."""
        if self.usable and not self.moving:
            self.moving = True
            self._stream.conn.loop.call_soon(self._drain_move)

    def _drain_move(self) -> None:
        stream = self._stream
        if self.moving and stream.link is not None and stream.streaming and self.ids.at_boundary:
            self._move(DRAIN)

    def worker_lost(self) -> bool:
        """The stream's worker died (the stream's ``link`` is already None).
        True: the stream is being resumed; False: the stream must end."""
        stream = self._stream
        if self.awaiting_start:
            self.failures += 1  # the re-opened scope died before its sse.start
        if (
            not self.usable
            or not stream.streaming
            or not self.ids.at_boundary
            or not is_event_stream(stream.headers)
        ):
            return False
        self._move(WORKER_LOST)
        return True

    # --- moving ----------------------------------------------------------------------

    def _move(self, reason: str) -> None:
        stream = self._stream
        whole = stream.request_done or self._no_body
        if not whole or not is_event_stream(stream.headers) or not stream.streaming:
            self.moving = False
            return
        self.moving = True
        if stream.waiter is not None:
            return  # already waiting for a worker
        link = pick_link(stream.conn)
        if link is None:
            stream.wait(stream.conn.loop.create_task(self._wait(reason)))
        else:
            self._reopen(link, reason)

    async def _wait(self, reason: str) -> None:
        stream = self._stream
        link = await worker_for(stream.conn, f"resuming {stream.label()}")
        stream.wait(None)
        if not self.moving or not stream.streaming:
            return  # the stream ended meanwhile
        if link is None:
            self.moving = False
            if stream.link is None:
                stream.end_moved("no worker became ready to resume it")
            # else: its draining worker keeps it until its graceful timeout
            return
        if stream.link is not None and not self.ids.at_boundary:
            return  # mid-event on the old worker: feed() moves it at the boundary
        self._reopen(link, reason)

    def _reopen(self, link: LinkHandle, reason: str) -> None:
        stream = self._stream
        body = b"".join(self._body)
        if len(body) > link.request_window:
            self.refused = True
            self.moving = False
            if stream.link is None:
                stream.end_moved("its request body does not fit the new worker's window")
            return
        groups = carried_groups(stream.conn, self.origin)  # before the old scope leaves them
        self.moving = False
        self.awaiting_start = True
        self.attempt += 1
        headers: list[list[bytes]] = list(self._headers)
        last = self.ids.last_id
        if last:
            headers.append([_LAST_EVENT_ID, last])
        previous = stream.worker
        raw_path, query = self._target
        extras = with_extension(stream.conn.scope_extras, self.extension(reason))
        extras = with_groups(extras, groups)
        stream.reopen(link, (raw_path, query, headers, extras), body)
        logger.info(
            "resuming %s from %s on worker %s (was %s, %s; attempt %d, last event id %s)",
            stream.label(),
            stream.conn.peer,
            link.name,
            previous,
            reason.replace("_", " "),
            self.attempt,
            "none" if last is None else repr(last.decode("utf-8", "replace")),
        )
