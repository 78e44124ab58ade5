"""Every setting of pagi-front, in one place.

The CLI (``cli_command.py``; ``cli_fast.py`` for the usual command lines)
fills a :class:`FrontConfig`; nothing else reads options or environment
variables. Defaults here are the documented defaults
(``docs/cli.md``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from pagi.protocol.log_config import LogConfig

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


@dataclass(slots=True)
class FrontConfig:
    # --- embedded mode (pagi-front --app M:A --workers N) -------------------
    app: str | None = None  # MODULE:ATTR; None = production layout (no spawning)
    workers: int = 1
    app_dir: str | None = None  # forwarded to spawned workers
    factory: bool = False  # forwarded to spawned workers
    lifespan: str = "auto"  # forwarded to spawned workers
    sse_scope: str = "auto"  # forwarded to spawned workers
    interface: str = "auto"  # forwarded to spawned workers: auto | pagi | asgi
    root_path: str = ""  # forwarded to spawned workers

    # --- sockets -------------------------------------------------------------
    socket_dir: str = "/run/pagi"  # holds workers.sock
    # True in embedded mode when --socket-dir was not given: run() replaces
    # socket_dir with a fresh private directory and removes it at exit.
    private_socket_dir: bool = False
    binds: list[str] = field(default_factory=list)  # "HOST:PORT", "[::1]:PORT"
    uds: list[str] = field(default_factory=list)  # client-facing UNIX sockets
    fds: list[int] = field(default_factory=list)  # inherited listening sockets
    fd_names: dict[int, str] = field(default_factory=dict)  # systemd FileDescriptorName= by fd
    backlog: int = 2048
    max_connections: int = 0  # 503 for a new connection beyond this many (0: no limit)
    max_connections_per_ip: int = 0  # 429 beyond this many from one IP (0: no limit)

    # --- HTTP/1.1 --------------------------------------------------------------
    http: str = "auto"  # h11 | httptools | auto
    max_body_size: int = 1 * GiB  # 413 above this
    max_header_size: int = 64 * KiB  # 431 above this (whole header block)
    max_headers: int = 100  # 431 above this many header fields
    max_request_line: int = 8190  # 414 above this
    keepalive_timeout: float = 5.0  # idle keep-alive connection is closed
    header_timeout: float = 10.0  # request head must arrive within this (408)
    server_header: bool = True  # add "server: pagi" unless the app set one

    # --- workers and the link --------------------------------------------------
    worker_wait_timeout: float = 10.0  # 503 + retry-after if no worker by then
    graceful_timeout: float = 30.0  # bound on draining at shutdown
    response_window: int = 256 * KiB  # per-scope response credit granted to workers
    body_ring: int = 2 * MiB  # shared memory per worker for large bodies (0: off)
    max_frame_size: int = 16 * MiB  # largest link frame accepted from a worker
    handshake_timeout: float = 10.0  # a new link must say HELLO within this
    max_link_buffer: int = 64 * MiB  # a worker whose unsent data exceeds this is stuck
    sse_resume: bool = True  # resume event streams on another worker (docs/resume.md)

    # --- channels (docs/channels.md) ------------------------------------------------
    channels: str = "front"  # front | off | redis://HOST:PORT/DB (rediss:// too)
    channel_capacity: int = 100  # each channel's queue bound (messages)
    # A worker link with more than this many bytes waiting loses channel messages.
    channel_backlog: int = 8 * MiB
    # This front's name in channel names; random per process (several fronts
    # share one Redis).
    # (os.urandom as secrets.token_hex does, without importing hashlib and hmac)
    channels_node: str = field(default_factory=lambda: os.urandom(4).hex())

    # --- WebSocket (docs/websocket.md) -------------------------------------------
    ws_max_size: int = 16 * MiB  # largest client message (after inflation): 1009 above
    ws_per_message_deflate: bool = True  # accept permessage-deflate offers
    ws_max_queue: int = 16 * MiB  # inbound data held beyond the worker's window: 1008 above
    # Server pings for every WebSocket (0: only if the app asks); an app's
    # websocket.keepalive overrides both for its connection.
    ws_ping_interval: float = 20.0
    ws_ping_timeout: float | None = 20.0  # pong deadline when none is given (None: interval)
    ws_handshake_timeout: float = 10.0  # the app must accept or deny within this (else 504)
    ws_close_timeout: float = 5.0  # wait for the client's close frame at most this long

    # --- HTTP/2 (docs/http2.md) -------------------------------------------------------
    http2: bool = True  # ALPN h2 on TLS listeners, prior-knowledge h2c on cleartext ones
    http2_max_concurrent_streams: int = 100  # SETTINGS_MAX_CONCURRENT_STREAMS
    http2_stall_timeout: float = 30.0  # a response stuck on a zero window is reset

    # --- TLS (docs/tls.md) ---------------------------------------------------------
    ssl_certfile: str | None = None  # PEM certificate (chain); needed by any tls:// bind
    ssl_keyfile: str | None = None  # PEM private key (default: in the certfile)
    ssl_keyfile_password: str | None = None  # to decrypt the key
    ssl_ca_certs: str | None = None  # CA bundle that verifies client certificates
    ssl_cert_reqs: str = "none"  # none | optional | required (client certificates)
    ssl_ciphers: str | None = None  # OpenSSL cipher list for TLS 1.2 (None: OpenSSL's)
    ssl_handshake_timeout: float = 10.0  # a TLS handshake must finish within this
    # --- operations (docs/operations.md) ------------------------------------------
    control_socket: bool = True  # serve <socket-dir>/control.sock
    control_socket_mode: int = 0o600  # its file mode
    metrics_bind: str | None = None  # HOST:PORT serving /metrics and /healthz
    reload_timeout: float = 60.0  # a reload's new workers must be ready within this
    worker_timeout: float = 30.0  # heartbeats unanswered this long: the worker is blocked
    max_requests: int = 0  # recycle a worker after this many requests (0: never)
    max_requests_jitter: int = 0  # plus a random 0..this, per worker
    max_worker_rss: int = 0  # recycle a worker whose RSS exceeds this many bytes (0: never)
    limit_concurrency: int = 0  # embedded workers' capacity (HELLO); 0: no limit
    queue_size: int = 1000  # requests that may wait for a worker; beyond: 503 at once
    proxy_headers: bool = False  # believe Forwarded / X-Forwarded-* from trusted peers
    forwarded_allow_ips: str = "127.0.0.1"  # comma-separated addresses/CIDRs, or *
    proxy_protocol: bool = False  # every client connection starts with a PROXY header
    handover: bool = False  # take the sockets of the front running on socket_dir
    reload: bool = False  # dev mode: reload the workers when the app's files change
    reload_dirs: list[str] = field(default_factory=list)  # watched (default: app dir or cwd)
    reload_include: list[str] = field(default_factory=list)  # globs (default *.py)
    reload_exclude: list[str] = field(default_factory=list)  # globs (default: hidden, caches)

    # --- logging ---------------------------------------------------------------
    access_log: bool = True
    log_level: str = "info"
    access_log_format: str | None = None  # None: the built-in shape (access_log.py)
    use_colors: bool = False  # coloured level names; forwarded to embedded workers
    log_config: LogConfig | None = None  # --log-config, applied last; forwarded

    # --- process ---------------------------------------------------------------
    pid_file: str | None = None  # written once serving, removed at exit

    def listen_addresses(self) -> list[str]:
        """The TCP binds, defaulting to 127.0.0.1:8000 when nothing is given.

        With ``--ssl-certfile`` the default is ``tls://127.0.0.1:8000``.
        """
        if not self.binds and not self.uds and not self.fds:
            return ["tls://127.0.0.1:8000" if self.ssl_certfile else "127.0.0.1:8000"]
        return list(self.binds)
