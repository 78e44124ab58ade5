"""WebSockets moved to a fresh worker across reloads (docs/resume.md).

The app is ``tests/apps/ws_move_app.py``: a chat whose replies count the
connection's messages across moves (the count travels in the state token)
and name the worker pid that answered.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
from harness import PeakRSS, Processes
from test_resume import reload
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from ws_raw import TEXT, RawWS

APP = "ws_move_app:app"
CLIENTS = 50
RELOADS = 5


class Chatter(threading.Thread):
    """One client: sends ``c<i>-<n>`` and waits for its reply, until told to stop."""

    def __init__(self, port: int, i: int) -> None:
        super().__init__(daemon=True)
        self.ws = connect(f"ws://127.0.0.1:{port}/chat", open_timeout=10)
        self.i = i
        self.replies: list[str] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        n = 0
        try:
            with self.ws as ws:
                while not self.stop.is_set():
                    n += 1
                    ws.send(f"c{self.i}-{n}")
                    self.replies.append(str(ws.recv(timeout=20)))
                    time.sleep(0.01)
        except BaseException as exc:  # reported by the test
            self.error = exc


def test_fifty_chat_clients_stay_connected_through_five_reloads(procs: Processes) -> None:
    front = procs.front(app=APP, workers=2)
    chatters = [Chatter(front.port, i) for i in range(CLIENTS)]
    for chatter in chatters:
        chatter.start()
    time.sleep(0.5)
    for _ in range(RELOADS):
        reload(procs.socket_dir)
        time.sleep(0.5)
    for chatter in chatters:
        chatter.stop.set()
    for chatter in chatters:
        chatter.join(30)
        assert chatter.error is None, (chatter.i, repr(chatter.error))
    for chatter in chatters:
        counts = [int(reply.split()[0]) for reply in chatter.replies]
        texts = [reply.split()[2] for reply in chatter.replies]
        # every message answered exactly once, in order, counted across moves
        assert counts == list(range(1, len(counts) + 1)), chatter.i
        assert texts == [f"c{chatter.i}-{n}" for n in range(1, len(texts) + 1)]
        pids = [reply.split()[1] for reply in chatter.replies]
        assert len(set(pids)) == RELOADS + 1, (chatter.i, sorted(set(pids)))
    assert front.logs().count("moving WebSocket /chat") == CLIENTS * RELOADS


def test_an_app_that_does_not_opt_in_gets_1012_at_the_graceful_timeout(
    procs: Processes,
) -> None:
    front = procs.front("--graceful-timeout", "0.5", app=APP, workers=1)
    with connect(f"ws://127.0.0.1:{front.port}/plain") as ws:
        ws.send("x")
        assert ws.recv(timeout=5).endswith(" x")
        reload(procs.socket_dir)
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=5)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1012
    assert info.value.rcvd.reason == "service restart"


def test_a_client_sending_during_a_move_is_held_by_the_window(procs: Processes) -> None:
    """The old app lingers 2 s after its disconnect: the client's messages meanwhile
    wait within the window and TCP, not in the front's memory, and all arrive after."""
    front = procs.front(app=APP, workers=1)
    raw = RawWS(front.port, "/chat?linger=2")
    raw.send_frame(TEXT, b"first")
    first = raw.recv_message()
    assert first is not None and first.payload.endswith(b" first")
    front_pid = front.popen.pid
    rss = PeakRSS([front_pid])
    reloading = threading.Thread(target=reload, args=(procs.socket_dir,))
    reloading.start()
    front.wait_for_log(r"worker .* draining")
    time.sleep(0.2)  # the move has started: the old app lingers
    raw.sock.settimeout(1.0)
    payload = b"x" * 60_000
    sent = 0
    with pytest.raises(socket.timeout):
        for _ in range(2_000):  # 120 MB if nothing held the client back
            raw.send_frame(TEXT, payload)
            sent += 1
    reloading.join(30)
    grown = rss.stop()[0]
    assert sent * len(payload) < 40_000_000, sent  # held back by TCP...
    assert grown < 40_000_000, grown  # ...not by the front's memory
    replies = []
    for _ in range(sent):
        reply = raw.recv_message(timeout=20)
        assert reply is not None
        replies.append(reply.payload[:40].decode())
    counts = [int(reply.split()[0]) for reply in replies]
    assert counts == list(range(2, sent + 2))
    assert len({reply.split()[1] for reply in replies}) == 1  # all on the new worker
    raw.close()
