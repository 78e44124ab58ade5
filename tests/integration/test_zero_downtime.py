"""Zero failed requests while workers are drained and the front restarts,
under a real load (tests/load.py counts every failure)."""

from __future__ import annotations

import signal

from harness import Processes
from load import LoadGenerator


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
