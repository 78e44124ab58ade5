"""The floor under workload 5: what a front→worker hop costs with no protocol work at all.

Two minimal HTTP servers on uvloop answer ``GET /`` with the same 13-byte
response as ``bench/apps/hello.py``:

* ``direct``: one process parses nothing and writes a canned response for
  every request head it sees (the cheapest possible in-process server);
* ``relay``: the same front, but for every request head it writes one byte to
  a second process over a UNIX socket pair and writes the response only when
  that process has written one byte back (the cheapest possible hop).

Both are measured with workload 5's client (``wrk -t1 -c1``, one connection,
sequential requests). ``relay`` minus ``direct`` is the price of two more
process wake-ups and two more system calls per request on this machine — a
cost any front/worker design pays before doing any work of its own.

Run: ``python -m bench.relay_floor [--duration S] [--reps N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time

RESPONSE = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 13\r\n\r\nHello, world!"
HEAD_END = b"\r\n\r\n"


def _echo_bytes(sock: socket.socket) -> None:
    """The relay's second process: send back every byte it receives."""
    import uvloop

    async def main() -> None:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        sock.setblocking(False)

        def readable() -> None:
            data = sock.recv(65536)
            if not data:
                done.set_result(None)
                return
            sock.send(data)

        loop.add_reader(sock.fileno(), readable)
        await done

    uvloop.run(main())


def _front(port: int, link: socket.socket | None) -> None:
    import uvloop

    waiting: list[tuple[asyncio.Transport, int]] = []

    class Front(asyncio.Protocol):
        transport: asyncio.Transport

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport  # type: ignore[assignment]

        def data_received(self, data: bytes) -> None:
            heads = data.count(HEAD_END)
            if not heads:
                return
            if link is None:
                self.transport.write(RESPONSE * heads)
            else:
                waiting.append((self.transport, heads))
                link.send(b"x")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        if link is not None:
            link.setblocking(False)

            def replies() -> None:
                for _ in range(len(link.recv(65536))):
                    transport, heads = waiting.pop(0)
                    transport.write(RESPONSE * heads)

            loop.add_reader(link.fileno(), replies)
        await loop.create_server(Front, "127.0.0.1", port)
        print("ready", flush=True)
        await loop.create_future()

    uvloop.run(main())


def serve(port: int, mode: str) -> None:
    if mode == "direct":
        _front(port, None)
        return
    front_end, worker_end = socket.socketpair()
    if os.fork() == 0:
        front_end.close()
        _echo_bytes(worker_end)
        os._exit(0)
    worker_end.close()
    _front(port, front_end)


def measure(mode: str, duration: int) -> float:
    """Start one server, run wrk -c1 against it, return its p50 in µs."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.relay_floor", "--serve", mode, "--port", str(port)],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # "ready"
        url = f"http://127.0.0.1:{port}/"
        subprocess.run(["wrk", "-t1", "-c1", "-d1s", url], capture_output=True, check=True)
        out = subprocess.run(
            ["wrk", "-t1", "-c1", f"-d{duration}s", "--latency", url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()
        time.sleep(0.2)
    found = re.search(r"^\s+50%\s+([\d.]+)(us|ms)", out, re.MULTILINE)
    if found is None:
        raise SystemExit(f"relay_floor: no p50 in wrk's output:\n{out}")
    value = float(found.group(1))
    return value * 1000 if found.group(2) == "ms" else value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--serve", choices=("direct", "relay"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.port, args.serve)
        return
    results: dict[str, list[float]] = {"direct": [], "relay": []}
    for _ in range(args.reps):
        for mode in results:  # alternated, like the suite's servers
            results[mode].append(measure(mode, args.duration))
    direct = statistics.median(results["direct"])
    relay = statistics.median(results["relay"])
    for mode, values in results.items():
        shown = ", ".join(f"{v:.0f}" for v in values)
        print(f"{mode:6s} p50 median {statistics.median(values):.0f} µs  (runs: {shown})")
    runs = f"wrk -t1 -c1, {args.reps} runs each"
    print(f"a bare hop adds {relay - direct:.0f} µs to the p50 ({runs})")


if __name__ == "__main__":
    main()
