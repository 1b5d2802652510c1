"""Rolling mean and population variance over a fixed window, without catastrophic cancellation.

The textbook running form ``E[x^2] - E[x]^2`` loses every digit when the spread is small next to the
level (a 1.1000 EUR future moving in 0.00005 ticks). Like TA-Lib 0.8 (`var.c`, issue #118), we keep
the running sums of deviations from a *shift* near the window, and rebuild them from the window with
a fresh two-pass whenever the shift has gone stale: when the variance is below 1e-6 of the mean
squared deviation it is extracted from, when the value leaving the window dwarfs what remains, or at
least every 32 windows. A rebuild costs O(period); it is rare, so an update is O(1) amortised.

`RollingMoments` follows TA-Lib's rules exactly, so Bollinger bands stay equal to TA-Lib. Those rules
bound one cancellation but not the rounding the running sums carry between rebuilds: when a window's
values nearly coincide (two log returns equal to 4 digits), what is left of the sums is mostly that
rounding. TA-Lib's STDDEV of the FTX perp's 1-minute log returns at period 2 is up to 2.4e-6 off.
`TrackedRollingVariance` (for realised volatility, which has no TA-Lib twin) also keeps a running
bound on that rounding and rebuilds as soon as the bound exceeds 1e-10 of the variance, so it stays
within ~1e-10 of a two-pass.
"""

from __future__ import annotations

import math

__all__ = ["RollingMoments", "TrackedRollingVariance"]

_RESEED_WINDOWS = 32
_STALE_RATIO = 1e-6  # variance / mean squared deviation below this: the shift is too far away
_OUTLIER_RATIO = 1e6  # removed squared deviation above this multiple of the remaining sum
_FLOOR_RATIO = 1e-12  # after a rebuild, a spread this small is rounding noise of the mean: report 0
_UNIT_ROUNDOFF = 2.0**-53
_TRACKED_TOLERANCE = 1e-10  # rebuild when the rounding bound exceeds this fraction of the variance


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


class TrackedRollingVariance:
    """Population variance of the last `period` values within ~1e-10 relative of a two-pass.

    Same shifted running sums as `RollingMoments`, plus `_err1`/`_err2`: upper bounds on the rounding
    the sums have accumulated since the last rebuild (each add or remove rounds by at most one unit
    roundoff of the numbers involved). When the resulting bound on the variance exceeds 1e-10 of it,
    or the variance is negative, the sums are rebuilt from the window. A spread below the resolution
    of the values themselves (``(u * shift)^2``) is not chased: that is the floor of any float method.
    """

    __slots__ = (
        "_buf",
        "_count",
        "_err1",
        "_err2",
        "_inv",
        "_pos",
        "_s1",
        "_s2",
        "_shift",
        "period",
        "ready",
        "variance",
    )
    _buf: list[float]
    _pos: int
    _count: int
    _shift: float
    _s1: float
    _s2: float
    _err1: float
    _err2: float
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
        self._shift = 0.0
        self._s1 = 0.0
        self._s2 = 0.0
        self._err1 = 0.0
        self._err2 = 0.0
        self.variance = math.nan
        self.ready = False

    def push(self, x: float) -> None:
        """Add `x`; once `period` values are in, `variance` describes the last `period`."""
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
        u = _UNIT_ROUNDOFF
        d = x - shift
        dd = d * d
        s1 = self._s1 + d
        s2 = self._s2 + dd
        err1 = self._err1 + u * (abs(s1) + abs(d))
        err2 = self._err2 + u * (s2 + 3.0 * dd)
        if not self.ready:
            self._s1, self._s2, self._err1, self._err2 = s1, s2, err1, err2
            if self._count < period:
                return
            self.ready = True
        inv = self._inv
        m1 = s1 * inv
        mean_square = s2 * inv
        variance = mean_square - m1 * m1
        bound = (err2 + 2.0 * abs(m1) * err1) * inv + 2.0 * u * (mean_square + m1 * m1)
        if variance < 0.0 or bound > _TRACKED_TOLERANCE * variance + (u * shift) ** 2:
            variance, s1, s2 = self._rebuild()
            err1 = err2 = 0.0
            shift = self._shift
        self.variance = variance
        # Take out the oldest value of the window now, ready for the next push.
        e = buf[pos] - shift
        ee = e * e
        s1 -= e
        s2 -= ee
        self._s1 = s1
        self._s2 = s2
        self._err1 = err1 + u * (abs(s1) + abs(e))
        self._err2 = err2 + u * (abs(s2) + 3.0 * ee)

    def _rebuild(self) -> tuple[float, float, float]:
        """Re-anchor at the window mean and recompute the sums with a two-pass (window incl. its oldest)."""
        period = self.period
        buf = self._buf
        pos = self._pos
        inv = self._inv
        acc = 0.0
        for i in range(period):
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
        self._shift = shift
        return variance, s1, s2
