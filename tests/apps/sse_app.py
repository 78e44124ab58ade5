"""A native PAGI app with sse routes, chosen by path: the SSE integration tests' subject.

Routes that observe something the client cannot see (a disconnect reason, a
validation error, progress under backpressure) write it to the file named by
the ``out`` query parameter, one line per fact, so the test can read it even
after the front has gone.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any
from urllib.parse import parse_qs


def _query(scope: dict[str, Any]) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}


def _note(q: dict[str, str], line: str) -> None:
    if "out" in q:
        with open(q["out"], "a") as f:
            f.write(line + "\n")


async def _start(send: Any, **kw: Any) -> None:
    await send({"type": "sse.start", **kw})


async def _event(send: Any, data: str, **kw: Any) -> None:
    await send({"type": "sse.send", "data": data, **kw})


async def _close(send: Any) -> None:
    await send({"type": "sse.close"})


# The invalid events of /validate, each with what makes it invalid.
INVALID: list[dict[str, Any]] = [
    {"type": "sse.send", "data": b"bytes"},
    {"type": "sse.send", "data": 7},
    {"type": "sse.send", "data": "x", "event": "a\nb"},
    {"type": "sse.send", "data": "x", "event": "a\rb"},
    {"type": "sse.send", "data": "x", "id": "1\n"},
    {"type": "sse.send", "data": "x", "id": "1\r2"},
    {"type": "sse.send", "data": "x", "id": "1\x002"},
    {"type": "sse.send", "data": "x", "retry": -1},
    {"type": "sse.send", "data": "x", "retry": 1.5},
    {"type": "sse.send", "data": "x", "retry": True},
    {"type": "sse.send", "data": "x", "retry": "100"},
    {"type": "sse.comment", "comment": b"x"},
    {"type": "sse.keepalive", "interval": -1},
    {"type": "sse.keepalive", "interval": 1, "comment": "two\nlines"},
    {"type": "sse.start"},  # already started
    {"type": "http.response.start", "status": 404},  # first send wins
    {"type": "http.response.body", "body": b"x"},
    {"type": "sse.http.response.start", "status": 200},  # removed in PAGI 0.6
]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    q = _query(scope)
    path = scope["path"]
    if scope["type"] == "http":
        await _http(scope, receive, send, path, q)
        return
    assert scope["type"] == "sse", scope["type"]

    if path == "/wire":  # every field and both comment forms, exact bytes
        await _start(send, headers=[(b"x-test", b"1")])
        await _event(send, "hello")
        await _event(send, "line1\nline2\r\nline3\rline4", event="multi", id="7", retry=1500)
        await _event(send, "")
        await _event(send, "x", id="")
        await send({"type": "sse.send", "retry": 0})
        await send({"type": "sse.comment", "comment": "note"})
        await send({"type": "sse.comment", "comment": "a\nb"})
        await _event(send, "ünïcödé ☃")
        await _close(send)
        await _close(send)  # idempotent
    elif path == "/scope":  # what the app saw, as one event
        info = {
            "type": scope["type"],
            "method": scope["method"],
            "path": scope["path"],
            "http_version": scope["http_version"],
            "headers": [[n.decode("latin-1"), v.decode("latin-1")] for n, v in scope["headers"]],
            "extensions": sorted(scope["extensions"]),
            "has_connection": "pagi.connection" in scope,
            "has_transport": "pagi.transport" in scope,
            "first": await receive(),
        }
        info["first"]["body"] = info["first"]["body"].decode("latin-1")
        await _start(send)
        await _event(send, json.dumps(info))
        await send({"type": "sse.close"})
    elif path == "/post":  # a POST-driven stream: one event per body piece, then done
        await _start(send)
        total = 0
        while True:
            message = await receive()
            assert message["type"] == "sse.request", message
            total += len(message["body"])
            if message["body"]:
                await _event(send, message["body"].decode(), event="piece")
            if not message["more"]:
                break
        await _event(send, str(total), event="done")
        await _close(send)
    elif path == "/keepalive":  # idle, event, idle, close
        await _start(send)
        await send(
            {
                "type": "sse.keepalive",
                "interval": float(q.get("interval", "0.2")),
                "comment": q.get("comment", ""),
            }
        )
        await asyncio.sleep(float(q.get("idle", "0.5")))
        await _event(send, "tick")
        await asyncio.sleep(float(q.get("idle2", "0")))
        if "off" in q:
            await send({"type": "sse.keepalive", "interval": 0})
            await asyncio.sleep(float(q["off"]))
        await _close(send)
    elif path == "/busy":  # events more often than the keepalive interval: no comments
        await _start(send)
        await send({"type": "sse.keepalive", "interval": 0.3})
        for i in range(int(q.get("n", "10"))):
            await _event(send, str(i))
            await asyncio.sleep(0.1)
        await _close(send)
    elif path == "/validate":  # each invalid event raises and writes nothing
        await _start(send)
        for bad in INVALID:
            try:
                await send(bad)
            except Exception as exc:  # report what the app would see
                await _event(send, f"{type(exc).__name__}: {exc}", event="error")
            else:
                await _event(send, "accepted?!", event="error")
        await _close(send)
        for bad in (
            {"type": "sse.send", "data": "late"},
            {"type": "sse.comment", "comment": "late"},
            {"type": "sse.keepalive", "interval": 1},
        ):
            try:
                await send(bad)
            except Exception as exc:
                _note(q, f"{type(exc).__name__}: {exc}")
    elif path == "/before-start":  # stream events before sse.start
        errors = []
        for bad in (
            {"type": "sse.send", "data": "x"},
            {"type": "sse.comment", "comment": "x"},
            {"type": "sse.keepalive", "interval": 1},
            {"type": "sse.close"},
            {"type": "http.response.body", "body": b"x"},
        ):
            try:
                await send(bad)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
        await _start(send)
        for line in errors:
            await _event(send, line, event="error")
        await _close(send)
    elif path == "/decline":
        status = int(q.get("status", "204"))
        body = q.get("body", "").encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"text/plain"), (b"x-declined", b"yes")],
            }
        )
        await send({"type": "http.response.body", "body": body})
        try:
            await _start(send)
        except Exception as exc:
            _note(q, f"{type(exc).__name__}: {exc}")
        try:
            await _event(send, "x")
        except Exception as exc:
            _note(q, f"{type(exc).__name__}: {exc}")
    elif path == "/disconnect":  # only sends; a side task waits for sse.disconnect
        connection = scope["pagi.connection"]
        connection.on_disconnect(lambda reason: _note(q, f"on_disconnect {reason}"))

        async def watch() -> None:
            message = await receive()  # the empty GET body
            message = await receive()
            _note(q, f"{message['type']} {message['reason']}")

        watcher = asyncio.ensure_future(watch())
        await _start(send)
        _note(q, "started")
        i = 0
        while connection.is_connected():
            await _event(send, str(i))
            i += 1
            await asyncio.sleep(0.02)
        _note(q, f"stopped is_connected={connection.is_connected()}")
        await asyncio.wait_for(watcher, 5)
    elif path == "/die":
        await _start(send)
        await _event(send, "bye")
        await asyncio.sleep(float(q.get("after", "0.2")))
        os._exit(1)
    elif path == "/raise":
        await _start(send)
        await _event(send, "before")
        await asyncio.sleep(0.05)
        raise RuntimeError("boom mid-stream")
    elif path == "/return":  # returns after events without sse.close
        await _start(send)
        await _event(send, "only")
    elif path == "/nothing":  # returns without sending: a 500
        return
    elif path == "/flood":  # backpressure: send 4 KiB events as fast as send() allows
        transport = scope["pagi.transport"]
        transport.set_water_marks(high=32 * 1024, low=8 * 1024)
        transport.on_high_water(lambda: _note(q, f"high {transport.buffered_amount()}"))
        transport.on_drain(lambda: _note(q, f"drain {transport.buffered_amount()}"))
        await _start(send)
        payload = "x" * 4090
        for i in range(int(q.get("n", "200"))):
            await _event(send, payload)
            _note(q, f"sent {i}")
        await _close(send)
        _note(q, "closed")
    else:
        await send({"type": "http.response.start", "status": 404})
        await send({"type": "http.response.body", "body": b"no such stream"})


async def _http(
    scope: dict[str, Any], receive: Any, send: Any, path: str, q: dict[str, str]
) -> None:
    body = json.dumps({"type": scope["type"], "path": path}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})
