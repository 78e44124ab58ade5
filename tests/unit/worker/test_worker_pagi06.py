"""The worker's duties under PAGI Www 0.6, and where ASGI 2.4 differs, in-process:
pagi.connection, sends after a disconnect, body events, sse and --interface auto.

Each test names the rule it checks (docs/spec.md). The scopes write through a
recording link (tests/worker_doubles.py); the real processes are covered by
tests/integration/test_interface.py. Websocket duties: test_worker_pagi06_websocket.py.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from pagi.protocol import Event, Kind
from pagi.worker.connection_state import ConnectionState
from pagi.worker.http_events import ClientDisconnected, InvalidEvent, UnexpectedEvent
from pagi.worker.http_scope import HTTPScope
from pagi.worker.interface import ASGI_INTERFACE, PAGI_INTERFACE, resolve
from pagi.worker.sse_scope import SSEScope
from pagi06_scopes import START, http, open_msg, ws
from worker_doubles import StubSession, run

# --- pagi.connection ------------------------------------------------------------------


def test_abort_is_synchronous_idempotent_and_reports_app_abort() -> None:
    async def main() -> None:
        aborted: list[str | None] = []
        conn = ConnectionState(asyncio.get_running_loop(), aborted.append)
        two: list[Any] = []
        one: list[Any] = []
        conn.on_disconnect(lambda reason, detail: two.append((reason, detail)))
        conn.on_disconnect(one.append)  # written for the one-argument form of PAGI <= 0.5
        conn.on_complete(lambda: two.append("never"))
        conn.abort("quota exceeded")
        assert not conn.is_connected() and aborted == ["quota exceeded"]
        assert conn.disconnect_reason() == "app_abort"
        assert conn.disconnect_detail() == "quota exceeded"
        assert await conn.disconnect_future() == "app_abort"
        assert two == [] and one == []  # never inside the caller: on the loop, right after
        await asyncio.sleep(0)
        assert two == [("app_abort", "quota exceeded")] and one == ["app_abort"]
        conn.abort("again")  # idempotent
        assert aborted == ["quota exceeded"] and conn.disconnect_detail() == "quota exceeded"
        with pytest.raises(TypeError, match="'detail' must be a str or None"):
            ConnectionState().abort(5)  # type: ignore[arg-type]

    run(main)


def test_abort_after_a_clean_end_does_nothing() -> None:
    async def main() -> None:
        aborted: list[str | None] = []
        conn = ConnectionState(asyncio.get_running_loop(), aborted.append)
        conn._set_complete()
        conn.abort("late")
        assert aborted == [] and conn.disconnect_reason() is None
        assert conn.response_complete() is True and conn.response_started() is False

    run(main)


def test_http_abort_tells_the_front_and_ends_the_scope() -> None:
    async def main() -> None:
        scope, session = http()
        await scope.send(START)
        await scope.send({"type": "http.response.body", "body": b"part", "more": True})
        waiter = asyncio.ensure_future(scope.receive())
        await asyncio.sleep(0)
        assert (await waiter)["type"] == "http.request"
        waiter = asyncio.ensure_future(scope.receive())
        await asyncio.sleep(0)
        scope.connection.abort("bad client")
        assert await waiter == {"type": "http.disconnect"}  # a pending receive gets it
        assert session.link.sent[-1] == [Kind.ABORT, 3, "bad client"]
        await scope.send({"type": "http.response.body", "body": b"more"})  # PAGI: a no-op
        assert session.link.sent[-1] == [Kind.ABORT, 3, "bad client"]

    run(main)


def test_pagi_connection_on_every_scope_type() -> None:
    for scope in (http()[0], ws()[0]):
        assert isinstance(scope.scope["pagi.connection"], ConnectionState)
    session = StubSession()
    sse = SSEScope(session, open_msg("sse"))  # type: ignore[arg-type]
    assert isinstance(sse.scope["pagi.connection"], ConnectionState)
    for scope_dict in (http()[0].scope, ws()[0].scope, sse.scope):
        assert scope_dict["pagi"] == {"version": "0.5", "spec_version": "0.6"}
        assert "pagi.transport" in scope_dict


# --- send() after the client is gone: PAGI no-op, ASGI 2.4 raises ------------------------


def test_send_after_disconnect_is_a_no_op_for_pagi_and_raises_for_asgi() -> None:
    async def main() -> None:
        scope, session = http(PAGI_INTERFACE)
        await scope.send(START)
        scope.on_close("client_closed")
        await scope.send({"type": "http.response.body", "body": b"x"})
        assert len(session.link.sent) == 1

        scope, session = http(ASGI_INTERFACE)
        await scope.send(START)
        scope.on_close("client_closed")
        with pytest.raises(ClientDisconnected, match="client has disconnected") as info:
            await scope.send({"type": "http.response.body", "body": b"x"})
        assert isinstance(info.value, OSError)
        with pytest.raises(InvalidEvent):  # still validated first
            await scope.send({"type": "http.response.body", "body": "text"})

    run(main)


def test_a_pending_send_resolves_at_disconnect() -> None:
    async def main() -> None:
        session = StubSession(response_window=4)
        scope = HTTPScope(session, open_msg("http"))  # type: ignore[arg-type]
        await scope.send(START)
        task = asyncio.ensure_future(scope.send({"type": "http.response.body", "body": b"x" * 10}))
        await asyncio.sleep(0.01)
        assert not task.done()
        scope.on_close("client_closed")
        await task  # resolved, not failed

    run(main)


# --- body events --------------------------------------------------------------------


def test_a_file_after_inline_bytes_fails_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"file body")

    async def main() -> None:
        scope, session = http()
        await scope.send(START)
        await scope.send({"type": "http.response.body", "body": b"inline", "more": True})
        sent = len(session.link.sent)
        for event in (
            {"type": "http.response.body", "file": str(path)},
            {"type": "http.response.pathsend", "path": str(path)},
        ):
            with pytest.raises(UnexpectedEvent, match="cannot follow inline body bytes"):
                await scope.send(event)
        assert len(session.link.sent) == sent and session.link.fds == []
        await scope.send({"type": "http.response.body", "body": b" end"})  # still possible
        assert scope.connection.response_complete()

    run(main)


def test_a_failed_file_send_leaves_the_response_as_it_was(tmp_path: Path) -> None:
    async def main() -> None:
        scope, session = http()
        await scope.send(START)
        with pytest.raises(FileNotFoundError):
            await scope.send({"type": "http.response.body", "file": str(tmp_path / "nope")})
        with pytest.raises(InvalidEvent, match="beyond the end"):
            (tmp_path / "small").write_bytes(b"ab")
            await scope.send(
                {"type": "http.response.body", "file": str(tmp_path / "small"), "offset": 5}
            )
        assert not scope.connection.response_complete()
        await scope.send({"type": "http.response.body", "body": b"fallback"})
        assert session.bodies() == [(b"fallback", False)]

    run(main)


def test_fh_body_streams_a_duplicate_and_the_app_keeps_its_file(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_bytes(b"a,b\n1,2\n")

    async def main() -> None:
        scope, session = http()
        await scope.send(START)
        with open(path, "rb") as fh:
            await scope.send({"type": "http.response.body", "fh": fh, "offset": 4})
            assert os.fstat(fh.fileno())  # still open: the app closes it
            (fd,) = session.link.fds
            assert fd != fh.fileno() and os.pread(fd, 100, 0) == b"a,b\n1,2\n"
        assert session.link.sent[-1][2:] == [Event.HTTP_RESPONSE_FILE, 4, None]
        assert scope.connection.response_complete()
        os.close(fd)

    run(main)


def test_at_most_one_payload_key() -> None:
    async def main() -> None:
        scope, session = http()
        await scope.send(START)
        with pytest.raises(InvalidEvent, match="at most one of 'body', 'file' and 'fh'"):
            await scope.send({"type": "http.response.body", "body": b"", "file": "/etc/hostname"})
        assert len(session.link.sent) == 1

    run(main)


def test_trailers_with_content_length_fail_on_http11_only() -> None:
    start = {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-length", b"2")],
        "trailers": True,
    }

    async def main() -> None:
        scope, session = http()
        with pytest.raises(InvalidEvent, match="trailers need chunked framing"):
            await scope.send(start)
        assert session.link.sent == [] and not scope.connection.response_started()
        scope, _ = http(http_version="2")  # HTTP/2 has trailers without chunking
        await scope.send(start)
        scope, _ = http(ASGI_INTERFACE)  # ASGI says nothing: the front drops the length
        await scope.send(start)

    run(main)


# --- sse -----------------------------------------------------------------------------------


def test_sse_disconnect_may_come_before_sse_start() -> None:
    async def main() -> None:
        session = StubSession()
        scope = SSEScope(session, open_msg("sse"))  # type: ignore[arg-type]
        assert (await scope.receive())["type"] == "sse.request"
        scope.on_close("client_closed")
        assert await scope.receive() == {"type": "sse.disconnect", "reason": "client_closed"}
        await scope.send({"type": "sse.start"})  # a no-op now
        assert session.link.sent == []

    run(main)


def test_sse_refusal_with_an_ordinary_http_response() -> None:
    async def main() -> None:
        session = StubSession()
        scope = SSEScope(session, open_msg("sse"))  # type: ignore[arg-type]
        await scope.send({"type": "http.response.start", "status": 401, "headers": []})
        await scope.send({"type": "http.response.body", "body": b"login first"})
        assert session.starts()[0][3] == 401 and session.bodies() == [(b"login first", False)]
        assert scope.connection.response_complete()

    run(main)


# --- --interface auto ------------------------------------------------------------------


def _object_from(module: str) -> Any:
    cls = type("App", (), {"__call__": lambda self, *a: None})
    cls.__module__ = module
    return cls()


def test_interface_resolution() -> None:
    async def raw(scope: Any, receive: Any, send: Any) -> None: ...

    assert resolve("pagi", _object_from("starlette.applications"))[0] is PAGI_INTERFACE
    assert resolve("asgi", raw)[0] is ASGI_INTERFACE
    assert resolve("auto", raw)[0] is PAGI_INTERFACE
    iface, why = resolve("auto", _object_from("fastapi.applications"))
    assert iface is ASGI_INTERFACE and "fastapi" in why
    # middleware of the app's own wrapping a framework app: found through .app
    wrapper = _object_from("mysite.middleware")
    wrapper.app = _object_from("django.core.handlers.asgi")
    assert resolve("auto", wrapper)[0] is ASGI_INTERFACE
    raw.__pagi_interface__ = "asgi"  # type: ignore[attr-defined]
    iface, why = resolve("auto", raw)
    assert iface is ASGI_INTERFACE and "declares __pagi_interface__" in why
    declared_pagi = _object_from("starlette.applications")
    declared_pagi.__pagi_interface__ = "pagi"
    assert resolve("auto", declared_pagi)[0] is PAGI_INTERFACE
