"""Shapes of worker-link messages: constructors and the validator.

A message is a Python list ``[kind, scope_id, *fields]`` exactly as msgpack
decodes it. :func:`validate` checks a decoded message against the table below
(arity and the type of every field, per kind and per event code, with the
predicates of :mod:`.field_checks`) and that the kind may travel in the
direction being decoded; anything else raises
:class:`~pagi.protocol.errors.LinkError`. After validation, consumers may
index fields without further checks.

Constructors build the same lists; they do not validate (the sender is trusted
to be this code), which keeps the hot path to one list per message.
"""

from collections.abc import Callable, Sequence
from typing import Any

from .channel_messages import FIELDS as CHANNEL_FIELDS
from .channel_messages import FROM_FRONT as CHANNELS_FROM_FRONT
from .channel_messages import FROM_WORKER as CHANNELS_FROM_WORKER
from .channel_messages import LINK_KINDS as CHANNEL_LINK_KINDS
from .errors import LinkError
from .fast_checks import FAST_EVENT, FAST_KIND
from .field_checks import (
    is_address,
    is_body_mode,
    is_bool,
    is_bytes,
    is_close_code,
    is_credit_pairs,
    is_headers,
    is_int,
    is_map,
    is_non_negative_int,
    is_optional_non_negative_int,
    is_optional_seconds,
    is_optional_str,
    is_positive_int,
    is_seconds,
    is_status,
    is_str,
    is_text_or_bytes,
)
from .kinds import BodyMode, Event, Kind
from .resume import EVENT_FIELDS as RESUME_EVENT_FIELDS
from .resume import EVENTS_FROM_FRONT as RESUME_EVENTS_FROM_FRONT
from .resume import EVENTS_FROM_WORKER as RESUME_EVENTS_FROM_WORKER

Message = list[Any]
Headers = Sequence[Sequence[bytes]]  # [name, value] pairs; tuples accepted when sending

FieldCheck = Callable[[object], bool]


# Link-level scope id must be 0; scope messages need a positive id.
_LINK_KINDS = frozenset(
    {
        Kind.HELLO,
        Kind.WELCOME,
        Kind.REJECT,
        Kind.DRAIN,
        Kind.PING,
        Kind.PONG,
        Kind.STATS,
        Kind.CREDITS,
        Kind.RING,
        Kind.RING_DONE,
    }
    | CHANNEL_LINK_KINDS
)

#: Field checks after ``[kind, scope_id]``, per kind (EVENT handled separately).
_FIELDS: dict[int, tuple[FieldCheck, ...]] = {
    Kind.HELLO: (is_int, is_map),  # version, info
    Kind.WELCOME: (is_int, is_map),  # version, info
    Kind.REJECT: (is_str,),  # reason
    Kind.OPEN: (
        is_str,  # scope type: "http" | "websocket" | "sse"
        is_str,  # http_version
        is_str,  # method
        is_str,  # scheme
        is_bytes,  # raw_path
        is_bytes,  # query_string
        is_headers,  # headers
        is_address,  # client
        is_address,  # server
        is_map,  # extras (subprotocols, extensions, ...)
        is_body_mode,  # body mode
    ),
    Kind.CREDIT: (is_positive_int,),  # bytes granted
    Kind.CLOSE: (is_str,),  # reason
    Kind.END: (is_int, is_bool, is_str),  # outcome, response_started, detail
    Kind.ABORT: (is_str,),  # detail
    Kind.DRAIN: (),
    Kind.PING: (is_int,),  # token
    Kind.PONG: (is_int,),  # token
    Kind.STATS: (is_map,),
    Kind.CREDITS: (is_credit_pairs,),  # [scope_id, nbytes, ...]
    Kind.RING: (is_positive_int,),  # size (bytes); the ring's fd attached
    Kind.RING_DONE: (is_positive_int,),  # HTTP_RESPONSE_RING pieces copied out
    **CHANNEL_FIELDS,  # kinds 20-29: pagi.protocol.channel_messages
}

