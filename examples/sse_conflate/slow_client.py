"""A deliberately slow SSE client: a small socket buffer, read at 20 KB/s.

    python -m examples.sse_conflate.slow_client [--rate BYTES_PER_S] [--port 8000]

The feed produces about 35 KB/s. One line per price event received: its
sequence number, how many updates the server skipped for this client, and how
old the price is. A fast client (``curl -N``) always shows ``skipped 0``; this
one shows the server conflating: the age stays bounded instead of growing.
"""

from __future__ import annotations

import argparse
import json
import socket
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--rate", type=int, default=20000, help="bytes read per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", args.port))
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
    buffer = b""
    started = time.monotonic()
    while time.monotonic() - started < args.seconds:
        data = sock.recv(512)
        if not data:
            break
        buffer += data
        time.sleep(len(data) / args.rate)
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            for line in block.split(b"\n"):
                if line.startswith(b"data: "):
                    event = json.loads(line[6:])
                    age = time.time() - event["time"]
                    print(f"seq {event['seq']:6}  skipped {event['skipped']:4}  age {age:5.2f}s")
    sock.close()


if __name__ == "__main__":
    main()
