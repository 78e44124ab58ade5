"""Type checks of single worker-link message fields (pure predicates).

Each ``is_*`` function answers whether one decoded msgpack value may stand in
a field of that kind; :mod:`.messages` lists which check applies to which
field of which message. Checks use ``type(v) is T`` (not ``isinstance``):
``bool`` is not an int field, and msgpack only ever decodes the exact types.
"""

from .kinds import BodyMode

#: The body modes OPEN may carry.
BODY_MODES = frozenset(int(m) for m in BodyMode)


def is_int(v: object) -> bool:
    return type(v) is int


def is_non_negative_int(v: object) -> bool:
    return type(v) is int and v >= 0


def is_positive_int(v: object) -> bool:
    return type(v) is int and v > 0


def is_bool(v: object) -> bool:
    return type(v) is bool


def is_str(v: object) -> bool:
    return type(v) is str


def is_bytes(v: object) -> bool:
    return type(v) is bytes


def is_map(v: object) -> bool:
    return type(v) is dict


def is_optional_non_negative_int(v: object) -> bool:
    return v is None or is_non_negative_int(v)


def is_headers(v: object) -> bool:
    if type(v) is not list:
        return False
    for pair in v:
        if type(pair) is not list or len(pair) != 2:
            return False
        if type(pair[0]) is not bytes or type(pair[1]) is not bytes:
            return False
    return True


def is_address(v: object) -> bool:
    """``None`` or ``[host: str, port: int | None]``."""
    if v is None:
        return True
    return (
        type(v) is list
        and len(v) == 2
        and type(v[0]) is str
        and (v[1] is None or type(v[1]) is int)
    )


def is_body_mode(v: object) -> bool:
    return type(v) is int and v in BODY_MODES


def is_text_or_bytes(v: object) -> bool:
    return type(v) is str or type(v) is bytes


def is_optional_str(v: object) -> bool:
    return v is None or type(v) is str


def is_seconds(v: object) -> bool:
    return (type(v) is int or type(v) is float) and v >= 0


def is_optional_seconds(v: object) -> bool:
    return v is None or is_seconds(v)


def is_close_code(v: object) -> bool:
    return type(v) is int and 1000 <= v <= 4999


def is_credit_pairs(v: object) -> bool:
    """A non-empty flat list ``[scope_id, nbytes, scope_id, nbytes, ...]`` of
    positive integers."""
    if type(v) is not list or not v or len(v) % 2:
        return False
    return all(type(item) is int and item > 0 for item in v)


def is_status(v: object) -> bool:
    return type(v) is int and 100 <= v <= 999
