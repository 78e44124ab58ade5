"""Fast paths of the link validator for the per-request messages.

Each returns True when the message is well-formed; on False the generic table
check of :func:`.messages.validate` runs to name the bad field. Invariant: a
fast path accepts exactly what the table accepts
(``tests/unit/protocol/test_protocol_codec.py`` runs both on the same inputs).
"""

from collections.abc import Callable
from typing import Any

from .field_checks import BODY_MODES, is_address, is_headers
from .kinds import Event, Kind


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
        and bm in BODY_MODES
        and is_headers(headers)
        and is_address(client)
        and is_address(server)
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
        type(status) is int and 100 <= status <= 999 and type(msg[5]) is bool and is_headers(msg[4])
    )


def _fast_end(msg: list[Any]) -> bool:
    return len(msg) == 5 and type(msg[2]) is int and type(msg[3]) is bool and type(msg[4]) is str


def _fast_credit(msg: list[Any]) -> bool:  # CREDIT and RING_DONE
    return len(msg) == 3 and type(msg[2]) is int and msg[2] > 0


def _fast_ring(msg: list[Any]) -> bool:  # HTTP_RESPONSE_RING
    return (
        len(msg) == 6
        and type(msg[3]) is int
        and msg[3] >= 0
        and type(msg[4]) is int
        and msg[4] > 0
        and type(msg[5]) is bool
    )


# Keyed by plain ints: in Python 3.11 reading an IntEnum member (``Kind.OPEN``)
# costs several times a global lookup, and this runs for every message.
FAST_KIND: dict[int, Callable[[list[Any]], bool]] = {
    int(Kind.OPEN): _fast_open,
    int(Kind.END): _fast_end,
    int(Kind.CREDIT): _fast_credit,
    int(Kind.RING_DONE): _fast_credit,
}
FAST_EVENT: dict[int, Callable[[list[Any]], bool]] = {
    int(Event.HTTP_REQUEST): _fast_body,
    int(Event.HTTP_RESPONSE_BODY): _fast_body,
    int(Event.HTTP_RESPONSE_START): _fast_start,
    int(Event.HTTP_RESPONSE_RING): _fast_ring,
    int(Event.WS_SEND): _fast_ws_data,
    int(Event.WS_RECEIVE): _fast_ws_data,
}
