"""A worker played by hand in a test: a blocking client of ``workers.sock``
speaking the link protocol with the real codec (a worker that misbehaves on
purpose: sends what ``pagi-worker`` would refuse, or stops reading)."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from pagi.protocol import PROTOCOL_VERSION, LinkDecoder, encode
from pagi.protocol import messages as m


class FakeWorker:
    """A blocking client of workers.sock speaking the link protocol by hand."""

    def __init__(self, path: Path, name: str = "fake #1") -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        self.sock.connect(str(path))
        self.decoder = LinkDecoder("worker")
        self.pending: list[list[Any]] = []
        self.name = name

    def hello(self, version: int = PROTOCOL_VERSION, **info: Any) -> list[Any]:
        base = {
            "pid": os.getpid(),
            "name": self.name,
            "app": "fake:app",
            "interface": "pagi",
            "capacity": 0,
            "window": 65536,
        }
        self.send(m.hello(version, {**base, **info}))
        return self.recv()

    def send(self, *msgs: list[Any]) -> None:
        self.sock.sendall(b"".join(encode(msg) for msg in msgs))

    def recv(self) -> list[Any]:
        while not self.pending:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("the front closed the link")
            self.pending += self.decoder.feed(data)
        return self.pending.pop(0)

    def at_eof(self) -> bool:
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
                self.pending += self.decoder.feed(data)
        except TimeoutError:
            return False

    def close(self) -> None:
        self.sock.close()


def never_reading(path: str, name: str) -> None:
    """A worker process that greets, then never reads its link again (a
    blocked event loop): ``python tests/fake_worker.py SOCKET NAME``."""
    import time

    worker = FakeWorker(Path(path), name)
    reply = worker.hello()
    print(f"greeted: {reply[0]}", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    import sys

    never_reading(sys.argv[1], sys.argv[2])
