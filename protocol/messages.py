"""Shapes of worker-link messages: constructors and the validator.

A message is a Python list ``[kind, scope_id, *fields]`` exactly as msgpack
decodes it. :func:`validate` checks a decoded message against the table below
(arity and the type of every field, per kind and per event code) and that the
kind may travel in the direction being decoded; anything else raises
:class:`~pagi.protocol.errors.LinkError`. After validation, consumers may index
fields without further checks.

Constructors build the same lists; they do not validate (the sender is trusted
to be this code), which keeps the hot path to one list per message.
"""

from collections.abc import Callable, Sequence
from typing import Any

from .errors import LinkError
from .kinds import BodyMode, Event, Kind

Message = list[Any]
Headers = Sequence[Sequence[bytes]]  # [name, value] pairs; tuples accepted when sending

FieldCheck = Callable[[object], bool]


def _is_int(v: object) -> bool:
    return type(v) is int


def _is_non_negative_int(v: object) -> bool:
    return type(v) is int and v >= 0


def _is_positive_int(v: object) -> bool:
    return type(v) is int and v > 0


def _is_bool(v: object) -> bool:
    return type(v) is bool


def _is_str(v: object) -> bool:
    return type(v) is str


def _is_bytes(v: object) -> bool:
    return type(v) is bytes


def _is_map(v: object) -> bool:
    return type(v) is dict


def _is_optional_non_negative_int(v: object) -> bool:
    return v is None or _is_non_negative_int(v)


def _is_headers(v: object) -> bool:
    if type(v) is not list:
        return False
    for pair in v:
        if type(pair) is not list or len(pair) != 2:
            return False
        if type(pair[0]) is not bytes or type(pair[1]) is not bytes:
            return False
    return True


def _is_address(v: object) -> bool:
    """``None`` or ``[host: str, port: int | None]``."""
    if v is None:
        return True
    return (
        type(v) is list
        and len(v) == 2
        and type(v[0]) is str
        and (v[1] is None or type(v[1]) is int)
    )


def _is_body_mode(v: object) -> bool:
    return type(v) is int and v in _BODY_MODES


def _is_text_or_bytes(v: object) -> bool:
    return type(v) is str or type(v) is bytes


def _is_optional_str(v: object) -> bool:
    return v is None or type(v) is str


def _is_seconds(v: object) -> bool:
    return (type(v) is int or type(v) is float) and v >= 0


def _is_optional_seconds(v: object) -> bool:
    return v is None or _is_seconds(v)


def _is_close_code(v: object) -> bool:
    return type(v) is int and 1000 <= v <= 4999


def _is_credit_pairs(v: object) -> bool:
    """A non-empty flat list ``[scope_id, nbytes, scope_id, nbytes, ...]`` of
    positive integers."""
    if type(v) is not list or not v or len(v) % 2:
        return False
    return all(type(item) is int and item > 0 for item in v)


def _is_status(v: object) -> bool:
    return type(v) is int and 100 <= v <= 999


_BODY_MODES = frozenset(int(m) for m in BodyMode)

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
    }
)

#: Field checks after ``[kind, scope_id]``, per kind (EVENT handled separately).
_FIELDS: dict[int, tuple[FieldCheck, ...]] = {
    Kind.HELLO: (_is_int, _is_map),  # version, info
    Kind.WELCOME: (_is_int, _is_map),  # version, info
    Kind.REJECT: (_is_str,),  # reason
    Kind.OPEN: (
        _is_str,  # scope type: "http" | "websocket" | "sse"
        _is_str,  # http_version
        _is_str,  # method
        _is_str,  # scheme
        _is_bytes,  # raw_path
        _is_bytes,  # query_string
        _is_headers,  # headers
        _is_address,  # client
        _is_address,  # server
        _is_map,  # extras (subprotocols, extensions, ...)
        _is_body_mode,  # body mode
    ),
    Kind.CREDIT: (_is_positive_int,),  # bytes granted
    Kind.CLOSE: (_is_str,),  # reason
    Kind.END: (_is_int, _is_bool, _is_str),  # outcome, response_started, detail
    Kind.DRAIN: (),
    Kind.PING: (_is_int,),  # token
    Kind.PONG: (_is_int,),  # token
    Kind.STATS: (_is_map,),
    Kind.CREDITS: (_is_credit_pairs,),  # [scope_id, nbytes, ...]
}

