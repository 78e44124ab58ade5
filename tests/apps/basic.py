"""One app, many behaviours, chosen by path: the integration tests' subject."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any
from urllib.parse import parse_qs


def _query(scope: dict[str, Any]) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}


async def _respond(send: Any, status: int, body: bytes, ctype: bytes = b"text/plain") -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionError("client went away")
        chunks.append(message["body"])
        if not message.get("more", message.get("more_body")):
            return b"".join(chunks)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                scope["state"]["counter"] = [0]
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    assert scope["type"] == "http"
    path = scope["path"]
    q = _query(scope)

    if path == "/hello":
        await _respond(send, 200, b"hello")
    elif path.startswith("/scope"):
        info = {
            k: (v.decode("latin-1") if isinstance(v, bytes) else v)
            for k, v in scope.items()
            if k
            in {
                "type",
                "http_version",
                "method",
                "scheme",
                "path",
                "raw_path",
                "query_string",
                "root_path",
                "client",
                "server",
                "pagi",
                "asgi",
            }
        }
        info["path_bytes"] = list(scope["path"].encode("utf-8", "surrogateescape"))
        info["headers"] = [[n.decode("latin-1"), v.decode("latin-1")] for n, v in scope["headers"]]
        info["has_connection"] = "pagi.connection" in scope
        info["has_transport"] = "pagi.transport" in scope
        info["pid"] = os.getpid()
        await _respond(send, 200, json.dumps(info).encode(), b"application/json")
    elif path == "/pid":
        await asyncio.sleep(float(q.get("sleep", "0")))
        await _respond(send, 200, str(os.getpid()).encode())
    elif path == "/echo":
        headers = [(b"content-type", b"application/octet-stream")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            more = message["more"]
            await send({"type": "http.response.body", "body": message["body"], "more": more})
    elif path == "/count":  # consume the body, answer its length
        body_len = 0
        more = True
        while more:
            message = await receive()
            body_len += len(message.get("body", b""))
            more = message.get("more", False)
        await _respond(send, 200, str(body_len).encode())
    elif path == "/receive-log":  # every receive event of the request, and the header names
        events = []
        more = True
        while more:
            message = await receive()
            more = bool(message.get("more", False))
            events.append([message["type"], message.get("body", b"").decode("latin-1"), more])
        names = [n.decode("latin-1") for n, _ in scope["headers"]]
        log = {"events": events, "header_names": names}
        await _respond(send, 200, json.dumps(log).encode(), b"application/json")
    elif path == "/no-read":
        await _respond(send, 200, b"not reading your body")
    elif path == "/stream":
        n, size = int(q.get("n", "10")), int(q.get("size", "10"))
        delay = float(q.get("delay", "0"))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for i in range(n):
            await send(
                {"type": "http.response.body", "body": bytes([65 + i % 26]) * size, "more": True}
            )
            if delay:
                await asyncio.sleep(delay)
        await send({"type": "http.response.body", "body": b"", "more": False})
    elif path == "/file":
        kwargs: dict[str, Any] = {"file": q["path"]}
        if "offset" in q:
            kwargs["offset"] = int(q["offset"])
        if "length" in q:
            kwargs["length"] = int(q["length"])
        headers = [(b"content-type", b"application/octet-stream")]
        if "cl" in q:
            headers.append((b"content-length", q["cl"].encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", **kwargs})
    elif path == "/trailers":
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "trailers": True,
                "headers": [(b"trailer", b"x-checksum")],
            }
        )
        body = b"d" * int(q["size"]) if "size" in q else b"data"
        await send({"type": "http.response.body", "body": body, "more": True})
        await send({"type": "http.response.body", "body": b"", "more": False})
        await send({"type": "http.response.trailers", "headers": [(b"x-checksum", b"abc")]})
    elif path == "/raise":
        raise ValueError("boom before start")
    elif path == "/raise-after-start":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more": True})
        raise ValueError("boom after start")
    elif path == "/no-response":
        return
    elif path == "/status":
        await send({"type": "http.response.start", "status": int(q["code"]), "headers": []})
        await send({"type": "http.response.body", "body": q.get("body", "").encode()})
    elif path == "/bad-header":
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"x-evil", b"a\r\nset-cookie: x=1")],
                }
            )
        except Exception as exc:  # the worker must refuse, naming the problem
            await _respond(send, 200, f"{type(exc).__name__}: {exc}".encode())
    elif path == "/wait-disconnect":
        # Record what the app observes when the client goes away.
        out = q["out"]
        conn = scope["pagi.connection"]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"waiting", "more": True})
        message = await receive()
        while message["type"] != "http.disconnect":
            message = await receive()
        await send({"type": "http.response.body", "body": b"ignored", "more": True})  # no-op
        with open(out, "w") as f:
            json.dump(
                {
                    "event": message["type"],
                    "connected": conn.is_connected(),
                    "reason": conn.disconnect_reason(),
                },
                f,
            )
    elif path == "/sleep":
        await asyncio.sleep(float(q.get("s", "1")))
        await _respond(send, 200, b"slept")
    elif path == "/env":  # one environment variable of the worker (--env-file tests)
        await _respond(send, 200, os.environ.get(q["name"], "<unset>").encode())
    elif path == "/state":
        scope["state"]["counter"][0] += 1
        await _respond(send, 200, str(scope["state"]["counter"][0]).encode())
    else:
        await _respond(send, 404, b"not found")
