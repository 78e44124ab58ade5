"""Options of the ``pagi-front`` command line: the app, its workers and their pool.

The app (embedded mode), how workers run it, the worker socket, the
flow-control windows of the link, waiting for a worker, the workers' health
and lifetime, and ``--reload``. Each name is the ``Annotated`` type of one
parameter of :func:`~pagi.frontend.cli_command.serve`; the reference is
``docs/cli.md``.
"""

from typing import Annotated

import typer
from pagi.protocol.cli_shared import Interface, Lifespan, SseScope, choice, flag, value

from .cli_values import (
    app_callback,
    channels_callback,
    count,
    positive_float,
    reload_callback,
    seconds,
    size,
)

AppArg = Annotated[
    str | None,
    typer.Argument(
        metavar="APP",
        envvar="PAGI_APP",
        callback=app_callback,
        show_default=False,
        help="The application, MODULE:ATTR: embedded mode.",
    ),
]

App = Annotated[
    str | None,
    typer.Option(
        "--app",
        metavar="MODULE:ATTR",
        callback=app_callback,
        help="The same as APP (kept for existing scripts).",
    ),
]

Workers = Annotated[
    int,
    typer.Option(
        envvar="PAGI_WORKERS",
        metavar="N",
        min=1,
        help="Number of worker processes to spawn (embedded mode only).",
    ),
]

AppDir = Annotated[
    str | None,
    value(
        "PAGI_APP_DIR",
        "DIR",
        "Directory the workers add to sys.path before importing the app "
        "(default: the worker's current directory).",
    ),
]

Factory = Annotated[
    bool,
    flag(
        "--factory/--no-factory",
        "PAGI_FACTORY",
        "Treat MODULE:ATTR as a zero-argument callable returning the app.",
    ),
]

LifespanChoice = Annotated[
    Lifespan,
    choice(
        "PAGI_LIFESPAN",
        "Run the app's lifespan protocol: auto (if the app supports it), on, off.",
    ),
]

SseScopeChoice = Annotated[
    SseScope,
    choice(
        "PAGI_SSE_SCOPE",
        "Give event-stream requests the 'sse' scope: auto (replay as http for apps"
        " that reject it), on, off (always http). Forwarded to embedded workers.",
    ),
]

InterfaceChoice = Annotated[
    Interface,
    choice(
        "PAGI_INTERFACE",
        "The contract the app was written for: pagi (PAGI Www 0.6), asgi (ASGI 3,"
        " spec 2.4), or auto (asgi for apps of known ASGI frameworks, else pagi)."
        " Forwarded to embedded workers.",
    ),
]

RootPath = Annotated[
    str,
    value(
        "PAGI_ROOT_PATH", "PATH", "scope['root_path'] for every request (the app's mount prefix)."
    ),
]

SocketDir = Annotated[
    str | None,
    value(
        "PAGI_SOCKET_DIR",
        "DIR",
        "Directory of the worker socket (workers.sock). Default: /run/pagi; "
        "in embedded mode a private temporary directory removed at exit.",
    ),
]

ResponseWindow = Annotated[
    str,
    size(
        "PAGI_RESPONSE_WINDOW",
        "Response bytes a worker may send ahead per request before the "
        "client has taken them (flow-control window).",
    ),
]

BodyRing = Annotated[
    str,
    size(
        "PAGI_BODY_RING",
        "Shared memory per worker for large response bodies (a body piece of "
        "32 KiB or more is read from it instead of the link socket); 0: off.",
        zero=True,
    ),
]

MaxLinkBuffer = Annotated[
    str,
    size(
        "PAGI_MAX_LINK_BUFFER",
        "Bytes the front may hold for a worker that does not read its link; "
        "past this the worker is dropped and its requests fail (502 / close 1011).",
    ),
]

