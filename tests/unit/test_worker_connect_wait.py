"""When and how a worker explains a long wait for the front (connect_wait.py)."""

from __future__ import annotations

import errno
from pathlib import Path

from pagi.worker.connect_wait import WaitReport, explain


def test_report_schedule_first_after_3s_then_every_60s() -> None:
    report = WaitReport()
    assert report.until_due(0.0) == float("inf")
    assert not report.due(100.0)  # the first failure starts the clock
    assert report.until_due(101.0) == 2.0
    assert not report.due(102.9)
    assert report.due(103.0)
    assert report.waited(103.0) == 3.0
    assert not report.due(104.0) and not report.due(162.9)
    assert report.due(163.0)
    report.reset()  # connected: a new wait starts over
    assert not report.due(500.0) and report.due(503.5)


def test_explanations(tmp_path: Path) -> None:
    refused = OSError(errno.ECONNREFUSED, "Connection refused")
    missing = OSError(errno.ENOENT, "No such file or directory")
    assert "does not exist" in explain(str(tmp_path / "nope"), missing)
    (tmp_path / "file").write_text("")
    assert "is not a directory" in explain(str(tmp_path / "file"), missing)
    assert "holds no workers.sock" in explain(str(tmp_path), missing)
    (tmp_path / "workers.sock").write_text("")
    assert "is not a socket" in explain(str(tmp_path), refused)
    denied = explain(str(tmp_path), OSError(errno.EACCES, "Permission denied"))
    assert denied.startswith(f"permission denied on {tmp_path / 'workers.sock'} (uid ")
