"""Instructions per request of pagi's front and worker, counted by valgrind.

``python -m bench.instructions --servers pagi-1w@3bb49fc,pagi-1w --requests 3000``

CPU time per request (``bench.cpu_cost``) moves with whatever else runs on a
shared machine; the number of instructions a process executes for a fixed
amount of work does not. Each server runs under valgrind's callgrind with
instrumentation off (``--instr-atstart=no``: near-native start-up), every
process of its tree (``--trace-children=yes``, so the embedded worker too). A
client keeps ``--conns`` keep-alive connections busy with ``GET /`` (one
request in flight on each, like wrk) against the hello app; after
``--warmup`` requests, instrumentation is switched on in every process of
the tree (``callgrind_control -i on``), ``--requests`` requests are made, and
it is switched off again. The totals callgrind writes at exit then hold
exactly that window; divided by the request count they give instructions
per request for the front and for each worker (for a server of one process,
such as ``uvicorn-httptools``, the ``server``).

Under valgrind both processes run tens of times slower than the client, so
the server is always saturated and batches as it would under full load;
repeated runs agree to within about 1 %. The absolute counts are of the
interpreter executing pagi's code (and the kernel's work is not in them):
use them to compare revisions and changes, not as time.
Like everything in ``bench/``, it measures and asserts nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import selectors
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench.run import prepare
from bench.servers import SERVERS, Running, Server, TLSPair, at_revision

_REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def under_callgrind(server: Server, out_dir: Path) -> Server:
    """``server`` started by valgrind's callgrind, instrumentation off until asked."""
    base = server.argv

    def argv(app: str, port: int, tls: TLSPair | None) -> list[str]:
        return [
            "valgrind",
            "--tool=callgrind",
            "--trace-children=yes",
            "--instr-atstart=no",
            f"--callgrind-out-file={out_dir}/cg.%p",
            *base(app, port, tls),
        ]

    return dataclasses.replace(server, argv=argv)


def drive(port: int, conns: int, requests: int) -> None:
    """Make ``requests`` keep-alive ``GET /`` over ``conns`` connections, one
    in flight on each; a response ends after its ``content-length`` body (the
    apps used here all declare one)."""
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(conns):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setblocking(False)
        socks.append(sock)
        sel.register(sock, selectors.EVENT_READ, _Reader())
    sent = 0
    for sock in socks[:requests]:
        sock.send(_REQUEST)
        sent += 1
    done = 0
    while done < requests:
        for key, _ in sel.select(60):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            chunk = sock.recv(262144)
            if not chunk:
                raise RuntimeError("server closed a connection")
            for _ in range(key.data.feed(chunk)):
                done += 1
                if sent < requests:
                    sock.send(_REQUEST)
                    sent += 1
    for sock in socks:
        sel.unregister(sock)
        sock.close()


class _Reader:
    """Counts complete responses on one connection (head, then content-length bytes)."""

    def __init__(self) -> None:
        self.head = b""
        self.need = -1  # body bytes still to come; -1: reading a head

    def feed(self, data: bytes) -> int:
        complete = 0
        while data:
            if self.need < 0:
                buf = self.head + data
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    self.head = buf
                    return complete
                found = re.search(rb"(?im)^content-length:\s*(\d+)", buf[:end])
                if found is None:
                    raise RuntimeError("bench.instructions needs responses with a content-length")
                self.head = b""
                self.need = int(found.group(1))
                data = buf[end + 4 :]
            take = min(self.need, len(data))
            self.need -= take
            data = data[take:]
            if self.need == 0:
                self.need = -1
                complete += 1
        return complete


def _control(pids: list[int], *args: str) -> None:
    for pid in pids:
        subprocess.run(
            ["callgrind_control", *args, str(pid)], check=True, capture_output=True, timeout=120
        )


def _totals(path: Path) -> int:
    text = path.read_text(errors="replace")
    found = re.search(r"^totals: (\d+)", text, re.M)
    return int(found.group(1)) if found else 0


def measure(
    server: Server,
    conns: int,
    warmup: int,
    requests: int,
    keep: Path | None = None,
    app: str = "bench.apps.hello:app",
) -> dict[str, float]:
    """One run: instructions per request of ``front`` and ``worker1``...;
    ``keep``: copy callgrind's files there (``<server>.<role>.callgrind``)
    for ``callgrind_annotate``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        running = Running(under_callgrind(server, out), app, out / "log")
        try:
            running.wait_ready(timeout=300)
            drive(running.port, conns, warmup)
            procs = running.tree()
            pids = [p.pid for p in procs]
            _control(pids, "-i", "on")
            drive(running.port, conns, requests)
            _control(pids, "-i", "off")
        finally:
            running.stop(grace=60)
        time.sleep(0.5)
        result: dict[str, float] = {}
        for i, pid in enumerate(pids):
            name = ("front" if server.is_pagi else "server") if i == 0 else f"worker{i}"
            result[name] = _totals(out / f"cg.{pid}") / requests
            if keep is not None:
                keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(out / f"cg.{pid}", keep / f"{server.name}.{name}.callgrind")
        result["tree"] = sum(result.values())
        return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__)
    p.add_argument("--servers", default="pagi-1w")
    p.add_argument("--conns", type=int, default=16)
    p.add_argument("--warmup", type=int, default=500)
    p.add_argument("--requests", type=int, default=3000)
    p.add_argument("--reps", type=int, default=1)
    p.add_argument("--keep", type=Path, help="keep callgrind's files in this directory")
    p.add_argument(
        "--app",
        default="bench.apps.hello:app",
        help="the app (its responses must carry a content-length), e.g. bench.apps.stream:app",
    )
    args = p.parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("bench: valgrind is not installed (apt-get install -y valgrind)")
    names = args.servers.split(",")
    servers = [SERVERS[n] if n in SERVERS else at_revision(n) for n in names]
    prepare(servers, [], need_pyspy=False)
    runs: dict[str, list[dict[str, float]]] = {s.name: [] for s in servers}
    for rep in range(args.reps):
        for server in servers:
            fig = measure(server, args.conns, args.warmup, args.requests, args.keep, args.app)
            runs[server.name].append(fig)
            print(f"rep {rep + 1} · {server.name}: {_line(fig)}", flush=True)
    print(f"\nmedians of {args.reps}; instructions per request (thousands)")
    for name, figs in runs.items():
        med = {k: statistics.median(f[k] for f in figs) for k in figs[0]}
        print(f"{name:28s} {_line(med)}")
    return 0


def _line(fig: dict[str, float]) -> str:
    return " | ".join(f"{name} {value / 1000:.1f}k" for name, value in fig.items())


if __name__ == "__main__":
    raise SystemExit(main())
