"""How a scope that ended too early is described (HTTP and WebSocket alike).

A scope ends with END (the app returned or raised) or with the loss of its
worker. If the response had not started, the client gets ``500`` (END) or
``502`` (worker lost); if it had started but not finished, the response is
cut (HTTP: reset; WebSocket: close 1011/1012). These helpers give the log
wording for both streams.
"""

from __future__ import annotations

import logging

from pagi.protocol.kinds import RAISED

logger = logging.getLogger("pagi.front")

#: The status for a scope that ended before its response started.
ENDED_STATUS = 500
LOST_STATUS = 502
WORKER_LOST = "the worker serving this request went away"


def unanswered(outcome: int, detail: str, what_was_missing: str) -> str:
    """Why a scope ended by END had no response: ``the app raised: ...`` or
    ``the app returned without <what_was_missing>``."""
    if outcome == RAISED:
        return f"the app raised: {detail}" if detail else "the app raised"
    return f"the app returned without {what_was_missing}"


def cut_short(outcome: int, detail: str) -> str:
    """How the app ended a response it had started: ``raised (...)`` or ``returned``."""
    return f"raised ({detail})" if outcome == RAISED else "returned"


def log_failure(status: int, why: str, worker: str, label: str, peer: str) -> None:
    """The error line for a stream answered ``status`` instead of its app's response."""
    logger.error("%d: %s (worker %s, %s from %s)", status, why, worker, label, peer)


def log_cut(label: str, peer: str, why: str, worker: str) -> None:
    """The warning line for a response cut short."""
    logger.warning("aborting the response to %s from %s: %s (worker %s)", label, peer, why, worker)
