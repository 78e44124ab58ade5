"""A stream started by a POST, the way htmx and datastar drive their pages.

``EventSource`` can only GET, so these libraries ``fetch()`` with
``method: "POST"`` and ``Accept: text/event-stream`` and read the response
body as an event stream. The front makes any request that accepts
``text/event-stream`` an ``sse`` scope, whatever its method, so the app reads
the posted body with ``receive()`` (``sse.request`` events, with the same flow
control as an http body) and answers with a stream: here, the posted text
comes back one word at a time (as a chat UI shows a model's answer), then a
``done`` event. An empty post is declined with an ordinary ``400`` instead.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>pagi POST stream</title></head>
<body style="font: 1.2em sans-serif; max-width: 40em; margin: 2em auto">
<form id="form"><textarea id="text" rows="3" cols="60">streams started by a POST request
</textarea><br><button>send</button></form>
<p id="out"></p><p id="status" style="color: grey"></p>
<script>
  document.getElementById("form").onsubmit = async (event) => {
    event.preventDefault();
    const out = document.getElementById("out");
    const status = document.getElementById("status");
    out.textContent = "";
    const response = await fetch("/say", {
      method: "POST",
      headers: {"Accept": "text/event-stream", "Content-Type": "text/plain"},
      body: document.getElementById("text").value,
    });
    if (response.status !== 200) {
      status.textContent = response.status + " " + await response.text();
      return;
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\\n\\n")) >= 0) {   // one event per blank line
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = "message", data = [];
        for (const line of block.split("\\n")) {
          if (line.startsWith("event:")) name = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (name === "word") out.textContent += data.join("\\n") + " ";
        if (name === "done") status.textContent = JSON.parse(data.join("\\n")).words + " words";
      }
    }
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
    elif scope["type"] == "sse":
        await say(scope, receive, send)
    elif scope["type"] != "lifespan":
        raise RuntimeError(f"unsupported scope type {scope['type']!r}")


async def say(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = b""
    while True:
        message = await receive()
        if message["type"] == "sse.disconnect":
            return
        body += message["body"]
        if len(body) > 64 * 1024:
            await decline(send, 413, b"at most 64 KiB, please")
            return
        if not message["more"]:
            break
    words = body.decode("utf-8", "replace").split()
    if scope["method"] != "POST" or not words:
        await decline(send, 400, b"POST some text")
        return
    await send({"type": "sse.start"})
    for word in words:
        await send({"type": "sse.send", "event": "word", "data": word})
        await asyncio.sleep(0.15)
    await send({"type": "sse.send", "event": "done", "data": json.dumps({"words": len(words)})})
    await send({"type": "sse.close"})


async def decline(send: Any, status: int, text: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": text})
