"""The orderly end of the client connections at shutdown: :func:`drain_connections`.

On the front's first SIGTERM/SIGINT, once the listeners stopped accepting:

1. the connections the loop accepted just before the close get their
   ``connection_made()`` first (two loop iterations), so that none misses the
   shutdown (its client would see the socket close under its first request);
2. ``conn.shutdown()`` on every open client connection: the response under
   way is the last, an event stream ends at once, an idle keep-alive
   connection closes when its keep-alive time runs out;
3. wait until none is left, at most ``--graceful-timeout`` — or not at all
   once a second signal set ``force``;
4. ``conn.abort("server_shutdown")`` on the rest.

An error in one connection's ``shutdown()`` or ``abort()`` is logged and the
others carry on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from pagi.protocol import reasons

from .connections import ConnectionSet

logger = logging.getLogger("pagi.front")

#: How often the wait looks whether the connections are gone (seconds).
POLL_INTERVAL = 0.05


async def drain_connections(
    connections: ConnectionSet, timeout: float, force: asyncio.Event
) -> None:
    """Shut the open ``connections`` down, wait, abort the rest (see the module doc)."""
    for _ in range(2):
        await asyncio.sleep(0)
    for conn in list(connections):
        try:
            conn.shutdown()
        except Exception:
            logger.exception("error in connection.shutdown()")
    if connections and not force.is_set():
        logger.info("waiting for %d open connection(s)", len(connections))
        await wait_until(lambda: not connections, timeout, force)
    if connections:
        logger.warning(
            "closing %d connection(s) still open after the graceful timeout", len(connections)
        )
        for conn in list(connections):
            try:
                conn.abort(reasons.SERVER_SHUTDOWN)
            except Exception:
                logger.exception("error in connection.abort()")


async def wait_until(condition: Callable[[], bool], timeout: float, force: asyncio.Event) -> None:
    """Poll ``condition()`` until true, ``timeout`` seconds, or ``force`` is set."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition() and not force.is_set() and loop.time() < deadline:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(force.wait(), POLL_INTERVAL)
