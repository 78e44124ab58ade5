"""A websocket scope on the front's side of the link: the inbound window and
queue, and the link's rules for the scope's events.
"""

from __future__ import annotations

from typing import Any

import pytest
from pagi.frontend.link.io import LinkViolation
from pagi.frontend.link.ws_scope import WSLinkScope
from pagi.frontend.websocket.inbound import InboundFlow
from pagi.protocol import Event

# --- inbound window -------------------------------------------------------------------


def test_inbound_flow_forwards_within_the_window_and_queues_the_rest() -> None:
    sent: list[tuple[Any, bool]] = []
    flow = InboundFlow(lambda data, more: sent.append((data, more)), 10, 100)
    flow.push("abc", True)
    flow.push("def", False)  # joined with its first piece
    assert sent == [("abcdef", False)] and flow.window == 4
    flow.push(b"0123456789", False)
    assert sent[-1] == (b"0123", True) and flow.pending_size == 6 and flow.blocked
    flow.push(b"xy", True)
    flow.flush()
    assert flow.pending_size == 8
    flow.credit(7)
    assert sent[-2:] == [(b"456789", False), (b"x", True)]
    assert flow.pending_size == 1 and flow.window == 0
    flow.drop_partial()  # the unfinished b"xy" message
    assert flow.pending_size == 0
    assert flow.complete_units == 16 and flow.credited == 7 and not flow.all_consumed
    flow.credit(9)
    assert flow.all_consumed


def test_inbound_flow_held_for_a_move_then_rebased_on_the_new_worker() -> None:
    sent: list[tuple[Any, bool]] = []
    flow = InboundFlow(lambda data, more: sent.append((data, more)), 10, 100)
    flow.push("ab", False)
    flow.hold()
    flow.push("", False)  # even an empty message waits
    flow.push("cdefgh", False)
    flow.push("ij", True)
    flow.flush()
    assert sent == [("ab", False)] and flow.blocked and flow.pending_size == 8
    flow.rebase(5)  # the new worker's window
    assert sent[1:] == [("", False), ("cdefg", True)]
    assert flow.credited == 0 and flow.complete_units == 6 and flow.window == 0
    flow.credit(10)
    assert sent[3:] == [("h", False), ("ij", True)] and flow.window == 7


def test_inbound_flow_overflow() -> None:
    flow = InboundFlow(lambda data, more: None, 0, 5)
    flow.push(b"123456", False)
    assert flow.overflowed


# --- link rules ------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        return lambda *args: self.calls.append((name, args))


def ev(code: Event, *fields: Any) -> list[Any]:
    return [5, 1, int(code), *fields]


def test_link_scope_accepts_a_normal_session() -> None:
    handler = Recorder()
    scope = WSLinkScope(handler, 10)
    scope.on_event(1, Event.WS_KEEPALIVE, ev(Event.WS_KEEPALIVE, 1.0, None), -1)
    scope.on_event(1, Event.WS_ACCEPT, ev(Event.WS_ACCEPT, None, []), -1)
    scope.on_event(1, Event.WS_SEND, ev(Event.WS_SEND, "abc", True), -1)
    scope.on_event(1, Event.WS_SEND, ev(Event.WS_SEND, "de", False), -1)
    scope.on_event(1, Event.WS_CLOSE, ev(Event.WS_CLOSE, 1000, ""), -1)
    assert [name for name, _ in handler.calls] == [
        "on_ws_keepalive",
        "on_ws_accept",
        "on_ws_send",
        "on_ws_send",
        "on_ws_close",
    ]
    assert scope.window == 5


@pytest.mark.parametrize(
    "events",
    [
        [ev(Event.WS_SEND, "x", False)],  # before accept
        [ev(Event.WS_ACCEPT, None, []), ev(Event.WS_ACCEPT, None, [])],
        [ev(Event.WS_ACCEPT, None, []), ev(Event.WS_SEND, "x" * 11, False)],  # over the window
        [
            ev(Event.WS_ACCEPT, None, []),
            ev(Event.WS_SEND, "x", True),
            ev(Event.WS_SEND, b"y", False),
        ],
        [ev(Event.WS_ACCEPT, None, []), ev(Event.HTTP_RESPONSE_START, 200, [], False)],
        [ev(Event.WS_CLOSE, 1000, ""), ev(Event.WS_ACCEPT, None, [])],
        [ev(Event.HTTP_RESPONSE_START, 401, [], True)],  # trailers on a denial
        [ev(Event.HTTP_RESPONSE_BODY, b"", False)],
        [ev(Event.HTTP_RESPONSE_TRAILERS, [])],
    ],
)
def test_link_scope_violations(events: list[list[Any]]) -> None:
    scope = WSLinkScope(Recorder(), 10)
    with pytest.raises(LinkViolation):
        for msg in events:
            scope.on_event(1, msg[2], msg, -1)


def test_link_scope_denial() -> None:
    handler = Recorder()
    scope = WSLinkScope(handler, 10)
    scope.on_event(1, Event.HTTP_RESPONSE_START, ev(Event.HTTP_RESPONSE_START, 401, [], False), -1)
    scope.on_event(1, Event.HTTP_RESPONSE_BODY, ev(Event.HTTP_RESPONSE_BODY, b"no", False), -1)
    assert [name for name, _ in handler.calls] == ["on_response_start", "on_response_body"]
    with pytest.raises(LinkViolation):
        scope.on_event(1, Event.WS_ACCEPT, ev(Event.WS_ACCEPT, None, []), -1)
