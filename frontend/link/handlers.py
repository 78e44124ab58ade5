"""What the worker link calls on the front's side of a scope.

The link decodes a worker's messages, checks each scope's events against the
order the protocol allows (:mod:`.scope`, :mod:`.ws_scope`) and then calls the
scope's handler, one method per event. The handler is a stream of
:mod:`pagi.frontend.streams`; these protocols are the whole of what the link
may call on it.

Invariants the link keeps for every handler:

* No method is called after ``on_end`` or ``on_worker_lost`` (exactly one of
  them ends a scope, unless the stream detached first with ``close_scope`` /
  ``ws_disconnect``, after which nothing is called at all).
* Methods are never called re-entrantly from inside the stream's own calls to
  the link (``on_worker_lost`` for a link that already died comes from the
  next loop iteration).
"""

from __future__ import annotations

from typing import Protocol


class ScopeHandler(Protocol):
    """The callbacks every scope type receives."""

    def on_response_start(
        self, status: int, headers: list[list[bytes]], trailers: bool
    ) -> None: ...
    def on_response_body(self, body: bytes, more: bool) -> None: ...
    def on_request_credit(self, nbytes: int) -> None: ...
    def on_end(self, outcome: int, response_started: bool, detail: str) -> None: ...
    def on_worker_lost(self) -> None: ...
    def on_abort(self, detail: str) -> None:
        """ABORT: the app called ``pagi.connection.abort(detail)``; drop the
        client's connection (the scope's END still follows)."""

    def on_worker_draining(self) -> None:
        """The scope's worker started draining: a long-lived scope may move to
        another worker (docs/resume.md); others just go on."""


class HTTPScopeHandler(ScopeHandler, Protocol):
    """The handler of an ``http`` or ``sse`` scope."""

    def on_response(
        self, status: int, headers: list[list[bytes]], trailers: bool, body: bytes, more: bool
    ) -> None:
        """START and the first body piece in one message: the same as
        ``on_response_start`` followed at once by ``on_response_body``."""

    def on_response_file(self, fd: int, offset: int, length: int | None) -> None:
        """The body is ``length`` bytes (None: to its end) of the file ``fd``
        from ``offset``; the handler owns ``fd`` from now on."""

    def on_response_trailers(self, headers: list[list[bytes]]) -> None: ...
    def on_sse_keepalive(self, interval: float, comment: str) -> None: ...
    def on_sse_no_resume(self) -> None:
        """SSE_NO_RESUME: the app refused resumption of this stream."""


class WSScopeHandler(ScopeHandler, Protocol):
    """The handler of a ``websocket`` scope (``on_response_*``: a denial)."""

    def on_ws_accept(self, subprotocol: str | None, headers: list[list[bytes]]) -> None: ...
    def on_ws_send(self, data: str | bytes, more: bool) -> None: ...
    def on_ws_close(self, code: int, reason: str) -> None: ...
    def on_ws_keepalive(self, interval: float, timeout: float | None) -> None: ...
    def on_ws_resumable(self) -> None:
        """WS_RESUMABLE: the app let the connection move between workers."""

    def on_ws_resume_state(self, state: bytes) -> None:
        """WS_RESUME_STATE: the app's latest state token for the next scope."""
