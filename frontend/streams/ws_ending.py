"""How a ``websocket`` stream ends other than by a closing handshake.

The cold paths of :class:`~.ws_stream.WSStream`: END or the worker's loss
during the handshake, the denial or the open connection; the app closing or
aborting before it accepted; the handshake timeout; a head the writer
refuses; the client going away. Each function decides what the client gets
(a status, a close code, a reset) and what the operator reads; it acts on the
stream only through the stream's own methods (``reply``, ``disconnect``,
``reset``, ``cancel_timer``, ``close_now``) and its
:class:`~.ws_channel.WSChannel` once accepted. The per-message paths never
come here.

Invariants:

* Before the accept the client gets an HTTP status of the front's own (500
  END, 502 worker lost, 403 app closed, 504 timeout, 500/502 refused head)
  or, mid-denial, a reset; after it a close code from the channel (1011, or
  1012 when a draining worker cut the connection short). Never both.
* The worker hears ``WS_DISCONNECT`` at most once (``disconnect`` keeps that).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pagi.protocol import reasons
from pagi.protocol.kinds import RAISED

from .outcome import ENDED_STATUS, LOST_STATUS, WORKER_LOST, log_failure, unanswered
from .ws_phase import DENYING, HANDSHAKE

if TYPE_CHECKING:
    from ..link.handle import LinkHandle
    from .interfaces import Refusal
    from .ws_stream import WSStream

logger = logging.getLogger("pagi.front")

#: The reasons the app hears when the front ends a handshake it did not accept.
DENIED = "x-denied"
HANDSHAKE_TIMEOUT = "x-handshake-timeout"


def scope_ended(stream: WSStream, link: LinkHandle | None, outcome: int, detail: str) -> None:
    """END came (``link``: the scope's link, already cleared on the stream)."""
    draining = link is not None and link.draining
    if stream.phase == HANDSHAKE:
        _unanswered(stream, ENDED_STATUS, unanswered(outcome, detail, "accepting or denying"))
    elif stream.channel is not None:
        # 1012: cut short by a restarting (draining) worker
        stream.channel.scope_ended(1000 if outcome != RAISED else 1012 if draining else 1011)
    elif stream.phase == DENYING:
        _denial_cut(stream, "the app ended mid-response")


def worker_lost(stream: WSStream, link: LinkHandle | None) -> None:
    """The worker went away (``link``: the scope's link, already cleared)."""
    if stream.phase == HANDSHAKE:
        _unanswered(stream, LOST_STATUS, f"worker {stream.worker} went away during the handshake")
    elif stream.channel is not None:
        peer, label = stream.conn.peer, stream.label()
        logger.warning("closing %s from %s: worker %s went away", label, peer, stream.worker)
        stream.channel.scope_ended(1012 if link is not None and link.draining else 1011)
    elif stream.phase == DENYING:
        _denial_cut(stream, "its worker went away")


def _unanswered(stream: WSStream, status: int, why: str) -> None:
    """The scope ended before the app accepted or denied: ``status`` instead."""
    stream.cancel_timer()
    log_failure(status, why, stream.worker, stream.label(), stream.conn.peer)
    stream.reply(status, "" if status == ENDED_STATUS else WORKER_LOST, ())


def _denial_cut(stream: WSStream, why: str) -> None:
    peer, label = stream.conn.peer, stream.label()
    logger.warning("aborting the denial of %s from %s: %s", label, peer, why)
    stream.reset()


def closed_before_accept(stream: WSStream) -> None:
    """The app sent ``websocket.close`` during the handshake: 403."""
    stream.cancel_timer()
    peer, label = stream.conn.peer, stream.label()
    logger.info("403 to %s for %s: the app closed before accepting", peer, label)
    stream.disconnect(1006, DENIED)
    stream.reply(403, "the application refused the WebSocket", ())


def handshake_expired(stream: WSStream) -> None:
    """``--ws-handshake-timeout`` ran out during HANDSHAKE: 504."""
    timeout = stream.conn.ctx.config.ws_handshake_timeout
    logger.warning(
        "504: the app did not accept or deny %s from %s within %gs (worker %s)",
        stream.label(),
        stream.conn.peer,
        timeout,
        stream.worker,
    )
    stream.disconnect(1006, HANDSHAKE_TIMEOUT)
    stream.reply(504, "the application did not answer the WebSocket handshake in time", ())


def head_refused(stream: WSStream, refused: Refusal) -> None:
    """The writer would not send the app's accept or denial head: the client
    gets ``refused.status`` instead (500, or 502 for a head that could split
    the response)."""
    log_failure(refused.status, refused.why, stream.worker, stream.label(), stream.conn.peer)
    stream.disconnect(1006, reasons.SERVER_ERROR)
    stream.reply(refused.status, "", ())


def app_aborted(stream: WSStream, detail: str) -> None:
    """The app aborted the connection: reset it (no close frame; the client
    sees 1006), whatever phase it is in."""
    suffix = f": {detail}" if detail else ""
    logger.info("%s from %s aborted by the app%s", stream.label(), stream.conn.peer, suffix)
    stream.abort(reasons.APP_ABORT)


def client_gone(stream: WSStream) -> None:
    """The connection ended (EOF, error, reset) before the WebSocket ended."""
    if stream.done:
        return
    logger.debug("%s went away without a closing handshake", stream.conn.peer)
    stream.disconnect(1006, reasons.CLIENT_CLOSED)
    if stream.channel is not None:
        stream.channel.gone()
        return
    stream.close_now()
