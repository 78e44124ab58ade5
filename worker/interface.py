"""Which contract the app was written for: PAGI (Www 0.6) or ASGI (3.0, spec 2.4).

The two agree on the calling convention and most events, and disagree on a
few points (``docs/spec.md`` has the table). A worker serves one app, so it
decides once, at start-up, and every scope of the process follows that
decision (:class:`Interface`):

* ``--interface pagi`` / ``asgi``: as told.
* ``--interface auto`` (default): ``asgi`` when the app is, or wraps, an
  object of a package known to be an ASGI framework, server middleware or
  adapter (Starlette, FastAPI, Django, Channels, Quart, Litestar, a2wsgi...);
  otherwise ``pagi``. "Wraps" follows the attributes middleware conventionally
  keep the next app in (``app``, ``application``, ...), a few levels deep. An
  app can also say it: a ``__pagi_interface__`` attribute of ``"pagi"`` or
  ``"asgi"`` on the app object wins over the guess.

Invariant: :func:`resolve` never raises and never calls the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

PAGI: Final = "pagi"
ASGI: Final = "asgi"

#: Top-level packages whose apps speak ASGI (frameworks, adapters, middleware).
ASGI_PACKAGES: Final = frozenset(
    {
        "a2wsgi",
        "asgiref",
        "baize",
        "blacksheep",
        "channels",
        "django",
        "esmerald",
        "falcon",
        "fastapi",
        "litestar",
        "quart",
        "sanic",
        "sentry_sdk",
        "socketio",
        "engineio",
        "starlette",
        "strawberry",
        "uvicorn",
        "whitenoise",
        "servestatic",
        "ariadne",
        "opentelemetry",
        "lilya",
        "muffin",
        "emmett",
    }
)

#: Attributes in which middleware objects keep the app they wrap.
_WRAPPED_ATTRS: Final = ("app", "application", "asgi_app", "wrapped", "__wrapped__")
_MAX_DEPTH: Final = 8


@dataclass(frozen=True, slots=True)
class Interface:
    """What one interface means for the scopes the worker builds and the
    events it accepts (one row each of the table in ``docs/spec.md``)."""

    name: str  # "pagi" or "asgi"; also HELLO's "interface" ("asgi3" for asgi)
    #: the version keys put into every http/websocket/sse scope
    version_keys: tuple[tuple[str, dict[str, str]], ...]
    #: ``path``/``raw_path`` include ``root_path`` (the ASGI rule, as uvicorn)
    path_includes_root: bool
    #: ``send()`` after the client side is gone raises ``ClientDisconnected``
    #: (an ``OSError``) instead of doing nothing
    raise_after_disconnect: bool
    #: websocket: ``websocket.close`` before accept denies with 403 (ASGI) or
    #: fails the send (PAGI: refuse with ``http.response.*``)
    close_before_accept_denies: bool
    #: the event-type prefix of a websocket refusal response
    ws_refusal_prefix: str
    #: the app gets ``sse`` scopes at all (subject to ``--sse-scope``)
    sse_scopes: bool
    #: an sse stream is ended cleanly only by ``sse.close``; an app that
    #: returns without it leaves an incomplete response (PAGI 0.6)
    sse_close_required: bool
    #: an accepted websocket whose app returns without closing is closed by
    #: the worker with 1011 (PAGI 0.6); ASGI servers close with 1000
    ws_return_closes_1011: bool

    @property
    def hello_name(self) -> str:
        return "asgi3" if self.name == ASGI else self.name


PAGI_INTERFACE: Final = Interface(
    name=PAGI,
    version_keys=(("pagi", {"version": "0.5", "spec_version": "0.6"}),),
    path_includes_root=False,
    raise_after_disconnect=False,
    close_before_accept_denies=False,
    ws_refusal_prefix="http.response.",
    sse_scopes=True,
    sse_close_required=True,
    ws_return_closes_1011=True,
)

ASGI_INTERFACE: Final = Interface(
    name=ASGI,
    version_keys=(("asgi", {"version": "3.0", "spec_version": "2.4"}),),
    path_includes_root=True,
    raise_after_disconnect=True,
    close_before_accept_denies=True,
    ws_refusal_prefix="websocket.http.response.",
    sse_scopes=False,
    sse_close_required=False,
    ws_return_closes_1011=False,
)


def by_name(name: str) -> Interface:
    return ASGI_INTERFACE if name == ASGI else PAGI_INTERFACE


def resolve(mode: str, app: object) -> tuple[Interface, str]:
    """The interface for ``app`` under ``--interface mode``, and why (for the log)."""
    if mode in (PAGI, ASGI):
        return by_name(mode), f"--interface {mode}"
    declared, owner = _declared(app)
    if declared is not None:
        return by_name(declared), f"{owner} declares __pagi_interface__ = {declared!r}"
    package = _asgi_package(app)
    if package is not None:
        return ASGI_INTERFACE, f"the app is built on {package}, an ASGI package"
    return PAGI_INTERFACE, "no known ASGI framework found in the app"


def _chain(app: object) -> list[object]:
    """``app`` and the objects it wraps, outermost first (no repeats)."""
    seen: list[object] = []
    current: Any = app
    for _ in range(_MAX_DEPTH):
        if current is None or any(current is s for s in seen):
            break
        seen.append(current)
        nxt = None
        for attr in _WRAPPED_ATTRS:
            try:
                candidate = getattr(current, attr, None)
            except Exception:  # a property that raises: not a wrapper
                candidate = None
            if candidate is not None and callable(candidate):
                nxt = candidate
                break
        current = nxt
    return seen


def _declared(app: object) -> tuple[str | None, str]:
    for obj in _chain(app):
        try:
            value = getattr(obj, "__pagi_interface__", None)
        except Exception:
            value = None
        if value in (PAGI, ASGI):
            return value, _describe(obj)
    return None, ""


def _asgi_package(app: object) -> str | None:
    for obj in _chain(app):
        for module in _modules_of(obj):
            top = module.partition(".")[0]
            if top in ASGI_PACKAGES:
                return top
    return None


def _modules_of(obj: object) -> list[str]:
    """The modules that define ``obj``: its own (functions, classes) and its
    class and the class's bases (instances)."""
    modules: list[str] = []
    own = getattr(obj, "__module__", None)
    if isinstance(own, str):
        modules.append(own)
    if not isinstance(obj, type):
        for cls in type(obj).__mro__:
            module = getattr(cls, "__module__", None)
            if isinstance(module, str) and module != "builtins":
                modules.append(module)
    return modules


def _describe(obj: object) -> str:
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return f"{getattr(obj, '__module__', '?')}.{name}"
