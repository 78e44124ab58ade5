"""Reports what the scope says about the connection's security, for http and websocket."""

from __future__ import annotations

import json
from typing import Any


def _security(scope: dict[str, Any]) -> bytes:
    extensions = scope.get("extensions") or {}
    return json.dumps(
        {
            "type": scope["type"],
            "scheme": scope["scheme"],
            "http_version": scope["http_version"],
            "has_tls": "tls" in extensions,
            "tls": extensions.get("tls"),
        }
    ).encode()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    elif scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": _security(scope).decode()})
        await send({"type": "websocket.close", "code": 1000})
    else:
        body = _security(scope)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})