#: Field checks after ``[EVENT, scope_id, code]``, per event code.
_EVENT_FIELDS: dict[int, tuple[FieldCheck, ...]] = {
    Event.HTTP_REQUEST: (_is_bytes, _is_bool),  # body, more
    Event.HTTP_RESPONSE_START: (_is_status, _is_headers, _is_bool),  # status, headers, trailers
    Event.HTTP_RESPONSE_BODY: (_is_bytes, _is_bool),  # body, more
    Event.HTTP_RESPONSE_FILE: (  # offset, length (None: to end of file)
        _is_non_negative_int,
        _is_optional_non_negative_int,
    ),
    Event.HTTP_RESPONSE_TRAILERS: (_is_headers,),  # headers
    Event.WS_SEND: (_is_text_or_bytes, _is_bool),  # data, more
    Event.WS_ACCEPT: (_is_optional_str, _is_headers),  # subprotocol, headers
    Event.WS_CLOSE: (_is_close_code, _is_str),  # code, reason
    Event.WS_KEEPALIVE: (_is_seconds, _is_optional_seconds),  # interval, timeout
    Event.WS_RECEIVE: (_is_text_or_bytes, _is_bool),  # data, more
    Event.WS_DISCONNECT: (_is_close_code, _is_str),  # code, reason
    Event.WS_RETURN_CREDIT: (),
    Event.SSE_KEEPALIVE: (_is_seconds, _is_str),  # interval, comment
}

#: Fields an event may carry after its required ones, all or none:
#: HTTP_RESPONSE_START may carry the response's first body piece (``body``,
#: ``more``), meaning exactly what an HTTP_RESPONSE_BODY right after it means.
_EVENT_OPTIONAL_TAIL: dict[int, tuple[FieldCheck, ...]] = {
    Event.HTTP_RESPONSE_START: (_is_bytes, _is_bool),
}

#: Kinds the front may receive (sent by a worker) and vice versa.
FROM_WORKER = frozenset(
    {
        Kind.HELLO,
        Kind.EVENT,
        Kind.CREDIT,
        Kind.END,
        Kind.DRAIN,
        Kind.PING,
        Kind.PONG,
        Kind.STATS,
    }
)
FROM_FRONT = frozenset(
    {
        Kind.WELCOME,
        Kind.REJECT,
        Kind.OPEN,
        Kind.EVENT,
        Kind.CREDIT,
        Kind.CLOSE,
        Kind.PING,
        Kind.PONG,
        Kind.CREDITS,
    }
)
#: Event codes each side may send.
EVENTS_FROM_WORKER = frozenset(
    {
        Event.HTTP_RESPONSE_START,
        Event.HTTP_RESPONSE_BODY,
        Event.HTTP_RESPONSE_FILE,
        Event.HTTP_RESPONSE_TRAILERS,
        Event.WS_SEND,
        Event.WS_ACCEPT,
        Event.WS_CLOSE,
        Event.WS_KEEPALIVE,
        Event.SSE_KEEPALIVE,
    }
)
EVENTS_FROM_FRONT = frozenset(
    {Event.HTTP_REQUEST, Event.WS_RECEIVE, Event.WS_DISCONNECT, Event.WS_RETURN_CREDIT}
)


def _check_fields(what: str, fields: Sequence[object], checks: tuple[FieldCheck, ...]) -> None:
    if len(fields) != len(checks):
        raise LinkError(f"{what}: expected {len(checks)} fields, got {len(fields)}")
    for index, (value, check) in enumerate(zip(fields, checks, strict=True)):
        if not check(value):
            raise LinkError(f"{what}: field {index} has invalid value {value!r:.80}")


# Fast paths for the per-request messages. Each returns True when the message is
# well-formed; on False the generic table check runs to name the bad field. They
# must accept exactly what the table accepts (tests/unit/protocol/test_protocol_codec.py
# runs both on the same inputs).


