"""A clock that replays recorded time at a multiple of wall-clock speed."""

from __future__ import annotations

import time

__all__ = ["ScaledClock"]


class ScaledClock:
    """Data time = start_ns + (wall elapsed) x speed. `freeze()` stops it for an orderly shutdown,
    after which `advance_to` moves it by hand (like a simulated clock)."""

    __slots__ = ("_frozen_ns", "_speed", "_start_ns", "_wall0")

    def __init__(self, start_ns: int, speed: float) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self._start_ns = start_ns
        self._speed = speed
        self._wall0 = time.monotonic_ns()
        self._frozen_ns: int | None = None

    def now_ns(self) -> int:
        if self._frozen_ns is not None:
            return self._frozen_ns
        return self._start_ns + int((time.monotonic_ns() - self._wall0) * self._speed)

    def wall_seconds_until(self, ts_ns: int) -> float:
        """Wall-clock seconds until data time reaches `ts_ns` (0 if it already has)."""
        return max(0.0, (ts_ns - self.now_ns()) / self._speed / 1e9)

    def freeze(self) -> None:
        self._frozen_ns = self.now_ns()

    def advance_to(self, ts_ns: int) -> None:
        if self._frozen_ns is not None and ts_ns > self._frozen_ns:
            self._frozen_ns = ts_ns
