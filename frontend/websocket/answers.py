"""Answers to a WebSocket handshake other than the 101.

:class:`WSAnswers` (between :class:`~.ws_lifetime.WSLifetime` and
:class:`~.ws_frames.WSClientFrames`) writes every HTTP response that
ends a handshake: the front's own (400, 426, 403, 500, 502, 503, 504, via
:meth:`WSAnswers._reply`) and the app's denial with
``websocket.http.response`` (forwarded as it streams in, framed by
:func:`~.responses.build_head` with the connection closing after it). Any of
them ends with a lingering close: half-close, drain the input, close.
"""

from __future__ import annotations

import logging
import os

from pagi.protocol import reasons

from ..access_log import short_target
from ..http1.responses import (
    CHUNKED,
    LAST_CHUNK,
    LENGTH,
    NO_BODY,
    InvalidResponse,
    build_head,
    chunk,
    server_response,
)
from .lifetime import DENYING, HANDSHAKE, WSLifetime

logger = logging.getLogger("pagi.front")

#: The reasons the app hears when the front ends a handshake it did not accept.
DENIED = "x-denied"
HANDSHAKE_TIMEOUT = "x-handshake-timeout"


class WSAnswers(WSLifetime):
    """The HTTP answers of a WebSocket handshake (the app's denial, the front's errors)."""

    __slots__ = ()

    # --- the app's own HTTP answer to the handshake (websocket.http.response) ----------

    def on_response_start(self, status: int, headers: list[list[bytes]], trailers: bool) -> None:
        if self._phase != HANDSHAKE:
            return
        self._cancel_timer()
        self._phase = DENYING
        self._deny_status = status
        self._deny_headers = headers
        self.loop.call_soon(self._flush_denial_head)

    def on_response(
        self, status: int, headers: list[list[bytes]], trailers: bool, body: bytes, more: bool
    ) -> None:
        # (the link refuses a denial whose start carries a body; for completeness)
        self.on_response_start(status, headers, trailers)
        self.on_response_body(body, more)

    def on_response_body(self, body: bytes, more: bool) -> None:
        if self._phase != DENYING or self._deny_framing == -2:
            return
        n = len(body)
        head = b""
        if self._deny_framing == -1:
            made = self._denial_head(None if more else n)
            if made is None:
                return
            head = made
        framing = self._deny_framing
        data = b""
        if n and framing != NO_BODY:
            if framing == CHUNKED:
                data = chunk(body)
            elif framing == LENGTH and self._deny_length is not None:
                data = body[: max(0, self._deny_length - self._body_bytes)]
            else:
                data = body
            self._body_bytes += min(n, len(data))
        if not more:
            self._deny_framing = -2  # complete
            tail = LAST_CHUNK if framing == CHUNKED else b""
            self._write(head + data + tail)
            self._log(self._deny_status)
            self._disconnect(1006, DENIED)
            self._linger()
            return
        if head or data:
            self._write(head + data)
        if n and self._scope_live:
            if self._write_paused:
                self._ungranted += n
            else:
                link = self._link
                assert link is not None
                link.grant(self._sid, n)

    def on_response_file(self, fd: int, offset: int, length: int | None) -> None:
        os.close(fd)  # the link refuses files on websocket scopes; never called

    def on_response_trailers(self, headers: list[list[bytes]]) -> None:
        pass  # the link refuses trailers on websocket scopes; never called

    def _flush_denial_head(self) -> None:
        if self._phase == DENYING and self._deny_framing == -1:
            head = self._denial_head(None)
            if head is not None:
                self._write(head)

    def _denial_head(self, known_length: int | None) -> bytes | None:
        try:
            head, framing, length, _keep = build_head(
                self._deny_status,
                self._deny_headers,
                http11=True,
                keep_alive=False,
                is_head=False,
                known_length=known_length,
                trailers=False,
                server_header=self.config.server_header,
            )
        except InvalidResponse as exc:
            self._refuse_response(exc)
            return None
        self._deny_framing = framing
        self._deny_length = length
        return head

    def _handshake_expired(self) -> None:
        self._timer = None
        if self._phase != HANDSHAKE:
            return
        timeout = self.config.ws_handshake_timeout
        logger.warning(
            "504: the app did not accept or deny WebSocket %s from %s within %gs (worker %s)",
            short_target(self._target),
            self.peer,
            timeout,
            self.worker,
        )
        self._disconnect(1006, HANDSHAKE_TIMEOUT)
        self._reply(504, "the application did not answer the WebSocket handshake in time")

    def _refuse_response(self, exc: InvalidResponse) -> None:
        """The app's accept or denial head cannot be sent (``exc.status``:
        500 for its mistake, 502 for what could split the head) instead."""
        logger.error(
            "%d: %s (worker %s, WebSocket %s from %s)",
            exc.status,
            exc,
            self.worker,
            short_target(self._target),
            self.peer,
        )
        self._phase = DENYING
        self._deny_framing = -2
        self._disconnect(1006, reasons.SERVER_ERROR)
        self._reply(exc.status, "", worker=self.worker)

    def _reply(
        self,
        status: int,
        message: str,
        extra: tuple[tuple[bytes, bytes], ...] = (),
        *,
        worker: str = "-",
    ) -> None:
        """Answer the handshake with a response of the front's own, then close."""
        data = server_response(
            status, message, extra_headers=extra, server_header=self.config.server_header
        )
        self._body_bytes = len(data) - data.index(b"\r\n\r\n") - 4
        self._write(data)
        self.worker = worker
        self._log(status)
        self._linger()
