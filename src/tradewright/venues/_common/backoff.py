"""Reconnect pacing: exponential backoff with full jitter, reset after a healthy connection."""

from __future__ import annotations

import random

__all__ = ["Backoff"]


class Backoff:
    """Delays for successive reconnect attempts: ``uniform(base, min(cap, base * 2**n))``.

    Jitter spreads reconnects of many clients (and of our own streams) so they never storm a venue that
    has just come back. `reset()` after a connection has been healthy. Pass a seeded `rng` in tests.
    """

    __slots__ = ("_attempt", "_rng", "base_s", "cap_s")

    def __init__(self, base_s: float = 0.1, cap_s: float = 30.0, rng: random.Random | None = None) -> None:
        if not (0 < base_s <= cap_s):
            raise ValueError(f"backoff needs 0 < base_s <= cap_s, got {base_s}, {cap_s}")
        self.base_s = base_s
        self.cap_s = cap_s
        self._attempt = 0
        self._rng = rng or random.Random()

    @property
    def attempt(self) -> int:
        """How many delays have been handed out since the last reset."""
        return self._attempt

    def next_delay_s(self) -> float:
        ceiling = min(self.cap_s, self.base_s * (2 ** min(self._attempt, 32)))
        self._attempt += 1
        return self._rng.uniform(self.base_s, ceiling)

    def reset(self) -> None:
        self._attempt = 0
