"""Checks across several ``pagi-front`` options, and ``--host/--port``.

A combination that cannot mean anything is refused with one line (exit 2)
when it comes from the command line; when one side of it comes only from the
environment (a shared ``EnvironmentFile=``, an ``--env-file``) it is ignored
with one warning instead, because such files are often written for both
programs. The rules:

* the app is given once: ``APP`` or ``--app`` (the same value twice is fine);
* the embedded-mode options (``--workers``, ``--app-dir``, ``--factory``,
  ``--lifespan``, ``--sse-scope``, ``--root-path``) need an app: without one
  the front spawns nothing and they would be silently ignored;
* ``--host``/``--port`` are a spelling of one ``--bind HOST:PORT`` and do not
  mix with ``--bind``.
"""

from __future__ import annotations

import typer

EMBEDDED_ONLY = ("workers", "app_dir", "factory", "lifespan", "sse_scope", "root_path")

# Sources compared by name: typer ships its own copy of click, so the enum
# class is not importable from one stable place.
_FROM_USER = ("COMMANDLINE", "ENVIRONMENT")


def _given(ctx: typer.Context, name: str) -> str | None:
    """``COMMANDLINE`` or ``ENVIRONMENT`` when the user set ``name``; None for defaults."""
    source = ctx.get_parameter_source(name)
    return source.name if source is not None and source.name in _FROM_USER else None


def _label(ctx: typer.Context, name: str) -> str:
    """``--workers`` as the user wrote it, or ``PAGI_WORKERS`` when it came from there."""
    param = next(p for p in ctx.command.params if p.name == name)
    if _given(ctx, name) == "ENVIRONMENT" and isinstance(param.envvar, str):
        return f"{param.envvar} (from the environment)"
    if param.param_type_name == "option":
        return str(param.opts[0])
    return name.upper()


def resolve_app(ctx: typer.Context, positional: str | None, option: str | None) -> str | None:
    """The one app of ``APP`` and ``--app``; refuses two different ones."""
    if positional is not None and option is not None and positional != option:
        ctx.fail(f"two apps given ({positional} as APP and {option} as --app): give one")
    return positional if positional is not None else option


def check_embedded_options(ctx: typer.Context, app: str | None) -> list[str]:
    """Refuse embedded-only options typed without an app; warnings for env-only ones."""
    if app is not None:
        return []
    warnings = []
    for name in EMBEDDED_ONLY:
        source = _given(ctx, name)
        if source is None:
            continue
        label = _label(ctx, name)
        if source == "COMMANDLINE":
            ctx.fail(
                f"{label} needs an app (pagi-front MODULE:ATTR {label} ...); without one "
                "the front spawns no workers and serves those started with pagi-worker"
            )
        warnings.append(f"{label} is ignored: no app is given, so no workers are spawned")
    return warnings


def host_port_bind(
    ctx: typer.Context, host: str | None, port: int | None, binds: list[str] | None
) -> list[str]:
    """``--bind`` values, with ``--host/--port`` turned into one (127.0.0.1, 8000 defaults)."""
    if host is None and port is None:
        return list(binds or ())
    if binds:
        spelled = (
            "--host/--port"
            if host is not None and port is not None
            else ("--host" if host is not None else "--port")
        )
        ctx.fail(
            f"{spelled} and {_label(ctx, 'bind')} both give the address: use one "
            "(--host H --port P is --bind H:P)"
        )
    host = host or "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return [f"{host}:{8000 if port is None else port}"]
