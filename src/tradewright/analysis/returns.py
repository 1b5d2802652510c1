"""Return series: sampling, trading calendars, annualisation, and equity curve → returns.

Annualisation is always explicit. A `Sampling` says how far apart the samples are; a `Calendar` says
how much trading time a year holds. `Calendar.periods_per_year(sampling)` combines the two, and every
annualised metric in `tradewright.analysis.metrics` takes that number as a required argument.

Time in a `Sampling` is trading time:

* a period of whole days (``Sampling.per_day()``, ``Sampling.every(5 * NS_PER_DAY)``) counts trading
  days, i.e. sessions: on a 252-day equities calendar ``per_day`` gives 252 periods a year and a
  five-day period gives 50.4;
* a period shorter than a day counts time inside sessions: on a 252 × 6.5 h calendar ``per_hour``
  gives 252 × 6.5 = 1638 periods a year; on the crypto calendar (365 × 24 h) ``per_minute`` gives 525 600.

Irregular samples (an equity curve with one row per second plus one per fill) are put on a regular
grid before returns are taken — see `resample_last`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from tradewright.core.errors import DataError

__all__ = [
    "NS_PER_DAY",
    "NS_PER_HOUR",
    "NS_PER_MINUTE",
    "NS_PER_SECOND",
    "Calendar",
    "Sampling",
    "as_return_array",
    "equity_returns",
    "per_period_rate",
    "resample_last",
    "simple_returns",
]

NS_PER_SECOND = 1_000_000_000
NS_PER_MINUTE = 60 * NS_PER_SECOND
NS_PER_HOUR = 60 * NS_PER_MINUTE
NS_PER_DAY = 24 * NS_PER_HOUR

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Sampling:
    """The spacing of a return series, in trading time (see the module docstring)."""

    period_ns: int

    def __post_init__(self) -> None:
        if self.period_ns <= 0:
            raise ValueError(f"a sampling period must be > 0 ns, got {self.period_ns}")
        if self.period_ns > NS_PER_DAY and self.period_ns % NS_PER_DAY != 0:
            raise ValueError(
                f"a sampling period longer than a day must be a whole number of (trading) days, got {self.period_ns} ns"
            )

    @classmethod
    def per_minute(cls) -> Sampling:
        return cls(NS_PER_MINUTE)

    @classmethod
    def per_hour(cls) -> Sampling:
        return cls(NS_PER_HOUR)

    @classmethod
    def per_day(cls) -> Sampling:
        """One sample per trading day (one session)."""
        return cls(NS_PER_DAY)

    @classmethod
    def every(cls, period_ns: int) -> Sampling:
        """Any period: below a day it is session time, from a day up it must be whole trading days."""
        return cls(period_ns)

    @property
    def is_daily_or_longer(self) -> bool:
        return self.period_ns >= NS_PER_DAY


@dataclass(frozen=True, slots=True)
class Calendar:
    """How much trading time a year holds: `trading_days_per_year` sessions of `session_ns` each."""

    name: str
    trading_days_per_year: int
    session_ns: int

    def __post_init__(self) -> None:
        if self.trading_days_per_year <= 0:
            raise ValueError(
                f"{self.name}: trading_days_per_year must be > 0, got {self.trading_days_per_year}"
            )
        if not 0 < self.session_ns <= NS_PER_DAY:
            raise ValueError(f"{self.name}: session_ns must be in (0, 1 day], got {self.session_ns}")

    @classmethod
    def crypto(cls) -> Calendar:
        """Markets that never close: 365 days of 24 hours."""
        return cls("crypto", 365, NS_PER_DAY)

    @classmethod
    def us_equities(cls) -> Calendar:
        """NYSE/Nasdaq regular hours: 252 sessions of 6.5 hours (09:30–16:00 ET)."""
        return cls("us_equities", 252, 6 * NS_PER_HOUR + 30 * NS_PER_MINUTE)

    @classmethod
    def sessions(cls, name: str, *, trading_days_per_year: int, session_ns: int) -> Calendar:
        """Any session market, e.g. CME Globex futures: ``sessions("cme", trading_days_per_year=252,
        session_ns=23 * NS_PER_HOUR)``."""
        return cls(name, trading_days_per_year, session_ns)

    def periods_per_year(self, sampling: Sampling) -> float:
        """Return how many samples of `sampling` a year of this calendar holds."""
        if sampling.is_daily_or_longer:
            return self.trading_days_per_year / (sampling.period_ns // NS_PER_DAY)
        if sampling.period_ns > self.session_ns:
            raise ValueError(
                f"{self.name}: a {sampling.period_ns} ns sample is longer than one {self.session_ns} ns session "
                "but shorter than a day; sample per session (Sampling.per_day()) instead"
            )
        return self.trading_days_per_year * self.session_ns / sampling.period_ns


def per_period_rate(annual_rate: float, periods_per_year: float) -> float:
    """Convert an annual rate (e.g. a 4 % risk-free rate) to the compounding-equivalent rate per period."""
    if annual_rate <= -1:
        raise ValueError(f"an annual rate must be > -1, got {annual_rate}")
    return float((1.0 + annual_rate) ** (1.0 / periods_per_year) - 1.0)


def as_return_array(values: Sequence[float] | npt.ArrayLike, *, what: str = "returns") -> FloatArray:
    """Return `values` as a 1-d float64 array; raise `DataError` on NaN or infinity, naming the first index.

    Metrics never skip missing values silently: a gap in a return series changes every statistic, so
    the caller decides (drop it, or fill it with 0) before asking.
    """
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise DataError(f"{what} must be one-dimensional, got shape {array.shape}", source=what)
    bad = ~np.isfinite(array)
    if bad.any():
        first = int(np.argmax(bad))
        raise DataError(
            f"{int(bad.sum())} non-finite value(s), the first ({array[first]}) at index {first}; "
            "drop or fill them explicitly before computing metrics",
            source=what,
        )
    return array


def simple_returns(prices: Sequence[float] | npt.ArrayLike, *, what: str = "prices") -> FloatArray:
    """Return ``p[i] / p[i-1] - 1`` for consecutive prices (one fewer value than prices)."""
    array = as_return_array(prices, what=what)
    if (array <= 0).any():
        first = int(np.argmax(array <= 0))
        raise DataError(f"must be > 0 to form returns, got {array[first]} at index {first}", source=what)
    return np.asarray(array[1:] / array[:-1] - 1.0, dtype=np.float64)


def resample_last(
    ts_ns: Sequence[int] | npt.ArrayLike,
    values: Sequence[float] | Sequence[Decimal] | npt.ArrayLike,
    sampling: Sampling,
) -> tuple[IntArray, FloatArray]:
    """Put an irregular series on the regular grid ``ts_ns[0] + k × period``, carrying the last value forward.

    The grid starts at the first observation (so the starting value is exact) and ends at the last grid
    point not after the last observation; the value at a grid point is the last observation at or before
    it (several observations at one timestamp: the last row wins). A tail shorter than one period after
    the last grid point is not part of the grid. Timestamps must not go backwards.

    The grid is wall-clock time: resample an always-open market's curve (crypto) with it. For a session
    market, hand the per-session closes to `simple_returns` instead, so nights and weekends are not
    counted as flat periods.
    """
    ts = np.asarray(ts_ns, dtype=np.int64)
    vals = as_return_array(_floats(values), what="values")
    if ts.ndim != 1 or ts.shape != vals.shape:
        raise DataError(f"timestamps {ts.shape} and values {vals.shape} must be 1-d and of equal length")
    if ts.size == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    steps = np.diff(ts)
    if (steps < 0).any():
        first = int(np.argmax(steps < 0)) + 1
        raise DataError(
            f"timestamps go backwards at index {first} ({ts[first - 1]} → {ts[first]})", source="ts_ns"
        )
    count = int((ts[-1] - ts[0]) // sampling.period_ns) + 1
    grid = ts[0] + sampling.period_ns * np.arange(count, dtype=np.int64)
    # side="right" finds the first observation after each grid point; the one before it is "as of".
    idx = np.searchsorted(ts, grid, side="right") - 1
    return grid, np.asarray(vals[idx], dtype=np.float64)


def equity_returns(
    ts_ns: Sequence[int] | npt.ArrayLike,
    equity: Sequence[float] | Sequence[Decimal] | npt.ArrayLike,
    sampling: Sampling,
) -> FloatArray:
    """Return the simple returns of an equity curve on the sampling grid (see `resample_last`)."""
    _, on_grid = resample_last(ts_ns, equity, sampling)
    return simple_returns(on_grid, what="equity")


def _floats(values: Sequence[float] | Sequence[Decimal] | npt.ArrayLike) -> npt.ArrayLike:
    # Exact Decimal money becomes float here on purpose: returns are ratios, off the money path.
    if isinstance(values, list | tuple):
        return [float(v) for v in values]
    return np.asarray(values)
