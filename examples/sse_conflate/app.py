"""A live feed that conflates for slow clients, using ``pagi.transport``.

One ticker per worker (started in lifespan) updates a price 50 times a second
and wakes every subscribed stream. A fast client gets every update. For a
slow one, queueing every update would grow memory without bound and deliver
ever staler prices, so each stream watches its own backlog instead:

* ``on_high_water`` fires when more than ``high`` bytes sent on this stream
  have not yet left the server for the client: the stream stops sending and
  just remembers that it is behind;
* ``on_drain`` fires when the backlog is back under ``low``: the stream sends
  the *latest* price at once (with how many updates it skipped) and goes on.

So a slow client always gets the freshest value its bandwidth allows, and the
server holds at most about ``high`` bytes for it. ``send()`` itself would also
wait when the whole response window is in flight, but waiting is the wrong
policy for a live feed: conflating is the right one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from typing import Any

HIGH_WATER = 16 * 1024
LOW_WATER = 4 * 1024
TICK = 0.02  # seconds between updates
PADDING = "." * 600  # stands in for the rest of a real quote (order book, ...)


class Ticker:
    """The live value and the streams waiting for its next change."""

    def __init__(self) -> None:
        self.seq = 0
        self.price = 100.0
        self.subscribers: set[asyncio.Event] = set()

    async def run(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            self.seq += 1
            self.price = round(100 + 10 * math.sin(self.seq / 100), 3)
            for wake in self.subscribers:
                wake.set()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await lifespan(scope, receive, send)
    elif scope["type"] == "sse":
        await feed(scope, send)
    elif scope["type"] == "http":
        text = b"curl -N -H 'Accept: text/event-stream' http://127.0.0.1:8000/\n"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": text})


async def lifespan(scope: dict[str, Any], receive: Any, send: Any) -> None:
    ticker = Ticker()
    task: asyncio.Task[None] | None = None
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            scope["state"]["ticker"] = ticker
            task = asyncio.ensure_future(ticker.run())
            await send({"type": "lifespan.startup.complete"})
        else:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await send({"type": "lifespan.shutdown.complete"})
            return


async def feed(scope: dict[str, Any], send: Any) -> None:
    ticker: Ticker = scope["state"]["ticker"]
    connection = scope["pagi.connection"]
    transport = scope["pagi.transport"]
    wake = asyncio.Event()
    behind = False

    def on_high_water() -> None:
        nonlocal behind
        behind = True

    def on_drain() -> None:
        nonlocal behind
        behind = False
        wake.set()  # send the latest value now

    transport.set_water_marks(high=HIGH_WATER, low=LOW_WATER)
    transport.on_high_water(on_high_water)
    transport.on_drain(on_drain)
    connection.on_disconnect(lambda reason: wake.set())  # stop waiting when the client goes

    await send({"type": "sse.start"})
    last_sent = ticker.seq
    ticker.subscribers.add(wake)
    try:
        while connection.is_connected():
            await wake.wait()
            wake.clear()
            if behind or ticker.seq == last_sent:
                continue  # the client is behind: skip; on_drain wakes us for the latest
            skipped = ticker.seq - last_sent - 1
            last_sent = ticker.seq
            data = {
                "seq": ticker.seq,
                "price": ticker.price,
                "skipped": skipped,
                "time": time.time(),
                "pad": PADDING,
            }
            await send(
                {
                    "type": "sse.send",
                    "event": "price",
                    "id": str(last_sent),
                    "data": json.dumps(data),
                }
            )
    finally:
        ticker.subscribers.discard(wake)
