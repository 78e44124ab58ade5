"""``scope["pagi.transport"]``: the app's view of its response backlog.

``buffered_amount()`` counts response body bytes the app has sent on this scope
that the front has not yet credited back, i.e. that have not yet left the front
for the client (file bodies are not counted). ``send()`` itself only waits when
the whole response window granted by the front is in flight; the water marks
are an earlier, advisory signal:

* ``on_high_water`` callbacks run when the amount rises *above* the high mark;
* ``on_drain`` callbacks run when it then falls to or below the low mark.

Both are edge-triggered with hysteresis: after a high-water callback, no other
runs until a drain, and vice versa. Callbacks take no arguments and stay
registered for the life of the scope.
"""

from __future__ import annotations

from collections.abc import Callable

from .callbacks import invoke

DEFAULT_HIGH_WATER = 64 * 1024
DEFAULT_LOW_WATER = 16 * 1024


class TransportState:
    __slots__ = ("_above", "_buffered", "_high", "_low", "_on_drain", "_on_high")

    def __init__(self) -> None:
        self._buffered = 0
        self._high = DEFAULT_HIGH_WATER
        self._low = DEFAULT_LOW_WATER
        self._above = False  # past the high mark, no drain since
        self._on_high: list[Callable[[], object]] | None = None
        self._on_drain: list[Callable[[], object]] | None = None

    def buffered_amount(self) -> int:
        return self._buffered

    def high_water_mark(self) -> int:
        return self._high

    def low_water_mark(self) -> int:
        return self._low

    def set_water_marks(self, high: int | None = None, low: int | None = None) -> None:
        """Change the marks (``None`` keeps one); requires ``0 <= low <= high``."""
        new_high = self._high if high is None else high
        new_low = self._low if low is None else low
        if type(new_high) is not int or type(new_low) is not int or not 0 <= new_low <= new_high:
            raise ValueError(f"water marks need 0 <= low <= high, got low={low!r} high={high!r}")
        self._high, self._low = new_high, new_low
        self._check()

    def on_high_water(self, callback: Callable[[], object]) -> None:
        if self._on_high is None:
            self._on_high = []
        self._on_high.append(callback)

    def on_drain(self, callback: Callable[[], object]) -> None:
        if self._on_drain is None:
            self._on_drain = []
        self._on_drain.append(callback)

    # --- the server's side ------------------------------------------------------

    def _sent(self, nbytes: int) -> None:
        self._buffered += nbytes
        if not self._above and self._buffered > self._high:
            self._check()

    def _credited(self, nbytes: int) -> None:
        buffered = self._buffered - nbytes
        self._buffered = buffered if buffered > 0 else 0
        if self._above and self._buffered <= self._low:
            self._check()

    def _check(self) -> None:
        if not self._above and self._buffered > self._high:
            self._above = True
            if self._on_high:
                for callback in list(self._on_high):
                    invoke(callback)
        elif self._above and self._buffered <= self._low:
            self._above = False
            if self._on_drain:
                for callback in list(self._on_drain):
                    invoke(callback)
