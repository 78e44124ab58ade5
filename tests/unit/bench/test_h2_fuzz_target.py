"""The h2 fuzz target can fail: each invariant it checks trips on a core that breaks it."""

from __future__ import annotations

from pathlib import Path

import h2.connection
import h2.exceptions
import pytest
from pagi.frontend.http2.core import H2Core

from bench.fuzz import h2_target
from bench.fuzz.h2_target import PREFACE, build_wire, fuzz_h2

SEEDS = Path(__file__).resolve().parents[2] / "fuzz_regressions" / "h2"


def test_structured_inputs_become_frames_after_the_preface() -> None:
    wire = build_wire((SEEDS / "seed-get").read_bytes())
    assert wire.startswith(PREFACE)
    assert wire[len(PREFACE) + 3] == 0x4  # SETTINGS first
    raw = build_wire(b"\x01abc")
    assert raw == PREFACE + b"abc"  # an odd first byte: raw bytes


def test_a_connection_error_without_its_goaway_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    def silent_fail(self: H2Core, code: int, reason: str) -> None:
        self.error = (int(code), reason)  # no GOAWAY queued

    monkeypatch.setattr(H2Core, "fail", silent_fail)
    with pytest.raises(AssertionError, match="without its GOAWAY"):
        fuzz_h2((SEEDS / "seed-ping-flood").read_bytes())


def test_refusing_a_stream_the_client_reset_is_the_crash_it_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unguarded(conn: h2.connection.H2Connection, sid: int, code: int) -> None:
        conn.reset_stream(sid, code)  # as opening.py did before the fix

    monkeypatch.setattr(h2_target, "refuse", unguarded)
    crash = (SEEDS / "crash-malformed-request-reset-in-same-read").read_bytes()
    with pytest.raises(h2.exceptions.StreamClosedError):
        fuzz_h2(crash)


def test_unbounded_output_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    real = H2Core.outbound

    def bloated(self: H2Core) -> bytes:
        return real(self) + bytes(4096)

    monkeypatch.setattr(H2Core, "outbound", bloated)
    with pytest.raises(AssertionError, match="bytes written"):
        fuzz_h2((SEEDS / "seed-get").read_bytes())
