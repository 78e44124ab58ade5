"""A PAGI app for the end-to-end WebSocket tests (tests/integration/test_websocket*.py).

WebSocket routes (the path picks the behaviour; the query string tunes it):

* ``/echo`` — accept (choosing the first offered subprotocol, or
  ``?subprotocol=``), echo every message back as it came (text or bytes);
  ``?headers=1`` adds ``x-extra: yes`` to the 101.
* ``/deny`` — ``websocket.close`` before accept (the front answers 403).
* ``/deny401`` — a ``websocket.http.response`` 401 with ``www-authenticate``.
* ``/close?code=&reason=`` — accept, then close with that code and reason
  (then send once more, which must be a no-op).
* ``/return`` / ``/raise`` — accept, then return / raise.
* ``/keepalive?interval=&timeout=`` — accept, ask for server pings, wait.
* ``/noread`` — accept, never receive; waits until the connection is gone
  (it polls ``pagi.transport``-free: a cancelled task at shutdown is fine).
* ``/slowread?delay=`` — accept, then receive one message per ``delay`` s.
* ``/sender?count=&size=`` — accept, send ``count`` binary messages of
  ``size`` bytes and record how long the sends took and what
  ``pagi.transport`` reported (peak ``buffered_amount``, water-mark callbacks).
* ``/stall`` — accept, never answer anything (for the handshake timeout).

Set ``WS_E2E_LOG`` to a file to have every recorded disconnect appended to it
as a JSON line as well. HTTP routes: ``/events`` returns (and ``/events?clear=1`` also clears) what
the WebSocket routes recorded (disconnect codes and reasons, send timings),
as JSON; ``/page`` serves the browser test page.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any
from urllib.parse import parse_qs

EVENTS: list[dict[str, Any]] = []

PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>ws test</title></head>
<body><pre id="log"></pre>
<script>
const result = {opened: false, echoes: [], binary: null, closeCode: null, protocol: null};
window.wsResult = result;
const ws = new WebSocket(
  (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/echo",
  ["chat.v2", "chat.v1"]);
ws.binaryType = "arraybuffer";
ws.onopen = () => {
  result.opened = true;
  result.protocol = ws.protocol;
  result.extensions = ws.extensions;
  ws.send("hello from the browser");
  ws.send("\\u00e9t\\u00e9 \\u2603 \\ud83d\\ude00");
  ws.send(new Uint8Array([0, 1, 2, 250, 255]).buffer);
};
ws.onmessage = (ev) => {
  if (typeof ev.data === "string") {
    result.echoes.push(ev.data);
  } else {
    result.binary = Array.from(new Uint8Array(ev.data));
    ws.close(4001, "done");
  }
};
ws.onclose = (ev) => { result.closeCode = ev.code; result.done = true; };
ws.onerror = () => { result.error = true; };
</script></body></html>
"""


def _query(scope: dict[str, Any]) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(scope["query_string"].decode()).items()}


async def _wait_disconnect(receive: Any) -> dict[str, Any]:
    while True:
        event = await receive()
        if event["type"] == "websocket.disconnect":
            return event


def _record(path: str, event: dict[str, Any], **more: Any) -> None:
    entry = {"path": path, "code": event.get("code"), "reason": event.get("reason"), **more}
    EVENTS.append(entry)
    log = os.environ.get("WS_E2E_LOG")
    if log:  # for tests that stop the front, which then cannot ask /events
        with open(log, "a") as f:
            f.write(json.dumps(entry) + "\n")


