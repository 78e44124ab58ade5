"""Two servers fed the same client bytes: pagi's HTTP/2 engine and the h2 library.

:func:`engine_outcome` runs :class:`~pagi.frontend.http2.core.H2Core`;
:func:`h2_outcome` runs h2's server-side :class:`h2.connection.H2Connection`
as pagi ran it before it had its own engine: h2's header validation off and
pagi's request checks (:func:`~pagi.frontend.http2.request.read_request`)
applied to each request, the same SETTINGS, the same flood caps on h2's
events, h2's errors mapped to RFC codes. Both consume request DATA at once
and answer nothing, so what differs is the protocol engine alone.

An :class:`Outcome` is what a client can observe: the requests served (their
fields, body, whether they ended, their trailers), the streams reset by the
server with their codes, and the GOAWAY error code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
import hpack
from h2.errors import ErrorCodes
from h2_frames import parse_frames
from h2_recorder import Recorder
from hyperframe.exceptions import InvalidDataError
from hyperframe.frame import GoAwayFrame, RstStreamFrame
from pagi.frontend.http2.core import H2Core
from pagi.frontend.http2.fields import MalformedRequest, check_trailers
from pagi.frontend.http2.limits import H2Limits, WindowCounter
from pagi.frontend.http2.request import read_request

Fields = list[tuple[bytes, bytes]]
LIMITS = H2Limits()


@dataclass
class Outcome:
    requests: dict[int, tuple[Fields, bytes, bool, Fields | None]] = field(default_factory=dict)
    resets: dict[int, int] = field(default_factory=dict)
    goaway: int | None = None

    def observable(self) -> tuple[object, ...]:
        """What to compare: after a connection error, the GOAWAY code alone (the read
        that ended it is answered by nothing else on either side)."""
        if self.goaway is not None:
            return ("GOAWAY", self.goaway)
        return ("OK", self.requests, self.resets)


def _from_wire(outcome: Outcome, wire: bytes) -> None:
    for frame in parse_frames(wire):
        if isinstance(frame, RstStreamFrame):
            outcome.resets.setdefault(frame.stream_id, frame.error_code)
        elif isinstance(frame, GoAwayFrame) and frame.error_code and outcome.goaway is None:
            outcome.goaway = frame.error_code


def _valid_request(fields: Fields) -> bool:
    try:
        read_request(fields)
    except MalformedRequest:
        return False
    return True


def engine_outcome(pieces: list[bytes]) -> Outcome:
    """Feed ``pieces`` (the client's bytes, preface included) to pagi's engine."""
    now = [0.0]
    listener = Recorder(consume=True)
    core = H2Core(LIMITS, lambda: now[0], listener)
    listener.core = core
    wire = bytearray(core.outbound())
    served: set[int] = set()
    for piece in pieces:
        seen = set(listener.requests)
        core.receive(piece)
        for sid in sorted(set(listener.requests) - seen):
            if _valid_request(listener.requests[sid].fields):
                served.add(sid)
            else:
                core.out.reset_stream(sid, ErrorCodes.PROTOCOL_ERROR)
        wire += core.outbound()
        now[0] += 0.001
    outcome = Outcome()
    for sid in sorted(served):
        request = listener.requests[sid]
        if request.trailers is not None:
            try:
                check_trailers(request.trailers)
            except MalformedRequest:
                continue
        outcome.requests[sid] = (
            request.fields,
            bytes(request.body),
            request.ended,
            request.trailers,
        )
    _from_wire(outcome, bytes(wire))
    return outcome


def _h2_code(exc: h2.exceptions.ProtocolError) -> int:
    cause = exc.__cause__
    if isinstance(cause, hpack.HPACKError) and not isinstance(
        cause, hpack.OversizedHeaderListError
    ):
        return ErrorCodes.COMPRESSION_ERROR
    if isinstance(cause, InvalidDataError) and "must not have payload" in str(cause):
        return ErrorCodes.FRAME_SIZE_ERROR
    return int(getattr(exc, "error_code", ErrorCodes.PROTOCOL_ERROR))


def h2_outcome(pieces: list[bytes]) -> Outcome:
    """Feed ``pieces`` to h2's server connection (see the module docstring)."""
    config = h2.config.H2Configuration(
        client_side=False,
        header_encoding=None,
        validate_inbound_headers=False,
        normalize_inbound_headers=False,
    )
    conn = h2.connection.H2Connection(config)
    codes = h2.settings.SettingCodes
    conn.local_settings = h2.settings.Settings(
        client=False,
        initial_values={
            codes.MAX_CONCURRENT_STREAMS: LIMITS.max_concurrent_streams,
            codes.MAX_HEADER_LIST_SIZE: LIMITS.max_header_list_size,
            codes.INITIAL_WINDOW_SIZE: LIMITS.stream_window,
            codes.MAX_FRAME_SIZE: LIMITS.max_frame_size,
            codes.ENABLE_CONNECT_PROTOCOL: 1,
            codes.ENABLE_PUSH: 0,
        },
    )
    conn.max_inbound_frame_size = LIMITS.max_frame_size
    conn.decoder.max_header_list_size = LIMITS.max_header_list_size
    conn.initiate_connection()
    conn.increment_flow_control_window(LIMITS.connection_window - 65535)
    caps = {
        "reset": WindowCounter(LIMITS.max_resets, LIMITS.flood_window),
        "settings": WindowCounter(LIMITS.max_settings, LIMITS.flood_window),
        "ping": WindowCounter(LIMITS.max_pings, LIMITS.flood_window),
        "empty": WindowCounter(LIMITS.max_empty_data, LIMITS.flood_window),
    }
    now = 0.0
    outcome = Outcome()
    bodies: dict[int, bytearray] = {}
    wire = bytearray(conn.data_to_send())
    failed = False
    for piece in pieces:
        if failed:
            break
        try:
            events = conn.receive_data(piece)
        except h2.exceptions.ProtocolError as exc:
            code = _h2_code(exc)
            outcome.goaway = code
            failed = True
            break
        for event in events:
            cap = None
            if isinstance(event, h2.events.StreamReset) and event.remote_reset:
                cap = "reset"
            elif isinstance(event, h2.events.RemoteSettingsChanged):
                cap = "settings"
            elif isinstance(event, h2.events.PingReceived):
                cap = "ping"
            elif isinstance(event, h2.events.DataReceived) and not event.data:
                cap = "empty" if event.stream_ended is None else None
            if cap is not None and caps[cap].hit(now):
                outcome.goaway = ErrorCodes.ENHANCE_YOUR_CALM
                failed = True
                break
            _h2_event(conn, event, outcome, bodies)
        wire += conn.data_to_send()
        now += 0.001
    if not failed:
        _from_wire(outcome, bytes(wire))
    return outcome


def _h2_event(
    conn: h2.connection.H2Connection,
    event: h2.events.Event,
    outcome: Outcome,
    bodies: dict[int, bytearray],
) -> None:
    if isinstance(event, h2.events.RequestReceived):
        sid = event.stream_id
        fields = [(bytes(n), bytes(v)) for n, v in event.headers or ()]
        if not _valid_request(fields):
            try:
                conn.reset_stream(sid, ErrorCodes.PROTOCOL_ERROR)
            except h2.exceptions.StreamClosedError:
                pass
            return
        bodies[sid] = bytearray()
        outcome.requests[sid] = (fields, b"", event.stream_ended is not None, None)
    elif isinstance(event, h2.events.DataReceived):
        sid = event.stream_id
        length = event.flow_controlled_length or 0
        if length:
            try:
                conn.acknowledge_received_data(length, sid)
            except h2.exceptions.StreamClosedError:
                pass
        if sid in outcome.requests:
            bodies[sid] += event.data or b""
            fields, _, _, trailers = outcome.requests[sid]
            ended = event.stream_ended is not None
            outcome.requests[sid] = (fields, bytes(bodies[sid]), ended, trailers)
    elif isinstance(event, h2.events.StreamEnded):
        sid = event.stream_id
        if sid in outcome.requests:
            fields, body, _, trailers = outcome.requests[sid]
            outcome.requests[sid] = (fields, body, True, trailers)
    elif isinstance(event, h2.events.TrailersReceived):
        sid = event.stream_id
        trailers = [(bytes(n), bytes(v)) for n, v in event.headers or ()]
        if sid in outcome.requests:
            try:
                check_trailers(trailers)
            except MalformedRequest:
                del outcome.requests[sid]
                return
            fields, body, ended, _ = outcome.requests[sid]
            outcome.requests[sid] = (fields, body, ended, trailers)
