"""Finding the application object named by ``MODULE:ATTR``.

Every way this can go wrong raises :class:`AppLoadError`, whose message is one
line meant for a human reading stderr; the CLI prints it and exits with status
2. When the failure happened *inside* the user's code (an import that raises,
a nested missing dependency, a factory that raises), ``cause`` holds the
exception so the CLI can print its traceback first: the one-line message alone
would hide where the problem is.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class AppLoadError(Exception):
    """The app spec does not name a usable application."""

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.cause = cause


def exc_summary(exc: BaseException) -> str:
    """``"ExcType: first line of the message"`` (just the type if no message)."""
    text = str(exc).strip().splitlines()
    name = type(exc).__name__
    return f"{name}: {text[0]}" if text else name


def _describe(obj: object) -> str:
    name = type(obj).__name__
    article = "an" if name[:1].lower() in "aeiou" else "a"
    return f"{article} {name}"


def add_app_dir(app_dir: str) -> None:
    """Make ``app_dir`` the first place imports look (idempotent)."""
    path = os.path.abspath(app_dir)
    if sys.path[:1] != [path]:
        sys.path.insert(0, path)


def _import(module_name: str) -> Any:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        # The module itself (or one of its parent packages) does not exist:
        # a wrong spec, not a bug inside the app.
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            raise AppLoadError(f"cannot import module {module_name!r}: {exc}") from None
        raise AppLoadError(
            f"error while importing module {module_name!r}: {exc_summary(exc)}", exc
        ) from None
    except Exception as exc:
        raise AppLoadError(
            f"error while importing module {module_name!r}: {exc_summary(exc)}", exc
        ) from None


def load_app(spec: str, *, factory: bool = False) -> App:
    """Import ``MODULE`` and return ``ATTR`` (dotted attributes allowed).

    With ``factory``, ``ATTR`` is called with no arguments and its result is
    the application. The result must be callable; whether it really is an
    ``async def app(scope, receive, send)`` only shows when it is first called.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name.strip() or not attr.strip():
        raise AppLoadError(
            f"the app must be given as MODULE:ATTR (e.g. 'mypackage.main:app'), got {spec!r}"
        )
    obj: Any = _import(module_name)
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AppLoadError(f"module {module_name!r} has no attribute {attr!r}") from None
    if not callable(obj):
        raise AppLoadError(f"{spec!r} is not callable (it is {_describe(obj)})")
    if factory:
        try:
            obj = obj()
        except Exception as exc:
            raise AppLoadError(f"app factory {spec!r} raised {exc_summary(exc)}", exc) from None
        if inspect.isawaitable(obj):
            close = getattr(obj, "close", None)
            if close is not None:
                close()
            raise AppLoadError(
                f"app factory {spec!r} returned an awaitable; it must return the app itself"
            )
        if not callable(obj):
            raise AppLoadError(f"app factory {spec!r} returned {_describe(obj)}, not a callable")
    app: App = obj
    return app