#: Field checks after ``[EVENT, scope_id, code]``, per event code.
_EVENT_FIELDS: dict[int, tuple[FieldCheck, ...]] = {
    Event.HTTP_REQUEST: (is_bytes, is_bool),  # body, more
    Event.HTTP_RESPONSE_START: (is_status, is_headers, is_bool),  # status, headers, trailers
    Event.HTTP_RESPONSE_BODY: (is_bytes, is_bool),  # body, more
    Event.HTTP_RESPONSE_FILE: (  # offset, length (None: to end of file)
        is_non_negative_int,
        is_optional_non_negative_int,
    ),
    Event.HTTP_RESPONSE_TRAILERS: (is_headers,),  # headers
    # offset, length, more
    Event.HTTP_RESPONSE_RING: (is_non_negative_int, is_positive_int, is_bool),
    Event.WS_SEND: (is_text_or_bytes, is_bool),  # data, more
    Event.WS_ACCEPT: (is_optional_str, is_headers),  # subprotocol, headers
    Event.WS_CLOSE: (is_close_code, is_str),  # code, reason
    Event.WS_KEEPALIVE: (is_seconds, is_optional_seconds),  # interval, timeout
    Event.WS_RECEIVE: (is_text_or_bytes, is_bool),  # data, more
    Event.WS_DISCONNECT: (is_close_code, is_str),  # code, reason
    Event.WS_RETURN_CREDIT: (),
    Event.SSE_KEEPALIVE: (is_seconds, is_str),  # interval, comment
    **RESUME_EVENT_FIELDS,  # version 5: WS_RESUMABLE, WS_RESUME_STATE, WS_MOVE, SSE_NO_RESUME
}

#: Fields an event may carry after its required ones, all or none:
#: HTTP_RESPONSE_START may carry the response's first body piece (``body``,
#: ``more``), meaning exactly what an HTTP_RESPONSE_BODY right after it means.
_EVENT_OPTIONAL_TAIL: dict[int, tuple[FieldCheck, ...]] = {
    Event.HTTP_RESPONSE_START: (is_bytes, is_bool),
}

#: Kinds the front may receive (sent by a worker) and vice versa.
FROM_WORKER = frozenset(
    {
        Kind.HELLO,
        Kind.EVENT,
        Kind.CREDIT,
        Kind.END,
        Kind.ABORT,
        Kind.DRAIN,
        Kind.PING,
        Kind.PONG,
        Kind.STATS,
        Kind.RING,
    }
    | CHANNELS_FROM_WORKER
)
FROM_FRONT = frozenset(
    {
        Kind.WELCOME,
        Kind.REJECT,
        Kind.OPEN,
        Kind.EVENT,
        Kind.CREDIT,
        Kind.CLOSE,
        Kind.DRAIN,
        Kind.PING,
        Kind.PONG,
        Kind.CREDITS,
        Kind.RING_DONE,
    }
    | CHANNELS_FROM_FRONT
)
#: Event codes each side may send.
EVENTS_FROM_WORKER = frozenset(
    {
        Event.HTTP_RESPONSE_START,
        Event.HTTP_RESPONSE_BODY,
        Event.HTTP_RESPONSE_FILE,
        Event.HTTP_RESPONSE_TRAILERS,
        Event.HTTP_RESPONSE_RING,
        Event.WS_SEND,
        Event.WS_ACCEPT,
        Event.WS_CLOSE,
        Event.WS_KEEPALIVE,
        Event.SSE_KEEPALIVE,
    }
    | RESUME_EVENTS_FROM_WORKER
)
EVENTS_FROM_FRONT = (
    frozenset({Event.HTTP_REQUEST, Event.WS_RECEIVE, Event.WS_DISCONNECT, Event.WS_RETURN_CREDIT})
    | RESUME_EVENTS_FROM_FRONT
)


def _check_fields(what: str, fields: Sequence[object], checks: tuple[FieldCheck, ...]) -> None:
    if len(fields) != len(checks):
        raise LinkError(f"{what}: expected {len(checks)} fields, got {len(fields)}")
    for index, (value, check) in enumerate(zip(fields, checks, strict=True)):
        if not check(value):
            raise LinkError(f"{what}: field {index} has invalid value {value!r:.80}")


_EVENT_KIND = int(Kind.EVENT)
_LINK_KIND_INTS = frozenset(int(k) for k in _LINK_KINDS)


