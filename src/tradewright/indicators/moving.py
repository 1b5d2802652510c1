"""Moving averages: simple (SMA) and exponential (EMA), both as TA-Lib computes them."""

from __future__ import annotations

import math

import msgspec

from tradewright.indicators._config import check_int

__all__ = ["EMA", "SMA", "EMAConfig", "SMAConfig"]

_NAN = math.nan


class SMAConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Parameters of a simple moving average: the mean of the last `period` values."""

    period: int

    def __post_init__(self) -> None:
        check_int("SMAConfig", "period", self.period, minimum=1)


class SMA:
    """Simple moving average of the last `period` values (TA-Lib ``SMA``).

    Ready after `period` updates. The window total is kept as a running sum in TA-Lib's order
    (add the newest, divide, then drop the oldest), so the output equals TA-Lib's to the last bit
    or within rounding.
    """

    __slots__ = ("_buf", "_count", "_period", "_pos", "_ready", "_total", "_value", "config")

    def __init__(self, period: int) -> None:
        self.config = SMAConfig(period=period)
        self._period = period
        self._buf = [0.0] * period
        self._pos = 0
        self._count = 0
        self._total = 0.0
        self._value = _NAN
        self._ready = False

    @classmethod
    def from_config(cls, config: SMAConfig) -> SMA:
        return cls(config.period)

    @property
    def value(self) -> float:
        """The average of the last `period` values; NaN until ready."""
        return self._value

    @property
    def ready(self) -> bool:
        return self._ready

    def update(self, value: float) -> None:
        """Add the next value."""
        buf = self._buf
        pos = self._pos
        buf[pos] = value
        pos += 1
        if pos == self._period:
            pos = 0
        self._pos = pos
        total = self._total + value
        if not self._ready:
            self._count += 1
            if self._count < self._period:
                self._total = total
                return
            self._ready = True
        self._value = total / self._period
        # buf[pos] is now the oldest value of the window; it leaves before the next update.
        self._total = total - buf[pos]

    def reset(self) -> None:
        """Forget every value seen."""
        self._buf = [0.0] * self._period
        self._pos = 0
        self._count = 0
        self._total = 0.0
        self._value = _NAN
        self._ready = False


class EMAConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Parameters of an exponential moving average with smoothing factor ``2 / (period + 1)``."""

    period: int

    def __post_init__(self) -> None:
        check_int("EMAConfig", "period", self.period, minimum=1)


class EMA:
    """Exponential moving average seeded as TA-Lib does (TA-Lib ``EMA``, default compatibility).

    The first value, after `period` updates, is the simple average of those updates; each later
    value is ``prev + k * (x - prev)`` with ``k = 2 / (period + 1)``, written in TA-Lib's operation order.
    """

    __slots__ = ("_count", "_k", "_period", "_ready", "_total", "_value", "config")

    def __init__(self, period: int) -> None:
        self.config = EMAConfig(period=period)
        self._period = period
        self._k = 2.0 / (period + 1)
        self._count = 0
        self._total = 0.0
        self._value = _NAN
        self._ready = False

    @classmethod
    def from_config(cls, config: EMAConfig) -> EMA:
        return cls(config.period)

    @property
    def value(self) -> float:
        """The current average; NaN until ready."""
        return self._value

    @property
    def ready(self) -> bool:
        return self._ready

    def update(self, value: float) -> None:
        """Add the next value."""
        if self._ready:
            prev = self._value
            self._value = (value - prev) * self._k + prev
            return
        self._total += value
        self._count += 1
        if self._count == self._period:
            self._value = self._total / self._period
            self._ready = True

    def reset(self) -> None:
        """Forget every value seen."""
        self._count = 0
        self._total = 0.0
        self._value = _NAN
        self._ready = False
