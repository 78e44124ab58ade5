"""An :class:`~pagi.frontend.http2.listener.H2Listener` that records what the engine says.

For tests that drive :class:`~pagi.frontend.http2.core.H2Core` without the
connection shell: every call is kept as a tuple in :attr:`Recorder.calls`,
and the request side is gathered per stream (:attr:`Recorder.requests`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

Fields = list[tuple[bytes, bytes]]


@dataclass
class Request:
    """What one stream's client sent, as the engine passed it on."""

    fields: Fields
    body: bytearray = field(default_factory=bytearray)
    ended: bool = False
    trailers: Fields | None = None


class Recorder:
    """Records the engine's calls; consumes nothing unless ``consume`` is set."""

    def __init__(self, consume: bool = False) -> None:
        self.calls: list[tuple[object, ...]] = []
        self.requests: dict[int, Request] = {}
        self.resets: dict[int, int] = {}
        self.goaway: tuple[int, int] | None = None
        self.consume = consume
        self.core: object = None  # set by the test when ``consume`` is on

    def on_request(self, sid: int, fields: Fields, ended: bool) -> None:
        self.calls.append(("request", sid, fields, ended))
        self.requests[sid] = Request(list(fields), ended=ended)

    def on_data(self, sid: int, data: bytes, ended: bool) -> None:
        self.calls.append(("data", sid, data, ended))
        request = self.requests[sid]
        request.body += data
        request.ended = ended
        if self.consume and data:
            self.core.consumed(sid, len(data))  # type: ignore[attr-defined]

    def on_trailers(self, sid: int, fields: Fields) -> None:
        self.calls.append(("trailers", sid, fields))
        request = self.requests[sid]
        request.trailers = list(fields)
        request.ended = True

    def on_reset(self, sid: int, code: int) -> None:
        self.calls.append(("reset", sid, code))
        self.resets[sid] = code

    def on_window(self, sid: int) -> None:
        self.calls.append(("window", sid))

    def on_goaway(self, code: int, last_stream: int) -> None:
        self.calls.append(("goaway", code, last_stream))
        self.goaway = (code, last_stream)

    def of(self, kind: str) -> list[tuple[object, ...]]:
        """The calls of one kind (``"request"``, ``"data"``, ``"reset"``...)."""
        return [c for c in self.calls if c[0] == kind]
