"""How an ``http``/``sse`` stream ends when its response does not simply complete.

The cold paths of :class:`~.http_stream.HTTPStream`: END or the worker's loss
before the response finished, the app's abort, the client going away, the
connection's abort, a malformed request body, shutdown, and the 500/502
answers for a head, trailers or file the writer cannot send. Each function
decides what the client gets and what the operator reads; it acts on the
stream only through the stream's own methods (``reply``, ``release``,
``abandon``, ``close_file``), which keep the stream's state. The hot path
(request body, response events, credit) never comes here.

Invariants:

* A stream whose response had not started (phase before ``SENDING``) is
  answered with a status of the front's own (500 END, 502 worker lost, 503
  refusal or shutdown, 4xx bad body); one already sending is cut (reset, or
  for a shut-down event stream ended without its end marker). Never both.
* Nothing here acts on a ``DONE`` stream except to free its resources.
* Every abnormal end is logged once: one operator line (here) and the one
  access line (:func:`~.access_record.log_http`, through the stream).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pagi.protocol import reasons

from .http_phase import APP_DONE, DONE, SENDING, WAITING
from .opening import RETRY_AFTER
from .outcome import (
    ENDED_STATUS,
    LOST_STATUS,
    WORKER_LOST,
    cut_short,
    log_cut,
    log_failure,
    unanswered,
)
from .sse import is_event_stream

if TYPE_CHECKING:
    from .http_stream import HTTPStream
    from .interfaces import Refusal

logger = logging.getLogger("pagi.front")


def scope_ended(stream: HTTPStream, outcome: int, detail: str) -> None:
    """END came (the stream's ``link`` is cleared already): 500 if nothing was
    answered, a cut if the app stopped mid-response."""
    phase = stream.phase
    if phase < SENDING:
        why = unanswered(outcome, detail, "sending a response")
        _unanswered(stream, ENDED_STATUS, why, detail=True)
    elif phase < APP_DONE:
        cut(stream, f"the app {cut_short(outcome, detail)} before finishing it")
    # else the response is complete or its file is still being written


def worker_lost(stream: HTTPStream) -> None:
    """The worker went away (no SSE resumption took the stream over)."""
    phase = stream.phase
    if phase < SENDING:
        _unanswered(stream, LOST_STATUS, f"worker {stream.worker} went away", detail=False)
    elif phase < APP_DONE:
        cut(stream, f"worker {stream.worker} went away mid-response")


def _unanswered(stream: HTTPStream, status: int, why: str, detail: bool) -> None:
    """The scope ended before the response started: ``status`` instead."""
    stream.close_file()
    label, peer = stream.label(), stream.conn.peer
    if detail:
        log_failure(status, why, stream.worker, label, peer)
    else:
        logger.error("%d: %s during %s from %s", status, why, label, peer)
    stream.reply(status, "" if status == ENDED_STATUS else WORKER_LOST, ())


def cut(stream: HTTPStream, why: str) -> None:
    """The scope ended mid-response: log it and reset (not for a DONE stream)."""
    if stream.phase != DONE:
        log_cut(stream.label(), stream.conn.peer, why, stream.worker)
        abort_response(stream)


def app_aborted(stream: HTTPStream, detail: str) -> None:
    """``pagi.connection.abort``: the response is reset, whatever was written."""
    if stream.phase == DONE:
        return
    logger.info(
        "aborting %s from %s: the app aborted it%s (worker %s)",
        stream.label(),
        stream.conn.peer,
        f" ({detail})" if detail else "",
        stream.worker,
    )
    abort_response(stream)


def head_refused(stream: HTTPStream, refused: Refusal) -> None:
    """The writer would not send the app's head: 500 (502 for one that could
    split the response) in its place."""
    log_failure(refused.status, refused.why, stream.worker, stream.label(), stream.conn.peer)
    stream.release(reasons.SERVER_ERROR)
    stream.reply(refused.status, "", ())


def trailers_refused(stream: HTTPStream, refused: Refusal | None) -> bool:
    """The writer would not send the app's trailers: the response is cut."""
    if refused is None:
        return False
    logger.error("aborting %s: %s (worker %s)", stream.label(), refused.why, stream.worker)
    abort_response(stream)
    return True


def file_failed(stream: HTTPStream, message: str) -> None:
    """The response file could not be sized or read."""
    stream.close_file()
    if stream.phase < SENDING:
        log_failure(500, message, stream.worker, stream.label(), stream.conn.peer)
        stream.reply(500, "", ())
    else:
        cut(stream, message)


def refuse(stream: HTTPStream, message: str, why: str = "") -> None:
    """``503`` (with ``retry-after``: another server may take the retry)
    for a stream whose response had not started."""
    logger.info("503 to %s for %s: %s", stream.conn.peer, stream.label(), why or message)
    stream.reply(503, message, RETRY_AFTER)


def client_gone(stream: HTTPStream) -> None:
    """The client connection ended: abandon the stream; CLOSE the scope if that matters."""
    phase = stream.phase
    stream.abandon()
    # A scope whose response is complete and whose body was all delivered
    # needs no CLOSE; any other live scope does (the app may be waiting).
    done = phase >= APP_DONE and stream.request_done
    stream.release(None if done else reasons.CLIENT_CLOSED)


def abort(stream: HTTPStream, reason: str) -> bool:
    """The connection is being closed at once (``reason`` for the scope).
    True: the client was answered ``503`` (the response had not started)."""
    stream.release(reason)
    if stream.phase >= SENDING:
        stream.abandon()
        return False
    message = "the server is shutting down" if reason == reasons.SERVER_SHUTDOWN else reason
    refuse(stream, message, f"{reason} before its response started")
    return True


def fail_request(stream: HTTPStream, status: int, message: str) -> bool:
    """The request body turned out malformed or too large. False: the
    response was already complete."""
    stream.release(reasons.BODY_TOO_LARGE if status == 413 else reasons.PROTOCOL_ERROR)
    phase = stream.phase
    if phase == DONE:
        return False
    if phase >= SENDING:
        abort_response(stream)
    else:
        stream.reply(status, message, (), own=True)
    return True


def shutdown(stream: HTTPStream) -> None:
    """End a started event stream now (CLOSE ``server_shutdown``); the app never
    ended it, so no end marker is written (PAGI Www 0.6: an incomplete response
    never looks complete). A stream still waiting for a worker gets 503."""
    if stream.phase == WAITING:
        stream.release(None)
        refuse(stream, "the server is shutting down")
    elif stream.sse and stream.phase == SENDING and is_event_stream(stream.headers):
        stream.release(reasons.SERVER_SHUTDOWN)  # also stops the keepalive
        stream.abandon()
        stream.writer.cut()


def abort_response(stream: HTTPStream) -> None:
    """The response cannot be completed: its access line, CLOSE, and a reset."""
    stream.abandon()
    stream.release(reasons.SERVER_ERROR)
    stream.writer.abort()
