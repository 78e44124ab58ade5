"""Zero failed requests while workers are drained and the front restarts,
under a real load (tests/load.py counts every failure)."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

import httpx
from h2_client import header_block, read_frames
from harness import PYTHON, Front, Processes, recv_until_close
from hyperframe.frame import GoAwayFrame, HeadersFrame, RstStreamFrame, SettingsFrame
from load import LoadGenerator
from tls_certs import TlsFiles, tls_front

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def test_split_layout_workers_drained_under_load_fail_nothing(procs: Processes) -> None:
    """Restart each worker in turn (SIGTERM, then a fresh process), as
    deploy/rolling-restart.sh does with systemd, several rounds, under load."""
    front = procs.front(wait_workers=0)
    workers = [procs.worker("ops_app:app", "--worker-num", str(n)) for n in (1, 2)]
    front.wait_for_log(r"worker .* joined", count=2)
    joined = 2
    load = LoadGenerator(front.port, "/", keepalive=4, fresh=2).start()
    try:
        load.wait_for(100)
        for _round in range(3):
            for i, old in enumerate(list(workers)):
                old.signal(signal.SIGTERM)
                assert old.wait(15) == 0
                workers[i] = procs.worker("ops_app:app", "--worker-num", str(i + 1))
                joined += 1
                front.wait_for_log(r"worker .* joined", count=joined)
                load.wait_for(50)
        report = load.stop()
    finally:
        load.stop()
    assert report.failures == [], report.failures[:5]
    assert report.ok > 500


class SocketHolder:
    """What systemd's pagi-front.socket does: own the listening socket across
    front restarts and pass it to each front as LISTEN_FDS=1 (fd 3, "http")."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.port = self.sock.getsockname()[1]

    def front(self, procs: Processes, tmp_path: Path, n: int) -> Front:
        fd = self.sock.fileno()
        launcher = (
            "import os, sys\n"
            f"os.dup2({fd}, 3)\n"
            f"os.close({fd})\n"
            "os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS='1')\n"
            "os.environ['LISTEN_FDNAMES'] = 'http'\n"
            "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])\n"
        )
        argv = [
            PYTHON, "-c", launcher, "-m", "pagi.frontend",
            "--socket-dir", str(procs.socket_dir), "--keepalive-timeout", "2",
        ]  # fmt: skip
        front = Front(argv, tmp_path / f"front-{n}.log", pass_fds=(fd,))
        procs.started.append(front)
        front.port = self.port
        front.wait_for_log(rf"listening on http://127\.0\.0\.1:{self.port} \(socket http\)")
        return front


def test_front_restarts_on_an_activated_socket_refuse_and_fail_nothing(
    procs: Processes, tmp_path: Path
) -> None:
    holder = SocketHolder()
    front = holder.front(procs, tmp_path, 0)
    workers = [procs.worker("ops_app:app", "--worker-num", str(n)) for n in (1, 2)]
    front.wait_for_log(r"worker .* joined", count=2)
    load = LoadGenerator(holder.port, "/", keepalive=4, fresh=2).start()
    try:
        load.wait_for(100)
        for n in range(1, 4):
            front.signal(signal.SIGTERM)  # systemctl restart: stop, then start
            assert front.wait(15) == 0
            front = holder.front(procs, tmp_path, n)
            front.wait_for_log(r"worker .* joined", count=2)  # the same workers reconnect
            load.wait_for(100)
        report = load.stop()
    finally:
        load.stop()
        holder.sock.close()
    assert report.failures == [], report.failures[:5]
    assert report.closes > 0  # keep-alive requests crossing a stop got connection: close
    assert all(w.popen.poll() is None for w in workers)  # workers were not restarted


def test_embedded_front_hands_its_sockets_over_under_load(procs: Processes) -> None:
    """pagi-front --handover takes the running front's sockets over its
    control socket (SCM_RIGHTS); the old one stops once the new one serves."""
    args = ("--keepalive-timeout", "2")
    old = procs.front(*args, app="ops_app:app", workers=2)
    port = old.port
    load = LoadGenerator(port, "/pid", keepalive=4, fresh=2).start()
    try:
        load.wait_for(100)
        for _ in range(2):
            new = procs.front("--handover", *args, app="ops_app:app", workers=2)
            assert new.port == port  # the same listening socket
            new.wait_for_log("took over the sockets")
            assert old.wait(20) == 0
            assert "sockets handed over to the new front; stopping" in old.logs()
            load.wait_for(100)
            old = new
        report = load.stop()
    finally:
        load.stop()
    assert report.failures == [], report.failures[:5]
    assert (procs.socket_dir / "workers.sock").exists()  # the old front left it in place
    assert (procs.socket_dir / "control.sock").exists()
    old.signal(signal.SIGTERM)
    assert old.wait(20) == 0
    assert not (procs.socket_dir / "workers.sock").exists()  # the last owner removed it


