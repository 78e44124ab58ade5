"""The worker link as a stream sees it: :class:`LinkHandle`, and where a
stream gets one: :class:`LinkSource` (the pool) and :class:`LinkWaiter` (the
admission queue).

:class:`~.worker_link.WorkerLink` implements it; streams are typed against
this protocol only, so unit tests can drive a stream with a fake link and a
stream never reaches into the link's internals. Streams read the pool and the
admission queue through the other two (``streams/opening.py``): typed as the
classes, the compiled build would check every link they return against
``WorkerLink`` and refuse the tests' fake.
"""

from __future__ import annotations

from typing import Any, Protocol

from pagi.protocol import BodyMode

from .handlers import HTTPScopeHandler, WSScopeHandler

#: ``[host, port]`` (``port`` None for a UNIX socket) or None, as OPEN carries it.
Address = list[Any] | None
Headers = list[list[bytes]] | list[tuple[bytes, bytes]]

#: What OPEN carries after its scope id, in its order (``docs/worker-protocol.md``):
#: scope type, http_version, method, scheme, raw_path, query_string, headers,
#: client, server, extras, body mode.
OpenFields = tuple[
    str, str, str, str, bytes, bytes, Headers, Address, Address, dict[str, Any], BodyMode
]


class LinkHandle(Protocol):
    """One worker link: open scopes on it and talk to them."""

    @property
    def name(self) -> str:
        """The worker's name, for log lines."""

    @property
    def request_window(self) -> int:
        """Request body bytes a new scope may receive before the first CREDIT."""

    @property
    def draining(self) -> bool:
        """The worker asked for no new scopes (it is restarting)."""

    def open_http(self, handler: HTTPScopeHandler, fields: OpenFields) -> int:
        """OPEN an ``http`` or ``sse`` scope; returns its id."""

    def open_websocket(self, handler: WSScopeHandler, fields: OpenFields) -> int:
        """OPEN a ``websocket`` scope (method ``GET``, body mode none); returns its id."""

    def send_request_body(self, scope_id: int, body: bytes, more: bool) -> None: ...
    def grant(self, scope_id: int, nbytes: int) -> None: ...
    def close_scope(self, scope_id: int, reason: str) -> None: ...
    def send_ws_receive(self, scope_id: int, data: str | bytes, more: bool) -> None: ...
    def ws_return_credit(self, scope_id: int) -> None: ...
    def ws_disconnect(self, scope_id: int, code: int, reason: str) -> None: ...
    def ws_move(self, scope_id: int) -> None: ...


class LinkSource(Protocol):
    """The worker pool as a stream sees it (:class:`~.pool.WorkerPool`)."""

    def pick(self) -> LinkHandle | None:
        """The link of a ready worker under capacity, or None (none at once)."""


class LinkWaiter(Protocol):
    """The admission queue as a stream sees it (:class:`~..admission.Admission`)."""

    async def wait(self, what: str) -> LinkHandle | None:
        """A worker's link for the request ``what`` (for the log), or None: shed it."""
