"""WebSocket echo with a page that uses the browser's ``WebSocket``.

``GET /`` is the page (an ordinary ``http`` scope). Its script opens
``ws://<host>/ws``; the app gets a ``websocket`` scope there, accepts, asks the
server to ping the browser every 20 s (``websocket.keepalive``: the front
does the pinging, so an idle socket costs the app nothing), and sends every
message back as it came: text as text, binary as binary.
"""

from __future__ import annotations

from typing import Any

PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>pagi websocket echo</title></head>
<body style="font: 1.2em sans-serif; max-width: 40em; margin: 2em auto">
<h1>WebSocket echo</h1>
<form id="form"><input id="text" size="40" autofocus> <button>send</button></form>
<p id="state">connecting...</p>
<ul id="log"></ul>
<script>
  const log = (text) => {
    const li = document.createElement("li");
    li.textContent = text;
    document.getElementById("log").prepend(li);
  };
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const ws = new WebSocket(scheme + location.host + "/ws");
  ws.onopen = () => { document.getElementById("state").textContent = "open"; };
  ws.onmessage = (e) => log("echo: " + e.data);
  ws.onclose = (e) => {
    document.getElementById("state").textContent = "closed (" + e.code + ")";
  };
  document.getElementById("form").onsubmit = (e) => {
    e.preventDefault();
    const input = document.getElementById("text");
    ws.send(input.value);
    log("sent: " + input.value);
    input.value = "";
  };
</script>
</body></html>
"""


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/html; charset=utf-8")],
            }
        )
        await send({"type": "http.response.body", "body": PAGE})
    elif scope["type"] == "websocket":
        await echo(receive, send)
    elif scope["type"] != "lifespan":
        raise RuntimeError(f"unsupported scope type {scope['type']!r}")


async def echo(receive: Any, send: Any) -> None:
    event = await receive()  # websocket.connect
    assert event["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.keepalive", "interval": 20.0})
    while True:
        event = await receive()
        if event["type"] == "websocket.disconnect":
            return
        if event.get("text") is not None:
            await send({"type": "websocket.send", "text": event["text"]})
        else:
            await send({"type": "websocket.send", "bytes": event["bytes"]})
