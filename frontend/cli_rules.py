"""Checks across several ``pagi-front`` options, and ``--host/--port``.

A combination that cannot mean anything is refused with one line (exit 2)
when it comes from the command line; when one side of it comes only from the
environment (a shared ``EnvironmentFile=``, an ``--env-file``) it is ignored
with one warning instead, because such files are often written for both
programs. The rules:

* the app is given once: ``APP`` or ``--app`` (the same value twice is fine);
* the embedded-mode options (``--workers``, ``--app-dir``, ``--factory``,
  ``--lifespan``, ``--sse-scope``, ``--root-path``, ``--limit-concurrency``, ``--reload``)
  need an app: without one the front spawns nothing and they would be
  silently ignored;
* ``--host``/``--port`` are a spelling of one ``--bind HOST:PORT`` and do not
  mix with ``--bind``;
* a ``tls://`` bind needs ``--ssl-certfile``, and ``--ssl-certfile`` needs a
  ``tls://`` bind; ``--ssl-cert-reqs optional|required`` needs ``--ssl-ca-certs``;
* sockets passed by systemd (``LISTEN_FDS``) are served besides ``--fd``.
"""

from __future__ import annotations

import typer

from .cli_fast import EMBEDDED_ONLY, host_port_address
from .config import FrontConfig
from .listeners import parse_bind
from .socket_activation import ActivationError, listen_fds

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
    return [host_port_address(host, port)]


def check_tls(ctx: typer.Context, config: FrontConfig) -> None:
    """A tls:// bind needs a certificate; a certificate needs a tls:// bind."""
    tls_binds = [b for b in config.binds if parse_bind(b).tls]
    if tls_binds and not config.ssl_certfile:
        ctx.fail(f"--bind {tls_binds[0]} needs a certificate: give --ssl-certfile")
    if config.ssl_certfile and not tls_binds:
        ctx.fail(
            "--ssl-certfile is given but no --bind is a TLS listener: prefix one with "
            "tls://, e.g. --bind tls://0.0.0.0:8443"
        )
    if config.ssl_cert_reqs != "none" and not config.ssl_ca_certs:
        ctx.fail(f"--ssl-cert-reqs {config.ssl_cert_reqs} needs --ssl-ca-certs to verify clients")


def add_activated_sockets(config: FrontConfig) -> None:
    """Serve the sockets systemd passed (``LISTEN_FDS``) besides any ``--fd``;
    each keeps its ``FileDescriptorName=`` (``config.fd_names``)."""
    try:
        activated = listen_fds()
    except ActivationError as exc:
        typer.echo(f"Error: socket activation: {exc}", err=True)
        raise typer.Exit(2) from None
    for sock in activated:
        if sock.fd not in config.fds:
            config.fds.append(sock.fd)
        config.fd_names[sock.fd] = sock.name