def validate(msg: object, kinds: frozenset[int], events: frozenset[int]) -> Message:
    """Return ``msg`` if it is a well-formed message allowed in this direction.

    ``kinds`` and ``events`` are the kinds and event codes the decoding side
    accepts (:data:`FROM_WORKER`/:data:`EVENTS_FROM_WORKER` at the front,
    :data:`FROM_FRONT`/:data:`EVENTS_FROM_FRONT` at a worker).
    """
    if type(msg) is not list or len(msg) < 2:
        raise LinkError(f"message must be an array [kind, scope_id, ...], got {msg!r:.80}")
    kind = msg[0]
    scope_id = msg[1]
    if type(kind) is not int or kind not in kinds:
        raise LinkError(f"unknown or unexpected message kind {kind!r:.40}")
    if type(scope_id) is not int:
        raise LinkError(f"{Kind(kind).name}: scope_id must be an integer")
    if kind in _LINK_KIND_INTS:
        if scope_id != 0:
            raise LinkError(f"{Kind(kind).name}: scope_id must be 0 for a link message")
    elif scope_id <= 0:
        raise LinkError(f"{Kind(kind).name}: scope_id must be positive")
    if kind == _EVENT_KIND:
        code = msg[2] if len(msg) > 2 else None
        if type(code) is not int or code not in events:
            raise LinkError(f"EVENT: unknown or unexpected event code {msg[2:3]!r:.40}")
        fast = FAST_EVENT.get(code)
        if fast is None or not fast(msg):
            checks = _EVENT_FIELDS[code]
            tail = _EVENT_OPTIONAL_TAIL.get(code)
            if tail is not None and len(msg) - 3 == len(checks) + len(tail):
                checks = checks + tail
            _check_fields(Event(code).name, msg[3:], checks)
    else:
        fast = FAST_KIND.get(kind)
        if fast is None or not fast(msg):
            _check_fields(Kind(kind).name, msg[2:], _FIELDS[kind])
    return msg


def carries_fd(msg: Message) -> bool:
    """True for the messages that travel with a file descriptor (HTTP_RESPONSE_FILE, RING)."""
    return bool(
        (msg[0] == Kind.EVENT and msg[2] == Event.HTTP_RESPONSE_FILE) or msg[0] == Kind.RING
    )


# --- constructors -------------------------------------------------------------


def hello(version: int, info: dict[str, Any]) -> Message:
    return [Kind.HELLO, 0, version, info]


def welcome(version: int, info: dict[str, Any]) -> Message:
    return [Kind.WELCOME, 0, version, info]


def reject(reason: str) -> Message:
    return [Kind.REJECT, 0, reason]


def open_scope(
    scope_id: int,
    scope_type: str,
    http_version: str,
    method: str,
    scheme: str,
    raw_path: bytes,
    query_string: bytes,
    headers: Headers,
    client: list[Any] | None,
    server: list[Any] | None,
    extras: dict[str, Any],
    body_mode: BodyMode,
) -> Message:
    return [
        Kind.OPEN,
        scope_id,
        scope_type,
        http_version,
        method,
        scheme,
        raw_path,
        query_string,
        headers,
        client,
        server,
        extras,
        body_mode,
    ]


def event(scope_id: int, code: Event, *fields: Any) -> Message:
    return [Kind.EVENT, scope_id, code, *fields]


def credit(scope_id: int, nbytes: int) -> Message:
    return [Kind.CREDIT, scope_id, nbytes]


def credits(grants: dict[int, int]) -> Message:
    """One CREDITS message granting ``grants[scope_id]`` bytes per scope (in
    the dict's order); a single grant is sent as a plain CREDIT."""
    if len(grants) == 1:
        ((scope_id, nbytes),) = grants.items()
        return [Kind.CREDIT, scope_id, nbytes]
    pairs: list[int] = []
    for scope_id, nbytes in grants.items():
        pairs.append(scope_id)
        pairs.append(nbytes)
    return [Kind.CREDITS, 0, pairs]


def close(scope_id: int, reason: str) -> Message:
    return [Kind.CLOSE, scope_id, reason]


def end(scope_id: int, outcome: int, response_started: bool, detail: str) -> Message:
    return [Kind.END, scope_id, outcome, response_started, detail]


def abort(scope_id: int, detail: str) -> Message:
    return [Kind.ABORT, scope_id, detail]


def ring(size: int) -> Message:
    return [Kind.RING, 0, size]


def ring_done(pieces: int) -> Message:
    return [Kind.RING_DONE, 0, pieces]


def drain() -> Message:
    return [Kind.DRAIN, 0]


def ping(token: int) -> Message:
    return [Kind.PING, 0, token]


def pong(token: int) -> Message:
    return [Kind.PONG, 0, token]


def stats(info: dict[str, Any]) -> Message:
    return [Kind.STATS, 0, info]
