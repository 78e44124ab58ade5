"""The h2 fuzz target can fail: each invariant it checks trips on a core that breaks it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from pagi.frontend.http2.core import H2Core
from pagi.frontend.http2.engine import H2Engine
from pagi.frontend.http2.limits import H2Limits
from pagi.frontend.http2.listener import H2Guard, H2Listener

from bench.fuzz.h2_target import PREFACE, build_wire, fuzz_h2

SEEDS = Path(__file__).resolve().parents[2] / "fuzz_regressions" / "h2"


def test_structured_inputs_become_frames_after_the_preface() -> None:
    wire = build_wire((SEEDS / "seed-get").read_bytes())
    assert wire.startswith(PREFACE)
    assert wire[len(PREFACE) + 3] == 0x4  # SETTINGS first
    raw = build_wire(b"\x01abc")
    assert raw == PREFACE + b"abc"  # an odd first byte: raw bytes


def test_a_connection_error_without_its_goaway_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    def silent_fail(self: H2Engine, code: int, reason: str) -> None:
        self.error = (int(code), reason)  # no GOAWAY queued

    monkeypatch.setattr(H2Engine, "fail", silent_fail)
    with pytest.raises(AssertionError, match="without its GOAWAY"):
        fuzz_h2((SEEDS / "seed-ping-flood").read_bytes())


def test_streams_beyond_the_limit_are_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    real = H2Engine.__init__

    def unlimited(self: H2Engine, limits: H2Limits, listener: H2Listener, guard: H2Guard) -> None:
        real(self, replace(limits, max_concurrent_streams=1000), listener, guard)

    monkeypatch.setattr(H2Engine, "__init__", unlimited)
    with pytest.raises(AssertionError):
        fuzz_h2((SEEDS / "seed-streams").read_bytes())


def test_listener_calls_after_a_connection_error_are_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = H2Engine.receive

    def chatty(self: H2Engine, data: bytes) -> None:
        real(self, data)
        if self.error is not None:
            self.listener.on_window(0)  # acting on bytes after the GOAWAY

    monkeypatch.setattr(H2Engine, "receive", chatty)
    with pytest.raises(AssertionError, match="after a connection error"):
        fuzz_h2((SEEDS / "seed-malformed-then-flood").read_bytes() + b"\x00" * 3)


def test_unbounded_output_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    real = H2Core.outbound

    def bloated(self: H2Core) -> bytes:
        return real(self) + bytes(4096)

    monkeypatch.setattr(H2Core, "outbound", bloated)
    with pytest.raises(AssertionError, match="bytes written"):
        fuzz_h2((SEEDS / "seed-get").read_bytes())
