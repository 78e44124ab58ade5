"""What a scope needs from its session and its link: the seam between them.

A scope (:class:`~.scope_base.ScopeBase` and its subclasses, the websocket
:class:`~.websocket_outbox.Outbox`) is given the :class:`~.session.Session`
that opened it and writes through that session's :class:`~.link.Link`. It
reads only what these protocols list, so a scope can be driven in-process
by any object that has them (the unit tests' recording session), in the
pure-Python build and in the compiled one alike (mypyc checks a parameter
declared as a class at run time, but not one declared as a protocol).

Invariants the session keeps for its scopes: ``loop`` is the running loop;
the windows and frame limits are the front's (from WELCOME) and do not change
while a scope is open; ``scope_ended`` is called exactly once per scope, by
the scope itself, after its END is queued.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Protocol

from .scope import ScopeSource

if TYPE_CHECKING:
    from .body_ring import BodyRing
    from .loader import App
    from .scope_base import ScopeBase


class ScopeLink(Protocol):
    """The frames a scope queues for the front (:class:`~.link.Link`)."""

    def send(self, msg: list[Any]) -> None:
        """Encode and queue one link message."""

    def send_frame(self, frame: bytes) -> None:
        """Queue one frame encoded already."""

    def send_parts(self, parts: tuple[bytes | memoryview, ...]) -> None:
        """Queue one frame given as pieces (a large body without a copy)."""

    def unqueue_last(self, frame: bytes) -> bool:
        """Take ``frame`` back if it is still the last one queued (unsent)."""

    def send_with_fd(self, msg: list[Any], fd: int) -> None:
        """Queue a message that carries a file descriptor (a file body)."""


class ScopeSession(ScopeSource, Protocol):
    """What a scope reads from the session that opened it."""

    app: App
    loop: asyncio.AbstractEventLoop
    request_window: int  # inbound data the scope grants at a time
    response_window: int  # outbound data the front takes before CREDIT
    max_frame_size: int  # the largest frame the front accepts
    max_body_piece: int  # the largest body piece that fits one frame
    ring: BodyRing | None  # the link's body ring, if the front took one

    @property
    def link(self) -> ScopeLink:
        """Where the scope's frames go."""

    @property
    def stopping(self) -> bool:
        """The worker is shutting down (a cancelled app is "cancelled at shutdown")."""

    def scope_ended(self, scope: ScopeBase) -> None:
        """The scope queued its END: forget it."""