async def websocket(scope: dict[str, Any], receive: Any, send: Any) -> None:
    path = scope["path"]
    query = _query(scope)
    connect = await receive()
    assert connect["type"] == "websocket.connect"

    if path == "/deny":
        await send({"type": "websocket.close"})
        return
    if path == "/deny401":
        await send(
            {
                "type": "websocket.http.response.start",
                "status": 401,
                "headers": [(b"www-authenticate", b'Bearer realm="ws"'), (b"x-app", b"1")],
            }
        )
        await send({"type": "websocket.http.response.body", "body": b"who are you?"})
        return
    if path == "/stall":
        await asyncio.sleep(3600)
        return

    subprotocol = query.get("subprotocol")
    if subprotocol is None and scope["subprotocols"]:
        subprotocol = scope["subprotocols"][0]
    headers = [(b"x-extra", b"yes")] if query.get("headers") else []
    await send({"type": "websocket.accept", "subprotocol": subprotocol, "headers": headers})

    if path == "/echo":
        while True:
            event = await receive()
            if event["type"] == "websocket.disconnect":
                _record(path, event)
                return
            if event.get("text") is not None:
                await send({"type": "websocket.send", "text": event["text"]})
            else:
                await send({"type": "websocket.send", "bytes": event["bytes"]})
    elif path == "/close":
        await send(
            {
                "type": "websocket.close",
                "code": int(query.get("code", "1000")),
                "reason": query.get("reason", ""),
            }
        )
        await send({"type": "websocket.send", "text": "after close: a no-op"})
        _record(path, await _wait_disconnect(receive))
        await send({"type": "websocket.send", "text": "after disconnect: a no-op"})
    elif path == "/return":
        return
    elif path == "/raise":
        raise RuntimeError("the app failed on purpose")
    elif path == "/keepalive":
        timeout = query.get("timeout")
        await send(
            {
                "type": "websocket.keepalive",
                "interval": float(query.get("interval", "0.2")),
                "timeout": float(timeout) if timeout else None,
            }
        )
        _record(path, await _wait_disconnect(receive))
    elif path == "/noread":
        EVENTS.append({"path": path, "accepted": True})
        while True:
            await asyncio.sleep(3600)
    elif path == "/slowread":
        delay = float(query.get("delay", "0.05"))
        count = 0
        while True:
            event = await receive()
            if event["type"] == "websocket.disconnect":
                _record(path, event, messages=count)
                return
            count += 1
            await asyncio.sleep(delay)
    elif path == "/scope":  # what the scope says about the connection, as one message
        info = {
            "http_version": scope["http_version"],
            "scheme": scope["scheme"],
            "has_tls": "tls" in scope.get("extensions", {}),
        }
        await send({"type": "websocket.send", "text": json.dumps(info)})
        _record(path, await _wait_disconnect(receive))
    elif path == "/sender":
        count = int(query.get("count", "64"))
        payload = b"s" * int(query.get("size", str(1024 * 1024)))
        transport = scope["pagi.transport"]
        marks = {"high": 0, "drain": 0, "peak": 0}
        transport.on_high_water(lambda: marks.__setitem__("high", marks["high"] + 1))
        transport.on_drain(lambda: marks.__setitem__("drain", marks["drain"] + 1))
        started = time.monotonic()
        for _ in range(count):
            await send({"type": "websocket.send", "bytes": payload})
            marks["peak"] = max(marks["peak"], transport.buffered_amount())
        EVENTS.append({"path": path, "send_seconds": time.monotonic() - started, **marks})
        _record(path, await _wait_disconnect(receive))


async def http(scope: dict[str, Any], receive: Any, send: Any) -> None:
    query = _query(scope)
    if scope["path"] == "/page":
        body, ctype = PAGE, b"text/html; charset=utf-8"
    elif scope["path"] == "/events":
        body, ctype = json.dumps(EVENTS).encode(), b"application/json"
        if query.get("clear"):
            EVENTS.clear()
    else:
        body, ctype = b"not found", b"text/plain"
    await send(
        {
            "type": "http.response.start",
            "status": 200 if ctype != b"text/plain" else 404,
            "headers": [(b"content-type", ctype)],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await websocket(scope, receive, send)
    elif scope["type"] == "http":
        await http(scope, receive, send)
    elif scope["type"] == "lifespan":
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    else:
        raise RuntimeError(f"unsupported scope type {scope['type']}")


#: Written the ASGI way (close before accept = 403, websocket.http.response.*).
app.__pagi_interface__ = "asgi"  # type: ignore[attr-defined]
