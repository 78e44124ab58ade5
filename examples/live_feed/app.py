"""A live feed fanned out to every worker, conflating for slow clients.

One ticker publishes a price 50 times a second to the group ``prices``
(``pagi.worker.channels.hub().group_send``); every SSE stream, on whichever
worker, joins the group through ``scope["pagi.channels"]`` and forwards it.
The front hands each update once to each worker with subscribers.

The ticker runs in one worker only: each worker tries to bind an abstract
UNIX socket named after the front's pid, and the one that gets it ticks (the
others retry every second, so a new ticker takes over if that worker dies).

Slow clients are *conflated*, not queued:

* the group membership's policy is ``drop_oldest``: a stream's channel holds
  at most ``--channel-capacity`` updates, older ones are dropped;
* before sending, the stream takes the newest queued update and skips the
  rest (``receive_nowait``);
* while its client is behind (``pagi.transport`` over the high-water mark),
  it sends nothing and waits for ``on_drain``, then sends the latest.

So a slow client gets the freshest price its bandwidth allows, with how many
updates it skipped, and the server holds a few tens of KiB for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import socket
import time
from typing import Any

HIGH_WATER = 16 * 1024
LOW_WATER = 4 * 1024
TICK = 0.02  # seconds between updates
PADDING = "." * 600  # stands in for the rest of a real quote (order book, ...)
GROUP = "prices"


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
    elif scope["type"] == "sse":
        await feed(scope, send)
    elif scope["type"] == "http":
        text = b"curl -N -H 'Accept: text/event-stream' http://127.0.0.1:8000/\n"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": text})


async def lifespan(receive: Any, send: Any) -> None:
    task: asyncio.Task[None] | None = None
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            task = asyncio.ensure_future(ticker())
            await send({"type": "lifespan.startup.complete"})
        else:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await send({"type": "lifespan.shutdown.complete"})
            return


async def ticker() -> None:
    """Publish to the group while this worker holds the ticker lock."""
    from pagi.worker.channels import hub

    lock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        while True:  # become the ticker, or wait for the current one to go
            try:
                lock.bind(f"\0pagi-example-live-feed-{os.getppid()}")
                break
            except OSError:
                await asyncio.sleep(1.0)
        seq = 0
        while True:
            await asyncio.sleep(TICK)
            seq += 1
            price = round(100 + 10 * math.sin(seq / 100), 3)
            update = {"type": "price", "seq": seq, "price": price, "time": time.time()}
            hub().group_send(GROUP, update)
    finally:
        lock.close()


async def feed(scope: dict[str, Any], send: Any) -> None:
    channels = scope["pagi.channels"]
    connection = scope["pagi.connection"]
    transport = scope["pagi.transport"]
    drained = asyncio.Event()
    drained.set()
    transport.set_water_marks(high=HIGH_WATER, low=LOW_WATER)
    transport.on_high_water(drained.clear)
    transport.on_drain(drained.set)
    gone = asyncio.Event()
    connection.on_disconnect(lambda reason: gone.set())

    await channels.group_add(GROUP, overflow="drop_oldest")
    await send({"type": "sse.start"})
    last_sent: int | None = None
    while connection.is_connected():
        if not drained.is_set():  # the client is behind: send nothing until it drains
            await first_of(drained.wait(), gone.wait())
            continue
        update = await first_of(channels.receive(), gone.wait())
        if update is None:
            break
        while (newer := channels.receive_nowait()) is not None:
            update = newer  # conflate: only the newest matters
        skipped = 0 if last_sent is None else update["seq"] - last_sent - 1
        last_sent = update["seq"]
        data = {**update, "skipped": skipped, "pad": PADDING}
        del data["type"]
        await send(
            {"type": "sse.send", "event": "price", "id": str(last_sent), "data": json.dumps(data)}
        )


async def first_of(wanted: Any, stop: Any) -> Any:
    """The result of ``wanted``, or None if ``stop`` finishes first."""
    tasks = [asyncio.ensure_future(wanted), asyncio.ensure_future(stop)]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return tasks[0].result() if tasks[0] in done else None
