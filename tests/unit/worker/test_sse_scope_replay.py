"""Apps that do not speak the sse scope: the worker replays the request to them as http.

In-process (real processes: integration/test_sse_asgi_replay.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pagi.protocol import BodyMode
from pagi.protocol.kinds import (
    END,
)
from pagi.worker import sse_verdict
from pagi.worker.http_scope import HTTPScope
from pagi.worker.sse_scope import SSEScope, open_sse_scope
from sse_scope_doubles import NoFilesLink, make, open_msg
from worker_doubles import StubSession, run

# --- apps that do not speak the sse scope ---------------------------------------------------


def starlette_like() -> Callable[..., Awaitable[None]]:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])
        assert scope["type"] in ("http", "websocket", "lifespan")
        message = await receive()
        assert message["type"] == "http.request"
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        await send({"type": "http.response.body", "body": b"data: plain\n\n"})

    app.seen = seen  # type: ignore[attr-defined]
    return app


def test_an_app_that_raises_on_sse_is_replayed_as_http(caplog: pytest.LogCaptureFixture) -> None:
    app = starlette_like()

    async def main() -> None:
        scope, session = make(app, replay=True)
        with caplog.at_level(logging.INFO, "pagi.worker"):
            await scope.run()
        assert app.seen == ["sse", "http"]  # type: ignore[attr-defined]
        assert scope.scope["type"] == "http"
        assert scope.scope["extensions"] == {}  # a PAGI worker: trailers etc. are native
        assert session.starts()[0][3] == 200
        assert session.bodies() == [(b"data: plain\n\n", False)]
        assert session.ends() == [[END, 3, 0, True, ""]]
        assert sse_verdict.app_verdict(app) == sse_verdict.HTTP_ONLY
        lines = [
            r.getMessage() for r in caplog.records if "does not handle 'sse'" in r.getMessage()
        ]
        assert len(lines) == 1 and "AssertionError" in lines[0]
        # from now on the worker opens plain http scopes for this app
        session2 = StubSession(app, link=NoFilesLink())
        later = open_sse_scope(session2, open_msg(), "auto")  # type: ignore[arg-type]
        assert type(later) is HTTPScope and later.scope["type"] == "http"

    run(main)


def test_replay_delivers_the_request_body_again() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"cannot handle {scope['type']}")
        message = await receive()
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": message["body"]})

    async def main() -> None:
        scope, session = make(app, body_mode=BodyMode.STREAM, replay=True)
        scope.on_request_body(b"payload", False)
        await scope.run()
        assert session.bodies() == [(b"payload", False)]

    run(main)


def test_an_app_that_returns_without_responding_is_replayed() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":  # a framework that ignores unknown scope types
            await send({"type": "http.response.start", "status": 200})
            await send({"type": "http.response.body", "body": b"ok"})

    async def main() -> None:
        scope, session = make(app, replay=True)
        await scope.run()
        assert session.bodies() == [(b"ok", False)]

    run(main)


def test_an_app_that_sends_http_events_on_sse_is_replayed() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:  # never looks at the type
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"ok"})

    async def main() -> None:
        scope, session = make(app, replay=True)
        await scope.run()
        assert session.bodies() == [(b"ok", False)]
        assert session.ends() == [[END, 3, 0, True, ""]]

    run(main)


def test_no_replay_once_the_app_spoke_sse() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "sse.send", "data": "x"})  # before sse.start: raises

    async def main() -> None:
        scope, session = make(app, replay=True)
        await scope.run()
        assert session.ends() == [
            [END, 3, 1, False, "UnexpectedEvent: sse.send: sse.start has not been sent"]
        ]
        assert sse_verdict.app_verdict(app) == sse_verdict.SPEAKS_SSE
        later = open_sse_scope(StubSession(app), open_msg(), "auto")  # type: ignore[arg-type]
        assert isinstance(later, SSEScope) and not later._replay

    run(main)


def test_no_replay_after_body_was_consumed() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        raise RuntimeError("after reading")

    async def main() -> None:
        scope, session = make(app, body_mode=BodyMode.STREAM, replay=True)
        scope.on_request_body(b"x", False)
        await scope.run()
        assert session.ends() == [[END, 3, 1, False, "RuntimeError: after reading"]]
        assert sse_verdict.app_verdict(app) == sse_verdict.UNKNOWN

    run(main)


def test_modes_on_and_off() -> None:
    app = starlette_like()

    async def main() -> None:
        off = open_sse_scope(StubSession(app), open_msg(), "off")  # type: ignore[arg-type]
        assert type(off) is HTTPScope and off.scope["type"] == "http"
        on = open_sse_scope(StubSession(app), open_msg(), "on")  # type: ignore[arg-type]
        assert isinstance(on, SSEScope) and not on._replay
        session = on.session
        await on.run()  # "on" never replays: the AssertionError is the app's error
        assert session.ends()[0][2:4] == [1, False]  # type: ignore[attr-defined]
        assert app.seen == ["sse"]  # type: ignore[attr-defined]

    run(main)
