"""Rolling mean and population variance over a fixed window, without catastrophic cancellation.

The textbook running form ``E[x^2] - E[x]^2`` loses every digit when the spread is small next to the
level (a 1.1000 EUR future moving in 0.00005 ticks). Like TA-Lib 0.8 (`var.c`, issue #118), we keep
the running sums of deviations from a *shift* near the window, and rebuild them from the window with
a fresh two-pass whenever the shift has gone stale: when the variance is below 1e-6 of the mean
squared deviation it is extracted from, when the value leaving the window dwarfs what remains, or at
least every 32 windows. A rebuild costs O(period); it is rare, so an update is O(1) amortised.
"""

from __future__ import annotations

import math

__all__ = ["RollingMoments"]

_RESEED_WINDOWS = 32
_STALE_RATIO = 1e-6  # variance / mean squared deviation below this: the shift is too far away
_OUTLIER_RATIO = 1e6  # removed squared deviation above this multiple of the remaining sum
_FLOOR_RATIO = 1e-12  # after a rebuild, a spread this small is rounding noise of the mean: report 0


class RollingMoments:
    """Mean (TA-Lib's SMA running sum) and population variance of the last `period` values."""

    __slots__ = (
        "_buf",
        "_count",
        "_countdown",
        "_inv",
        "_pos",
        "_s1",
        "_s2",
        "_shift",
        "_total",
        "mean",
        "period",
        "ready",
        "variance",
    )
    _buf: list[float]
    _pos: int
    _count: int
    _countdown: int
    _total: float
    _shift: float
    _s1: float
    _s2: float
    mean: float
    variance: float
    ready: bool

    def __init__(self, period: int) -> None:
        self.period = period
        self._inv = 1.0 / period
        self.reset()

    def reset(self) -> None:
        self._buf = [0.0] * self.period
        self._pos = 0
        self._count = 0
        self._countdown = _RESEED_WINDOWS * self.period
        self._total = 0.0
        self._shift = 0.0
        self._s1 = 0.0
        self._s2 = 0.0
        self.mean = math.nan
        self.variance = math.nan
        self.ready = False

    def push(self, x: float) -> None:
        """Add `x`; once `period` values are in, `mean` and `variance` describe the last `period`."""
        period = self.period
        buf = self._buf
        pos = self._pos
        buf[pos] = x
        pos += 1
        if pos == period:
            pos = 0
        self._pos = pos
        if not self.ready:
            if self._count == 0:
                self._shift = x
            self._count += 1
        shift = self._shift
        d = x - shift
        total = self._total + x
        s1 = self._s1 + d
        s2 = self._s2 + d * d
        if not self.ready:
            if self._count < period:
                self._total = total
                self._s1 = s1
                self._s2 = s2
                return
            self.ready = True
        inv = self._inv
        self.mean = total / period
        m1 = s1 * inv
        variance = s2 * inv - m1 * m1
        # buf[pos] is the oldest value of the window: take it out now, ready for the next push.
        oldest = buf[pos]
        total -= oldest
        e = oldest - shift
        s1 -= e
        e2 = e * e
        s2 -= e2
        self._countdown -= 1
        if variance < _STALE_RATIO * (s2 * inv) or e2 > _OUTLIER_RATIO * s2 or self._countdown <= 0:
            variance, s1, s2 = self._rebuild()
        self.variance = variance
        self._total = total
        self._s1 = s1
        self._s2 = s2

    def _rebuild(self) -> tuple[float, float, float]:
        """Re-anchor the shift at the window mean and recompute the sums with a two-pass."""
        period = self.period
        buf = self._buf
        pos = self._pos
        inv = self._inv
        self._countdown = _RESEED_WINDOWS * period
        acc = 0.0
        for i in range(period):  # oldest first, as the window arrived
            acc += buf[(pos + i) % period]
        shift = acc * inv
        s1 = 0.0
        s2 = 0.0
        for i in range(period):
            d = buf[(pos + i) % period] - shift
            s1 += d
            s2 += d * d
        m1 = s1 * inv
        variance = s2 * inv - m1 * m1
        if variance < _FLOOR_RATIO * (s2 * inv):
            variance = 0.0
        e = buf[pos] - shift
        self._shift = shift
        return variance, s1 - e, s2 - e * e
