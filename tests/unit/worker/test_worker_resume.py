"""The worker's part in resumption (docs/resume.md): the app's resume keys and
events, and WS_MOVE, in-process with a recording link."""

from __future__ import annotations

from typing import Any

import pytest
from pagi.protocol import BodyMode, Event, LinkError
from pagi.protocol import messages as m
from pagi.protocol.kinds import EVENT
from pagi.protocol.messages import EVENTS_FROM_FRONT, EVENTS_FROM_WORKER, FROM_FRONT, FROM_WORKER
from pagi.protocol.resume import MAX_STATE
from pagi.worker.http_events import InvalidEvent, UnexpectedEvent
from pagi.worker.interface import PAGI_INTERFACE
from pagi.worker.sse_scope import SSEScope
from pagi.worker.websocket_scope import WebSocketScope
from worker_doubles import StubSession, run

OFFER = {"extensions": {"pagi.resume": {"attempt": 0, "state": None}}}


def ws_scope(extras: dict[str, Any]) -> tuple[WebSocketScope, StubSession]:
    session = StubSession(interface=PAGI_INTERFACE)
    msg = m.open_scope(
        5, "websocket", "1.1", "GET", "ws", b"/ws", b"", [], None, None, extras, BodyMode.NONE
    )
    return WebSocketScope(session, msg), session  # type: ignore[arg-type]


def events(session: StubSession) -> list[list[Any]]:
    out = [msg[2:] for msg in session.link.sent if msg[0] == m.Kind.EVENT]
    session.link.sent.clear()
    return out


def test_accept_with_resume_on_an_offering_scope_is_movable() -> None:
    async def main() -> None:
        scope, session = ws_scope(OFFER)
        assert scope.scope["extensions"]["pagi.resume"] == {"attempt": 0, "state": None}
        await scope.receive()
        await scope.send({"type": "websocket.accept", "pagi.resume": True})
        assert [e[0] for e in events(session)] == [Event.WS_ACCEPT, Event.WS_RESUMABLE]
        await scope.send({"type": "pagi.resume.state", "state": b"7"})
        assert events(session) == [[Event.WS_RESUME_STATE, b"7"]]

    run(main)


def test_without_the_offer_or_the_key_the_connection_is_not_movable() -> None:
    async def main() -> None:
        for extras, accept in (({}, True), (OFFER, None), (OFFER, False)):
            scope, session = ws_scope(extras)
            await scope.receive()
            await scope.send({"type": "websocket.accept", "pagi.resume": accept})
            assert [e[0] for e in events(session)] == [Event.WS_ACCEPT]
            with pytest.raises(UnexpectedEvent, match=r"not accepted with 'pagi\.resume': True"):
                await scope.send({"type": "pagi.resume.state", "state": b""})

    run(main)


@pytest.mark.parametrize(
    ("event", "match"),
    [
        ({"type": "websocket.accept", "pagi.resume": "yes"}, r"'pagi\.resume' must be a bool"),
        ({"type": "pagi.resume.state", "state": "text"}, "'state' must be bytes"),
        ({"type": "pagi.resume.state", "state": b"x" * (MAX_STATE + 1)}, "at most 4096"),
    ],
)
def test_bad_resume_keys_raise_naming_the_key(event: dict[str, Any], match: str) -> None:
    async def main() -> None:
        scope, _session = ws_scope(OFFER)
        await scope.receive()
        if event["type"] != "websocket.accept":
            await scope.send({"type": "websocket.accept", "pagi.resume": True})
        with pytest.raises(InvalidEvent, match=match):
            await scope.send(event)

    run(main)


def test_a_state_token_of_exactly_the_limit_is_taken() -> None:
    async def main() -> None:
        scope, session = ws_scope(OFFER)
        await scope.receive()
        await scope.send({"type": "websocket.accept", "pagi.resume": True})
        events(session)
        await scope.send({"type": "pagi.resume.state", "state": b"x" * MAX_STATE})
        assert events(session) == [[Event.WS_RESUME_STATE, b"x" * MAX_STATE]]

    run(main)


def test_ws_move_delivers_held_messages_then_disconnect_1012_moved() -> None:
    async def main() -> None:
        scope, session = ws_scope(OFFER)
        await scope.receive()
        await scope.send({"type": "websocket.accept", "pagi.resume": True})
        scope.on_ws_event([m.Kind.EVENT, 5, Event.WS_RECEIVE, "a", False])
        scope.on_ws_event([m.Kind.EVENT, 5, Event.WS_MOVE])
        assert (await scope.receive())["text"] == "a"
        await scope.send({"type": "websocket.send", "text": "reply to a"})  # still goes out
        assert await scope.receive() == {
            "type": "websocket.disconnect",
            "code": 1012,
            "reason": "moved",
        }
        events(session)
        await scope.send({"type": "websocket.send", "text": "dropped"})
        await scope.send({"type": "pagi.resume.state", "state": b"1"})
        assert events(session) == [[Event.WS_RESUME_STATE, b"1"]]
        assert scope.scope["pagi.connection"].is_connected() is False

    run(main)


def test_sse_start_may_refuse_resumption() -> None:
    async def main() -> None:
        session = StubSession()
        msg = m.open_scope(
            3, "sse", "1.1", "GET", "http", b"/e", b"", [], None, None, {}, BodyMode.NONE
        )
        scope = SSEScope(session, msg)  # type: ignore[arg-type]
        await scope.send({"type": "sse.start", "pagi.resume": False})
        assert [e[0] for e in events(session)] == [Event.HTTP_RESPONSE_START, Event.SSE_NO_RESUME]
        with pytest.raises(InvalidEvent, match=r"'pagi\.resume' must be a bool"):
            await SSEScope(session, msg).send({"type": "sse.start", "pagi.resume": 0})  # type: ignore[arg-type]

    run(main)


def test_the_link_validates_the_new_events_in_their_direction() -> None:
    m.validate(
        [EVENT, 1, int(Event.WS_RESUME_STATE), b"x" * MAX_STATE], FROM_WORKER, EVENTS_FROM_WORKER
    )
    m.validate([EVENT, 1, int(Event.SSE_NO_RESUME)], FROM_WORKER, EVENTS_FROM_WORKER)
    m.validate([EVENT, 1, int(Event.WS_MOVE)], FROM_FRONT, EVENTS_FROM_FRONT)
    with pytest.raises(LinkError, match="WS_RESUME_STATE"):
        m.validate(
            [EVENT, 1, int(Event.WS_RESUME_STATE), b"x" * (MAX_STATE + 1)],
            FROM_WORKER,
            EVENTS_FROM_WORKER,
        )
    with pytest.raises(LinkError, match="unexpected event code"):
        m.validate([EVENT, 1, int(Event.WS_MOVE)], FROM_WORKER, EVENTS_FROM_WORKER)
