"""Fakes for driving a stream of ``pagi.frontend.streams`` in-process.

A stream talks to three things: its host (the client connection), its writer
(the protocol's framing) and a worker link. These record what the stream
asks of them, so a test can feed link events and check the calls.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pagi.frontend.config import FrontConfig
from pagi.frontend.connections import FrontContext
from pagi.frontend.streams.interfaces import Refusal


class FakeLink:
    """A worker link that records what streams send (a :class:`LinkHandle`)."""

    def __init__(self, name: str = "w1", request_window: int = 100) -> None:
        self.name = name
        self.request_window = request_window
        self.draining = False
        self.sent: list[tuple[Any, ...]] = []
        self.handler: Any = None
        self._sid = 0

    def _open(self, handler: Any, what: tuple[Any, ...]) -> int:
        self._sid += 1
        self.handler = handler
        self.sent.append(what)
        return self._sid

    def open_http(self, handler: Any, fields: tuple[Any, ...]) -> int:
        return self._open(handler, ("open", *fields))

    def open_websocket(self, handler: Any, fields: tuple[Any, ...]) -> int:
        return self._open(handler, ("open", *fields))

    def send_request_body(self, sid: int, body: bytes, more: bool) -> None:
        self.sent.append(("body", body, more))

    def grant(self, sid: int, nbytes: int) -> None:
        self.sent.append(("grant", nbytes))

    def close_scope(self, sid: int, reason: str) -> None:
        self.sent.append(("close", reason))

    def send_ws_receive(self, sid: int, data: str | bytes, more: bool) -> None:
        self.sent.append(("receive", data, more))

    def ws_return_credit(self, sid: int) -> None:
        self.sent.append(("return_credit",))

    def ws_disconnect(self, sid: int, code: int, reason: str) -> None:
        self.sent.append(("disconnect", code, reason))

    def ws_move(self, sid: int) -> None:
        self.sent.append(("move",))


class FakePool:
    """``pick`` returns ``link`` (None: no worker); ``wait`` returns ``later``."""

    def __init__(self, link: FakeLink | None, later: FakeLink | None = None) -> None:
        self.link = link
        self.later = later
        self.waiting = 0  # requests waiting (admission's --queue-size check)
        self.channels = None  # --channels off: no groups to carry on a move

    def __len__(self) -> int:
        return 0 if self.link is None else 1

    def pick(self) -> FakeLink | None:
        return self.link

    async def wait(self, timeout: float) -> FakeLink | None:
        await asyncio.sleep(0)
        return self.later


class FakeHost:
    """The client connection as a stream sees it (a :class:`StreamHost`)."""

    def __init__(self, pool: FakePool, **config: Any) -> None:
        self.ctx = FrontContext(config=FrontConfig(**config), pool=pool)  # type: ignore[arg-type]
        self.loop = asyncio.get_running_loop()
        self.client: list[Any] | None = ["127.0.0.1", 5000]
        self.server: list[Any] | None = ["127.0.0.1", 8000]
        self.peer = "127.0.0.1:5000"
        self.scheme = "http"
        self.scope_extras: dict[str, Any] = {}


class FakeHTTPWriter:
    """An :class:`HTTPWriter` that records calls; framing is a chunked-like stand-in."""

    def __init__(self) -> None:
        self.paused = False
        self.closing = False
        self.calls: list[tuple[Any, ...]] = []
        self.invalid: str | None = None  # respond() refuses the head with this
        self.has_body = True  # open_ended()

    def respond(
        self, status: int, headers: Any, trailers: bool, length: int | None, final: bool
    ) -> Refusal | None:
        if self.invalid is not None:
            return Refusal(500, self.invalid)
        self.calls.append(("respond", status, length, final))
        return None

    def flush(self) -> None:
        self.calls.append(("flush",))

    def data(self, body: bytes, final: bool) -> int:
        self.calls.append(("data", body, final))
        return len(body)

    def room(self, nbytes: int) -> int:
        return nbytes

    def trailers(self, headers: Any) -> Refusal | None:
        self.calls.append(("trailers", headers))
        return None

    def cut(self) -> None:
        self.calls.append(("cut",))

    def open_ended(self) -> bool:
        return self.has_body

    def reply(self, status: int, message: str, extra: Any) -> int:
        self.calls.append(("reply", status, message, extra))
        return len(message)

    def end(self) -> None:
        self.calls.append(("end",))

    def abort(self) -> None:
        self.calls.append(("abort",))

    def blocked(self) -> bool:
        return self.paused or self.closing

    def buffered(self) -> int:
        return 0

    def send_continue(self) -> None:
        self.calls.append(("continue",))

    def resume_input(self) -> None:
        self.calls.append(("resume_input",))


class FakeWSWriter(FakeHTTPWriter):
    """A :class:`WSWriter` that records calls (frames as ``("send", bytes)``)."""

    def __init__(self) -> None:
        super().__init__()
        self.input_paused = False

    def accept(
        self, subprotocol: str | None, extensions: bytes | None, headers: Any
    ) -> Refusal | None:
        self.calls.append(("accept", subprotocol, extensions))
        return None

    def send(self, data: bytes | bytearray) -> None:
        self.calls.append(("send", bytes(data)))

    def pause_input(self) -> None:
        self.input_paused = True
        self.calls.append(("pause_input",))

    def resume_input(self) -> None:
        self.input_paused = False
        self.calls.append(("resume_input",))

    def half_close(self) -> bool:
        self.calls.append(("half_close",))
        return True

    def close(self) -> None:
        self.calls.append(("close",))