def test_a_failed_handover_leaves_the_old_front_serving(procs: Processes) -> None:
    from test_control_plane import ctl_json

    old = procs.front(app="ops_app:app", workers=1)
    new = procs.front("--handover", app="not_callable:app", workers=1, wait=False)
    assert new.wait(20) == 2  # its worker cannot load the app
    old.wait_for_log("hand-over abandoned: the new front went away; serving on")
    assert httpx.get(old.url + "/").status_code == 200
    # It accepts control connections and workers again.
    assert ctl_json(procs.socket_dir, "scale", "2")["workers"]["target"] == 2
    old.wait_for_log(r"worker .* joined", count=2)


def test_worker_sigkill_under_load_fails_only_its_in_flight_requests(procs: Processes) -> None:
    front = procs.front(app="ops_app:app", workers=2)
    load = LoadGenerator(front.port, "/pid", keepalive=4, fresh=2).start()
    try:
        load.wait_for(100)
        victim = int(httpx.get(front.url + "/pid").text)
        os.kill(victim, signal.SIGKILL)
        front.wait_for_log(rf"worker #\d pid {victim} was killed by SIGKILL; restarting")
        front.wait_for_log(r"worker .* joined", count=3)  # respawned
        load.wait_for(100)
        report = load.stop()
    finally:
        load.stop()
    # At most the requests it held (one per load thread) fail, each as a 502
    # (or a cut response); the other worker serves everything else.
    assert len(report.failures) <= 6, report.failures
    assert all("502" in f or "RemoteDisconnected" in f for f in report.failures), report.failures
    assert str(victim) in report.bodies and len(report.bodies) == 3


def test_handover_keeps_a_tls_listener_tls(procs: Processes, tls_files: TlsFiles) -> None:
    """A tls:// listener taken over stays TLS on the new front (its own certificate)."""
    old = tls_front(procs, tls_files, app="ops_app:app")
    port = old.tls_port
    new = tls_front(procs, tls_files, "--handover", app="ops_app:app")
    new.wait_for_log("took over the sockets")
    assert old.wait(20) == 0
    assert new.tls_port == port
    with httpx.Client(verify=tls_files.client_context()) as client:
        reply = client.get(f"https://localhost:{port}/pid")
    assert reply.status_code == 200 and reply.text.strip().isdigit()


def test_a_connection_that_has_not_spoken_yet_gets_its_request_served_at_shutdown(
    procs: Processes,
) -> None:
    """A client connected but silent when the front begins to stop (its request
    may be on the wire) is not closed under it: over HTTP/1.1 its request is
    served, with ``connection: close``; over h2c prior knowledge it is told at
    once (GOAWAY ``NO_ERROR`` naming 2^31-1, and a PING), its request is
    served, and the PING's answer brings the GOAWAY naming that stream
    (docs/http2.md, graceful shutdown; RFC 9113 section 6.8)."""
    front = procs.front(app="ops_app:app", workers=1)
    plain = socket.create_connection(("127.0.0.1", front.port), timeout=10)
    h2 = socket.create_connection(("127.0.0.1", front.port), timeout=10)
    front.wait_for_log(r"worker .* joined")
    front.signal(signal.SIGTERM)
    front.wait_for_log("SIGTERM received")
    plain.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = recv_until_close(plain)
    assert answer.startswith(b"HTTP/1.1 200 ") and b"\r\nconnection: close\r\n" in answer.lower()
    request = header_block([(":method", "GET"), (":scheme", "http"), (":path", "/"), ("host", "x")])
    get = HeadersFrame(1, request, flags=["END_HEADERS", "END_STREAM"])
    h2.sendall(H2_PREFACE + SettingsFrame(0).serialize() + get.serialize())
    frames = read_frames(h2, lambda f: False, timeout=10)  # until the front closes
    goaway = [f for f in frames if isinstance(f, GoAwayFrame)]
    assert [(f.error_code, f.last_stream_id) for f in goaway] == [(0, 2**31 - 1), (0, 1)], frames
    assert not [f for f in frames if isinstance(f, RstStreamFrame) and f.error_code], frames
    heads = [f for f in frames if isinstance(f, HeadersFrame) and f.stream_id == 1]
    ends = [f for f in frames if f.stream_id == 1 and "END_STREAM" in f.flags]
    assert heads and ends, frames
    plain.close()
    h2.close()
    assert front.wait(15) == 0
