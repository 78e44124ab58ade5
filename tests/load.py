"""A small real load generator for the operations tests: counts every failure.

Threads send requests back to back to a real front: ``keepalive`` threads each
reuse one HTTP/1.1 connection (reconnecting only after the server closed it
with ``Connection: close``), ``fresh`` threads open a new connection per
request. Every request ends as a status code or an exception; anything but
200 is a failure, kept with its reason. ``bodies`` counts the response bodies,
so a test can see which code answered.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class LoadReport:
    ok: int = 0
    failures: list[str] = field(default_factory=list)
    bodies: Counter[str] = field(default_factory=Counter)
    closes: int = 0  # responses that carried Connection: close

    @property
    def total(self) -> int:
        return self.ok + len(self.failures)


class LoadGenerator:
    def __init__(
        self, port: int, path: str = "/", keepalive: int = 4, fresh: int = 2, timeout: float = 15
    ) -> None:
        self.port = port
        self.path = path
        self.timeout = timeout
        self.report = LoadReport()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(True,), daemon=True) for _ in range(keepalive)
        ] + [threading.Thread(target=self._run, args=(False,), daemon=True) for _ in range(fresh)]

    def start(self) -> LoadGenerator:
        for thread in self._threads:
            thread.start()
        return self

    def wait_for(self, requests: int, timeout: float = 20.0) -> None:
        """Block until at least ``requests`` more requests have completed."""
        target = self.report.total + requests
        deadline = time.monotonic() + timeout
        while self.report.total < target:
            if time.monotonic() > deadline:
                raise AssertionError(f"load stalled at {self.report.total} requests")
            time.sleep(0.01)

    def stop(self) -> LoadReport:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)
        return self.report

    def _record(self, status: int | None, body: str, error: str | None, close: bool) -> None:
        with self._lock:
            if error is None and status == 200:
                self.report.ok += 1
                self.report.bodies[body] += 1
            else:
                self.report.failures.append(error or f"status {status}: {body[:100]}")
            if close:
                self.report.closes += 1

    def _run(self, keepalive: bool) -> None:
        conn: http.client.HTTPConnection | None = None
        while not self._stop.is_set():
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                headers = {} if keepalive else {"connection": "close"}
                conn.request("GET", self.path, headers=headers)
                response = conn.getresponse()
                body = response.read().decode(errors="replace")
                close = response.will_close
                self._record(response.status, body, None, close and keepalive)
            except (OSError, http.client.HTTPException) as exc:
                self._record(None, "", f"{type(exc).__name__}: {exc}", False)
                close = True
            if close or not keepalive:
                conn.close()
                conn = None
        if conn is not None:
            conn.close()
