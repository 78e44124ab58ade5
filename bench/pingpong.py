"""The floor under workload 5: one UNIX-socket round trip between two processes.

pagi's front→worker hop is at least this (one message each way, each process
woken by the kernel). Run: ``python bench/pingpong.py``. Blocking sockets and a
40-byte message, so nothing but the kernel and two wake-ups are measured.
"""

from __future__ import annotations

import os
import socket
import time

ROUNDS = 20_000


def main() -> None:
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:  # echo until EOF
        parent.close()
        while data := child.recv(64):
            child.sendall(data)
        os._exit(0)
    child.close()
    samples = []
    message = b"x" * 40
    for _ in range(ROUNDS):
        start = time.perf_counter_ns()
        parent.sendall(message)
        parent.recv(64)
        samples.append(time.perf_counter_ns() - start)
    parent.close()
    os.waitpid(pid, 0)
    samples.sort()
    p50 = samples[len(samples) // 2] / 1000
    p99 = samples[int(len(samples) * 0.99)] / 1000
    print(f"UNIX socket round trip between two processes: p50 {p50:.1f} µs, p99 {p99:.1f} µs")


if __name__ == "__main__":
    main()