def _fast_open(msg: list[Any]) -> bool:
    if len(msg) != 13:
        return False
    _k, _s, st, hv, method, scheme, raw_path, qs, headers, client, server, extras, bm = msg
    return (
        type(st) is str
        and type(hv) is str
        and type(method) is str
        and type(scheme) is str
        and type(raw_path) is bytes
        and type(qs) is bytes
        and type(extras) is dict
        and type(bm) is int
        and bm in _BODY_MODES
        and _is_headers(headers)
        and _is_address(client)
        and _is_address(server)
    )


def _fast_body(msg: list[Any]) -> bool:  # HTTP_REQUEST and HTTP_RESPONSE_BODY
    return len(msg) == 5 and type(msg[3]) is bytes and type(msg[4]) is bool


def _fast_ws_data(msg: list[Any]) -> bool:  # WS_SEND and WS_RECEIVE
    return len(msg) == 5 and (type(msg[3]) is str or type(msg[3]) is bytes) and type(msg[4]) is bool


def _fast_start(msg: list[Any]) -> bool:
    size = len(msg)
    if size != 6 and (size != 8 or type(msg[6]) is not bytes or type(msg[7]) is not bool):
        return False
    status = msg[3]
    return (
        type(status) is int
        and 100 <= status <= 999
        and type(msg[5]) is bool
        and _is_headers(msg[4])
    )


def _fast_end(msg: list[Any]) -> bool:
    return len(msg) == 5 and type(msg[2]) is int and type(msg[3]) is bool and type(msg[4]) is str


def _fast_credit(msg: list[Any]) -> bool:
    return len(msg) == 3 and type(msg[2]) is int and msg[2] > 0


_FAST_KIND: dict[int, Callable[[list[Any]], bool]] = {
    Kind.OPEN: _fast_open,
    Kind.END: _fast_end,
    Kind.CREDIT: _fast_credit,
}
_FAST_EVENT: dict[int, Callable[[list[Any]], bool]] = {
    Event.HTTP_REQUEST: _fast_body,
    Event.HTTP_RESPONSE_BODY: _fast_body,
    Event.HTTP_RESPONSE_START: _fast_start,
    Event.WS_SEND: _fast_ws_data,
    Event.WS_RECEIVE: _fast_ws_data,
}


def validate(msg: object, kinds: frozenset[Kind], events: frozenset[Event]) -> Message:
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
    if kind in _LINK_KINDS:
        if scope_id != 0:
            raise LinkError(f"{Kind(kind).name}: scope_id must be 0 for a link message")
    elif scope_id <= 0:
        raise LinkError(f"{Kind(kind).name}: scope_id must be positive")
    if kind == Kind.EVENT:
        code = msg[2] if len(msg) > 2 else None
        if type(code) is not int or code not in events:
            raise LinkError(f"EVENT: unknown or unexpected event code {msg[2:3]!r:.40}")
        fast = _FAST_EVENT.get(code)
        if fast is None or not fast(msg):
            checks = _EVENT_FIELDS[code]
            tail = _EVENT_OPTIONAL_TAIL.get(code)
            if tail is not None and len(msg) - 3 == len(checks) + len(tail):
                checks = checks + tail
            _check_fields(Event(code).name, msg[3:], checks)
    else:
        fast = _FAST_KIND.get(kind)
        if fast is None or not fast(msg):
            _check_fields(Kind(kind).name, msg[2:], _FIELDS[kind])
    return msg


def carries_fd(msg: Message) -> bool:
    """True for the one message that travels with a file descriptor."""
    return bool(msg[0] == Kind.EVENT and msg[2] == Event.HTTP_RESPONSE_FILE)


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


def drain() -> Message:
    return [Kind.DRAIN, 0]


def ping(token: int) -> Message:
    return [Kind.PING, 0, token]


def pong(token: int) -> Message:
    return [Kind.PONG, 0, token]


def stats(info: dict[str, Any]) -> Message:
    return [Kind.STATS, 0, info]
