"""Volatility: true range, Wilder's ATR, Bollinger bands and realised volatility of log returns."""

from __future__ import annotations

import math

import msgspec

from tradewright.indicators._config import check_float, check_int
from tradewright.indicators._window import RollingMoments, TrackedRollingVariance

__all__ = [
    "ATR",
    "ATRConfig",
    "BollingerBands",
    "BollingerConfig",
    "RealisedVolatility",
    "RealisedVolatilityConfig",
    "TrueRange",
    "true_range",
]

_NAN = math.nan


def true_range(high: float, low: float, prev_close: float) -> float:
    """Return the greatest of high - low, |prev_close - high| and |prev_close - low| (TA-Lib ``TRANGE``)."""
    greatest = high - low
    up = abs(prev_close - high)
    if up > greatest:
        greatest = up
    down = abs(prev_close - low)
    if down > greatest:
        greatest = down
    return greatest


class TrueRange:
    """True range of each bar against the previous close; ready from the second bar (as TA-Lib)."""

    __slots__ = ("_has_prev", "_prev_close", "_ready", "_value")
    _has_prev: bool
    _prev_close: float
    _value: float
    _ready: bool

    def __init__(self) -> None:
        self.reset()

    @property
    def value(self) -> float:
        """The latest bar's true range; NaN until ready."""
        return self._value

    @property
    def ready(self) -> bool:
        return self._ready

    def update(self, high: float, low: float, close: float) -> None:
        """Add the next bar."""
        if self._has_prev:
            self._value = true_range(high, low, self._prev_close)
            self._ready = True
        self._prev_close = close
        self._has_prev = True

    def reset(self) -> None:
        self._has_prev = False
        self._prev_close = _NAN
        self._value = _NAN
        self._ready = False


class ATRConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Parameters of Wilder's average true range."""

    period: int

    def __post_init__(self) -> None:
        check_int("ATRConfig", "period", self.period, minimum=1)


class ATR:
    """Wilder's average true range, seeded as TA-Lib does (TA-Lib ``ATR``).

    The first bar only provides a previous close. The first value, after ``period + 1`` bars, is
    the simple average of the first `period` true ranges; each later value is
    ``(prev * (period - 1) + tr) / period``.
    """

    __slots__ = (
        "_alpha",
        "_beta",
        "_count",
        "_has_prev",
        "_period",
        "_prev_close",
        "_ready",
        "_total",
        "_value",
        "config",
    )
    _has_prev: bool
    _prev_close: float
    _count: int
    _total: float
    _value: float
    _ready: bool

    def __init__(self, period: int) -> None:
        self.config = ATRConfig(period=period)
        self._period = period
        # Wilder's step as alpha * tr + beta * prev with beta first and alpha = 1 - beta (exactly
        # complementary), the form TA-Lib 0.8 uses; it equals (prev * (period - 1) + tr) / period.
        self._beta = (period - 1) / period
        self._alpha = 1.0 - self._beta
        self.reset()

    @classmethod
    def from_config(cls, config: ATRConfig) -> ATR:
        return cls(config.period)

    @property
    def value(self) -> float:
        """The current average true range; NaN until ready."""
        return self._value

    @property
    def ready(self) -> bool:
        return self._ready

    def update(self, high: float, low: float, close: float) -> None:
        """Add the next bar."""
        if not self._has_prev:
            self._prev_close = close
            self._has_prev = True
            return
        prev_close = self._prev_close
        self._prev_close = close
        # True range inline (see `true_range`): this is the hot path.
        tr = high - low
        up = abs(prev_close - high)
        if up > tr:
            tr = up
        down = abs(prev_close - low)
        if down > tr:
            tr = down
        if self._ready:
            self._value = self._alpha * tr + self._beta * self._value
            return
        self._total += tr
        self._count += 1
        if self._count == self._period:
            self._value = self._total / self._period
            self._ready = True

    def reset(self) -> None:
        self._has_prev = False
        self._prev_close = _NAN
        self._count = 0
        self._total = 0.0
        self._value = _NAN
        self._ready = False


class BollingerConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Parameters of Bollinger bands: SMA(period) plus/minus a multiple of the population stddev."""

    period: int = 20
    nbdev_up: float = 2.0
    nbdev_down: float = 2.0

    def __post_init__(self) -> None:
        check_int("BollingerConfig", "period", self.period, minimum=2)
        check_float("BollingerConfig", "nbdev_up", self.nbdev_up, minimum=0.0)
        check_float("BollingerConfig", "nbdev_down", self.nbdev_down, minimum=0.0)


class BollingerBands:
    """Bollinger bands as TA-Lib ``BBANDS`` with an SMA middle band.

    `middle` is the SMA of the last `period` values, `stddev` their population standard deviation
    (divide by `period`, as TA-Lib), `upper = middle + nbdev_up * stddev`,
    `lower = middle - nbdev_down * stddev`. `value` is the middle band.
    """

    __slots__ = ("_down", "_lower", "_moments", "_stddev", "_up", "_upper", "config")

    def __init__(self, period: int = 20, nbdev_up: float = 2.0, nbdev_down: float = 2.0) -> None:
        self.config = BollingerConfig(period=period, nbdev_up=nbdev_up, nbdev_down=nbdev_down)
        self._up = float(nbdev_up)
        self._down = float(nbdev_down)
        self._moments = RollingMoments(period)
        self._upper = _NAN
        self._lower = _NAN
        self._stddev = _NAN

    @classmethod
    def from_config(cls, config: BollingerConfig) -> BollingerBands:
        return cls(config.period, config.nbdev_up, config.nbdev_down)

    @property
    def value(self) -> float:
        """The middle band; NaN until ready."""
        return self._moments.mean

    @property
    def middle(self) -> float:
        return self._moments.mean

    @property
    def upper(self) -> float:
        return self._upper

    @property
    def lower(self) -> float:
        return self._lower

    @property
    def stddev(self) -> float:
        """Population standard deviation of the window; NaN until ready."""
        return self._stddev

    @property
    def ready(self) -> bool:
        return self._moments.ready

    def update(self, value: float) -> None:
        """Add the next value."""
        moments = self._moments
        moments.push(value)
        if not moments.ready:
            return
        variance = moments.variance
        stddev = math.sqrt(variance) if variance > 0.0 else 0.0
        middle = moments.mean
        self._stddev = stddev
        self._upper = middle + stddev * self._up
        self._lower = middle - stddev * self._down

    def reset(self) -> None:
        self._moments.reset()
        self._upper = _NAN
        self._lower = _NAN
        self._stddev = _NAN


class RealisedVolatilityConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Parameters of realised volatility.

    `period` is the number of log returns in the window; `periods_per_year` the annualisation
    factor, given explicitly because only the caller knows the bar length and the trading calendar
    (525_600 for 24/7 one-minute bars, 252 for exchange daily bars); `ddof` 1 divides by
    ``period - 1`` (sample stddev, pandas' default), 0 by `period`.
    """

    period: int
    periods_per_year: float
    ddof: int = 1

    def __post_init__(self) -> None:
        check_int("RealisedVolatilityConfig", "period", self.period, minimum=2)
        check_float(
            "RealisedVolatilityConfig", "periods_per_year", self.periods_per_year, minimum=0.0, strict=True
        )
        check_int("RealisedVolatilityConfig", "ddof", self.ddof, minimum=0, allowed=(0, 1))


class RealisedVolatility:
    """Annualised rolling standard deviation of log returns.

    ``value = stddev(ln(p[i] / p[i-1]) over the last period returns) * sqrt(periods_per_year)``.
    Ready after ``period + 1`` prices. Prices must be positive.
    """

    __slots__ = ("_has_prev", "_moments", "_prev_log", "_scale", "_value", "config")

    def __init__(self, period: int, periods_per_year: float, ddof: int = 1) -> None:
        self.config = RealisedVolatilityConfig(period=period, periods_per_year=periods_per_year, ddof=ddof)
        # population variance * period / (period - ddof) = variance with the chosen divisor
        self._scale = float(periods_per_year) * period / (period - ddof)
        self._moments = TrackedRollingVariance(period)
        self._has_prev = False
        self._prev_log = _NAN
        self._value = _NAN

    @classmethod
    def from_config(cls, config: RealisedVolatilityConfig) -> RealisedVolatility:
        return cls(config.period, config.periods_per_year, config.ddof)

    @property
    def value(self) -> float:
        """Annualised volatility (0.5 = 50 % a year); NaN until ready."""
        return self._value

    @property
    def ready(self) -> bool:
        return self._moments.ready

    def update(self, price: float) -> None:
        """Add the next price (e.g. a bar's close)."""
        log_price = math.log(price)
        if not self._has_prev:
            self._prev_log = log_price
            self._has_prev = True
            return
        moments = self._moments
        moments.push(log_price - self._prev_log)
        self._prev_log = log_price
        if moments.ready:
            variance = moments.variance
            self._value = math.sqrt(variance * self._scale) if variance > 0.0 else 0.0

    def reset(self) -> None:
        self._moments.reset()
        self._has_prev = False
        self._prev_log = _NAN
        self._value = _NAN
