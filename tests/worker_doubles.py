"""In-process stand-ins for a worker scope's session and link (unit tests only).

A scope object talks to its session (windows, app, state) and through the
session's link (frames to the front). These doubles decode every frame the
scope queues, as the front would, so tests assert on the messages themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from pagi.protocol import LinkDecoder, encode
from pagi.protocol.kinds import END, EVENT
from pagi.protocol.kinds import HTTP_RESPONSE_BODY as BODY
from pagi.protocol.kinds import HTTP_RESPONSE_START as START
from pagi.worker.interface import PAGI_INTERFACE, Interface


class RecordingLink:
    """Decodes what a scope queues into ``sent``; descriptors go to ``fds``."""

    def __init__(self) -> None:
        self.decoder = LinkDecoder("front")
        self.sent: list[list[Any]] = []
        self.fds: list[int] = []
        self.parts: list[tuple[bytes | memoryview, ...]] = []  # send_parts, as given

    def send(self, msg: list[Any]) -> None:
        self.send_frame(encode(msg))

    def send_frame(self, frame: bytes) -> None:
        self.sent.extend(self.decoder.feed(frame))

    def send_parts(self, parts: tuple[bytes | memoryview, ...]) -> None:
        self.parts.append(parts)
        self.send_frame(b"".join(parts))

    def unqueue_last(self, frame: bytes) -> bool:
        return False  # frames are decoded as they are queued: nothing to take back

    def send_with_fd(self, msg: list[Any], fd: int) -> None:
        self.fds.append(fd)
        self.send(msg)


class StubSession:
    """What a scope reads from its session, with small windows by default."""

    def __init__(
        self,
        app: Any = None,
        response_window: int = 1000,
        request_window: int = 100,
        link: RecordingLink | None = None,
        interface: Interface = PAGI_INTERFACE,
    ) -> None:
        self.link = RecordingLink() if link is None else link
        self.interface = interface
        self.ws_max_size: int | None = None
        self.ws_max_queue: int | None = None
        self.channel_sender: object = None  # a front that offers no channels
        self.app = app
        self.root_path = ""
        self.state: dict[str, Any] = {"k": 1}
        self.request_window = request_window
        self.response_window = response_window
        self.max_frame_size = 1 << 20
        self.max_body_piece = (1 << 20) - 64
        self.stopping = False
        self.ended: list[int] = []

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        try:
            return asyncio.get_running_loop()
        except RuntimeError:  # a scope built outside a loop: SendWindow asks later
            return None

    def scope_ended(self, scope: Any) -> None:
        self.ended.append(scope.sid)

    def scope_channels(self, sid: int, scope_type: str, extras: dict[Any, Any]) -> object:
        return None  # a front that offers no channels

    # what went to the front, by kind
    def bodies(self) -> list[tuple[bytes, bool]]:
        return [(msg[3], msg[4]) for msg in self.link.sent if msg[0] == EVENT and msg[2] == BODY]

    def starts(self) -> list[list[Any]]:
        return [msg for msg in self.link.sent if msg[0] == EVENT and msg[2] == START]

    def ends(self) -> list[list[Any]]:
        return [msg for msg in self.link.sent if msg[0] == END]


def run(coro_fn: Callable[[], Awaitable[None]]) -> None:
    """Run one test's coroutine on a fresh loop; a hang fails it after 5 s."""
    asyncio.run(asyncio.wait_for(coro_fn(), 5))
