"""``pagi-ctl``: talk to a running front over ``<socket-dir>/control.sock``.

Text for people, ``--json`` for scripts (the control API's own JSON, as is).
Exit status: 0 done; 1 the front refused or the operation failed (reason on
stderr); 2 bad usage; 3 no front answers on the control socket; 4
``status --ready`` / ``wait`` found no ready worker in time.

This module imports only the standard library and typer: it is a client of
the documented HTTP API (``docs/operations.md``), not of the front's code.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import sys
import time
from typing import Annotated, Any

import typer

CONTROL_SOCKET_NAME = "control.sock"


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class ControlError(Exception):
    """A request that failed: ``code`` is pagi-ctl's exit status for it."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Client:
    """One request per call to the control socket; errors exit the command."""

    def __init__(self, socket_dir: str, timeout: float) -> None:
        self.path = os.path.join(socket_dir, CONTROL_SOCKET_NAME)
        self.timeout = timeout

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            return self.request(method, path, body)
        except ControlError as exc:
            return _fail(exc.code, exc.message)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Like :meth:`call`, but raises :class:`ControlError` instead of exiting."""
        conn = _UnixHTTPConnection(self.path, self.timeout)
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"content-type": "application/json"} if payload is not None else {}
        try:
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise ControlError(
                3, f"no pagi-front answers on {self.path}: {exc.strerror or exc}"
            ) from None
        except PermissionError as exc:
            raise ControlError(
                3, f"cannot use {self.path}: {exc.strerror} (run as the front's user)"
            ) from None
        except OSError as exc:
            raise ControlError(3, f"{self.path}: {exc}") from None
        finally:
            conn.close()
        if response.headers.get_content_type() != "application/json":
            if response.status >= 400:
                raise ControlError(1, data.decode(errors="replace").strip())
            return data.decode(errors="replace")
        value = json.loads(data) if data else {}
        if response.status >= 400:
            raise ControlError(1, str(value.get("error", value)))
        return value


def _fail(code: int, message: str) -> Any:
    typer.echo(f"pagi-ctl: {message}", err=True)
    raise typer.Exit(code)


def _client(ctx: typer.Context) -> Client:
    client = ctx.obj
    assert isinstance(client, Client)
    return client


def _emit(value: Any, as_json: bool, text: str) -> None:
    typer.echo(json.dumps(value, indent=2, sort_keys=True) if as_json else text)


def format_age(seconds: object) -> str:
    if not isinstance(seconds, (int, float)):
        return "-"
    s = int(seconds)
    if s < 60:
        return f"{seconds:.1f}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def format_size(value: object) -> str:
    if not isinstance(value, int):
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value = value / 1024  # type: ignore[assignment]
    return "-"


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def format_status(status: dict[str, Any]) -> str:
    front = status["front"]
    listeners = ", ".join(
        item["url"] + (f" ({item['name']})" if item.get("name") else "")
        for item in front["listeners"]
    )
    conns = ", ".join(f"{k} {v}" for k, v in sorted(front["connections"].items())) or "none"
    mode = f"embedded ({front['app']})" if front["mode"] == "embedded" else "split layout"
    lines = [
        f"front pid {front['pid']}, up {format_age(front['uptime'])}, {mode}",
        f"listening on {listeners}",
        f"connections: {conns}",
    ]
    reload = status["reload"]
    if reload["running"] is not None:
        lines.append(f"reload #{reload['running']['id']} running")
    last = reload["last"]
    if last is not None:
        outcome = last["state"]
        if last["duration"] is not None:
            outcome += f" in {last['duration']:.2f} s"
        if last["reason"]:
            outcome += f": {last['reason']}"
        lines.append(f"last reload #{last['id']}: {outcome}")
    rows = [["ID", "NAME", "PID", "STATE", "AGE", "IN-FLIGHT", "SERVED", "RSS", "HEARTBEAT"]]
    for w in status["workers"]:
        beat = w["last_heartbeat"]
        rows.append(
            [
                str(w["id"]),
                str(w["name"]),
                str(w["pid"]),
                str(w["state"]),
                format_age(w["age"]),
                str(w["in_flight"]),
                str(w["served"]),
                format_size(w["rss"]),
                "-" if beat is None else f"{beat:.1f}s ago",
            ]
        )
    lines.append(f"workers: {len(rows) - 1}")
    if len(rows) > 1:
        lines.append(_table(rows))
    return "\n".join(lines)


CONNECTION_COLUMNS = ("PEER", "PROTOCOL", "AGE", "IN", "OUT", "SCOPE", "REQUEST", "WORKER")


def connection_row(c: dict[str, Any]) -> list[str]:
    """One entry of ``GET /connections`` as the cells of :data:`CONNECTION_COLUMNS`
    (``connections`` and ``top`` both show it so)."""
    req = c.get("request") or {}
    target = " ".join(str(req[k]) for k in ("method", "target") if req.get(k))
    if req.get("type") == "streams":  # an HTTP/2 connection: its streams summed up
        target = str(req.get("summary") or "")
    return [
        str(c["peer"]),
        str(c["protocol"]),
        format_age(c.get("age")),
        format_size(c.get("bytes_in")),
        format_size(c.get("bytes_out")),
        str(req.get("type", "-")),
        target or "-",
        str(req.get("worker") or "-"),
    ]


def format_connections(conns: list[dict[str, Any]]) -> str:
    rows = [list(CONNECTION_COLUMNS), *(connection_row(c) for c in conns)]
    return f"{len(conns)} connection(s)" + ("\n" + _table(rows) if conns else "")


def _ready_workers(status: dict[str, Any]) -> int:
    return sum(1 for w in status["workers"] if w["state"] == "ready")


cli = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
    help="Inspect and operate a running pagi-front over its control socket.",
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]


@cli.callback()
def _main(
    ctx: typer.Context,
    socket_dir: Annotated[
        str,
        typer.Option(
            envvar="PAGI_SOCKET_DIR",
            metavar="DIR",
            help="The front's socket dir (holding control.sock).",
        ),
    ] = "/run/pagi",
    timeout: Annotated[
        float, typer.Option(metavar="SECONDS", help="Socket timeout of each request.")
    ] = 30.0,
) -> None:
    ctx.obj = Client(socket_dir, timeout)


@cli.command(help="The front and each worker.")
def status(
    ctx: typer.Context,
    as_json: JsonOption = False,
    ready: Annotated[
        bool, typer.Option("--ready", help="Exit 4 unless at least one worker is ready.")
    ] = False,
) -> None:
    value = _client(ctx).call("GET", "/status")
    _emit(value, as_json, format_status(value))
    if ready and _ready_workers(value) == 0:
        raise typer.Exit(4)


@cli.command(help="Every open client connection.")
def connections(ctx: typer.Context, as_json: JsonOption = False) -> None:
    value = _client(ctx).call("GET", "/connections")
    _emit(value, as_json, format_connections(value["connections"]))


@cli.command(help="Counters (requests, latency, bytes, reloads, shed requests).")
def stats(ctx: typer.Context, as_json: JsonOption = False) -> None:
    value = _client(ctx).call("GET", "/stats")
    if as_json:
        _emit(value, True, "")
        return
    lines = []
    for scope, counts in value["requests"].items():
        done = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        lines.append(f"{scope}: {done or 'none'}")
    for key in ("in_flight", "bytes_sent", "connections_accepted", "reloads", "respawns"):
        lines.append(f"{key}: {value[key]}")
    lines.append("shed: " + ", ".join(f"{k} {v}" for k, v in value["shed"].items()))
    typer.echo("\n".join(lines))


@cli.command(help="Prometheus exposition, as a scraper sees it.")
def metrics(ctx: typer.Context) -> None:
    typer.echo(_client(ctx).call("GET", "/metrics"), nl=False)


@cli.command(help="Rolling reload: fresh workers first, then the old ones drain.")
def reload(
    ctx: typer.Context,
    as_json: JsonOption = False,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait until the reload is over.")
    ] = True,
) -> None:
    value = _client(ctx).call("POST", "/reload?wait=1" if wait else "/reload")
    record = value["reload"]
    text = f"reload #{record['id']}: {record['state']}"
    if record.get("reason"):
        text += f": {record['reason']}"
    _emit(value, as_json, text)
    if record["state"] == "failed":
        raise typer.Exit(1)


@cli.command(help="Run N workers (embedded mode).")
def scale(ctx: typer.Context, workers: int, as_json: JsonOption = False) -> None:
    if workers < 1:
        _fail(2, "N must be at least 1")
    value = _client(ctx).call("POST", "/scale", {"workers": workers})
    info = value["workers"]
    _emit(value, as_json, f"workers: {info['before']} -> {info['target']}")


@cli.command(help="Replace one worker: a fresh one first, then WORKER (id, name or pid) drains.")
def drain(ctx: typer.Context, worker: str, as_json: JsonOption = False) -> None:
    value = _client(ctx).call("POST", "/drain", {"worker": worker})
    info = value["draining"]
    _emit(value, as_json, f"draining worker {info['name']} (pid {info['pid']})")


@cli.command(help="Live view of workers and connections (q quits). Needs pagi-server[ctl].")
def top(
    ctx: typer.Context,
    interval: Annotated[
        float, typer.Option(metavar="SECONDS", min=0.1, help="Time between two refreshes.")
    ] = 1.0,
) -> None:
    try:
        from . import ctl_top
    except ImportError as exc:
        _fail(
            2,
            f"top needs the rich package ({exc.name or exc}): pip install 'pagi-server[ctl]'",
        )
    client = _client(ctx)

    def fetch() -> ctl_top.Sample:
        status = client.request("GET", "/status")
        stats = client.request("GET", "/stats")
        conns = client.request("GET", "/connections")["connections"]
        return ctl_top.Sample(time.monotonic(), status, stats, conns)

    try:
        ctl_top.run(fetch, interval)
    except ControlError as exc:
        _fail(exc.code, exc.message)


@cli.command(help="Wait until at least N workers are ready (for deploy scripts).")
def wait(
    ctx: typer.Context,
    workers: Annotated[int, typer.Option(metavar="N", help="Ready workers to wait for.")] = 1,
    wait_timeout: Annotated[
        float, typer.Option("--wait-timeout", metavar="SECONDS", help="Give up after this.")
    ] = 60.0,
) -> None:
    client = _client(ctx)
    deadline = time.monotonic() + wait_timeout
    while True:
        ready = _ready_workers(client.call("GET", "/status"))
        if ready >= workers:
            typer.echo(f"{ready} worker(s) ready")
            return
        if time.monotonic() >= deadline:
            typer.echo(f"pagi-ctl: only {ready} of {workers} worker(s) ready", err=True)
            raise typer.Exit(4)
        time.sleep(0.2)


def main() -> None:
    """Console-script entry point (``pagi-ctl``)."""
    cli(prog_name="pagi-ctl")


if __name__ == "__main__":  # pragma: no cover
    main()
    sys.exit(0)