Channels = Annotated[
    str,
    typer.Option(
        envvar="PAGI_CHANNELS",
        metavar="BACKEND",
        callback=channels_callback,
        help="The channel layer apps reach as scope['pagi.channels']: 'front' (the "
        "front is the broker for its workers), a Redis URL (redis://HOST:PORT/DB: "
        "groups shared by every front using it; needs pagi-server[redis]), or 'off'.",
    ),
]

ChannelCapacity = Annotated[
    int,
    count(
        "PAGI_CHANNEL_CAPACITY",
        "Messages a channel queues for an app that is not receiving them; beyond, "
        "the membership's overflow policy applies (drop the oldest, or close).",
        positive=True,
    ),
]

WorkerWaitTimeout = Annotated[
    float,
    typer.Option(
        "--queue-timeout",
        "--worker-wait-timeout",
        envvar=["PAGI_QUEUE_TIMEOUT", "PAGI_WORKER_WAIT_TIMEOUT"],
        metavar="SECONDS",
        callback=positive_float,
        help="How long a request waits for a free worker before 503 + retry-after "
        "(no worker spends time on it).",
    ),
]

ReloadTimeout = Annotated[
    float,
    seconds(
        "PAGI_RELOAD_TIMEOUT",
        "A rolling reload's new workers must be ready within this, else the "
        "reload is abandoned and the old workers keep serving.",
    ),
]

WorkerTimeout = Annotated[
    float,
    typer.Option(
        envvar="PAGI_WORKER_TIMEOUT",
        metavar="SECONDS",
        min=0.0,
        help="A worker whose event loop answers no heartbeat for this long is "
        "reported and replaced (embedded) or killed (production layout); 0: off.",
    ),
]

MaxRequests = Annotated[
    int,
    count(
        "PAGI_MAX_REQUESTS", "Recycle a worker (drain and replace it) after N requests; 0: never."
    ),
]

MaxRequestsJitter = Annotated[
    int,
    count(
        "PAGI_MAX_REQUESTS_JITTER",
        "Add a random 0..N to --max-requests per worker, so they do not all recycle at once.",
    ),
]

MaxWorkerRss = Annotated[
    str | None,
    size("PAGI_MAX_WORKER_RSS", "Recycle a worker whose resident memory exceeds SIZE (e.g. 512M)."),
]

LimitConcurrency = Annotated[
    int,
    count(
        "PAGI_LIMIT_CONCURRENCY",
        "Embedded mode: each worker takes at most N requests at once (its "
        "HELLO capacity); more wait at the front. 0: no limit.",
    ),
]

QueueSize = Annotated[
    int,
    count(
        "PAGI_QUEUE_SIZE",
        "Most requests waiting for a worker; beyond it 503 + retry-after at once.",
    ),
]

Reload = Annotated[
    bool,
    typer.Option(
        "--reload/--no-reload",
        envvar="PAGI_RELOAD",
        callback=reload_callback,
        help="Development (embedded mode): when the app's files change, roll fresh "
        "workers in; client connections stay open. Needs pip install 'pagi-server[reload]'.",
    ),
]

ReloadDir = Annotated[
    list[str] | None,
    typer.Option(
        "--reload-dir",
        envvar="PAGI_RELOAD_DIR",
        metavar="DIR",
        help="Directory to watch with --reload, repeatable (default: --app-dir, "
        "else the current directory).",
    ),
]

ReloadInclude = Annotated[
    list[str] | None,
    typer.Option(
        "--reload-include",
        envvar="PAGI_RELOAD_INCLUDE",
        metavar="GLOB",
        help="Files whose change reloads, repeatable (default: *.py).",
    ),
]

ReloadExclude = Annotated[
    list[str] | None,
    typer.Option(
        "--reload-exclude",
        envvar="PAGI_RELOAD_EXCLUDE",
        metavar="GLOB",
        help="Paths to ignore, repeatable (default: .*, __pycache__, *.pyc, *.pyo, *~).",
    ),
]
