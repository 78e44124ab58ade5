"""The app behind tests/unit/worker/test_worker_link.py (a fake front drives the worker)."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any
from urllib.parse import parse_qs


def _query(scope: dict[str, Any]) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}


async def _respond(send: Any, body: bytes, status: int = 200) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"Content-Type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        message = await receive()
        assert message["type"] == "lifespan.startup"
        scope["state"]["started_pid"] = os.getpid()
        scope["state"]["worker_num"] = scope["pagi"]["worker_num"]
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        out = os.environ.get("WORKER_TEST_SHUTDOWN_FILE")
        if out:
            with open(out, "w") as f:
                f.write(message["type"])
        await send({"type": "lifespan.shutdown.complete"})
        return
    path = scope["path"]
    q = _query(scope)
    if path == "/hello":
        await _respond(send, b"hello")
    elif path.startswith("/scope"):
        info = {
            k: v
            for k, v in scope.items()
            if k
            in {
                "type",
                "http_version",
                "method",
                "scheme",
                "root_path",
                "client",
                "server",
                "pagi",
                "asgi",
            }
        }
        info["path"] = list(scope["path"].encode("utf-8", "surrogateescape"))
        info["path_str"] = scope["path"].encode("utf-8", "surrogateescape").decode("latin-1")
        info["raw_path"] = scope["raw_path"].decode("latin-1")
        info["query_string"] = scope["query_string"].decode("latin-1")
        info["headers"] = [[n.decode(), v.decode()] for n, v in scope["headers"]]
        info["state"] = scope["state"]
        info["extensions"] = sorted(scope["extensions"])
        await _respond(send, json.dumps(info).encode())
    elif path == "/echo":
        # answers with the body and the sizes of the chunks receive() returned
        chunks = []
        while True:
            message = await receive()
            assert message["type"] == "http.request"
            assert message["more"] == message["more_body"]
            chunks.append(message["body"])
            if not message["more"]:
                break
        sizes = ",".join(str(len(c)) for c in chunks).encode()
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"x-chunks", sizes)]}
        )
        await send({"type": "http.response.body", "body": b"".join(chunks)})
    elif path == "/first-read":
        # reads exactly once, then answers what it got
        message = await receive()
        await _respond(send, message["body"])
    elif path == "/big":
        n = int(q["n"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"x" * n})
    elif path == "/chunks":  # n pieces of size bytes, sent back to back
        n, size = int(q["n"]), int(q["size"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for i in range(n):
            body = bytes([65 + i]) * size
            await send({"type": "http.response.body", "body": body, "more": i < n - 1})
    elif path == "/file":
        kwargs: dict[str, Any] = {"file": q["path"]}
        if "offset" in q:
            kwargs["offset"] = int(q["offset"])
        if "length" in q:
            kwargs["length"] = int(q["length"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", **kwargs})
    elif path == "/trailers":
        await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": True})
        await send({"type": "http.response.body", "body": b"data", "more": False})
        await send({"type": "http.response.trailers", "headers": [(b"x-sum", b"1")]})
    elif path == "/wait-disconnect":
        conn = scope["pagi.connection"]
        seen: list[Any] = []
        future = conn.disconnect_future()
        conn.on_disconnect(
            lambda reason: seen.append(["callback", reason, conn.is_connected(), future.done()])
        )
        conn.on_complete(lambda: seen.append(["complete"]))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"waiting", "more": True})
        message = await receive()
        assert message == {"type": "http.request", "body": b"", "more": False, "more_body": False}
        message = await receive()
        seen.append(["event", message["type"]])
        seen.append(["future", await future])
        await send({"type": "http.response.body", "body": b"ignored", "more": True})
        seen.append(["after-send", conn.is_connected(), conn.disconnect_reason()])
        with open(q["out"], "w") as f:
            json.dump(seen, f)
    elif path == "/sleep":
        await asyncio.sleep(float(q.get("s", "1")))
        await _respond(send, b"slept")
    elif path == "/forever":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(3600)
    elif path == "/raise":
        raise ValueError("boom\nsecond line")
    elif path == "/no-response":
        return
    elif path == "/bad-send":
        try:
            await send({"type": "http.response.start", "status": "200", "headers": []})
        except ValueError as exc:
            await _respond(send, f"{type(exc).__name__}: {exc}".encode())
    else:
        await _respond(send, b"not found", 404)
