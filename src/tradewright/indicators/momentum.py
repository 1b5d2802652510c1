"""Momentum: Wilder's RSI and the directional movement system (+DI, -DI, ADX)."""

from __future__ import annotations

import math

import msgspec

from tradewright.indicators._config import check_int

__all__ = ["ADX", "RSI", "ADXConfig", "RSIConfig"]

_NAN = math.nan
# TA-Lib's zero band for the sum of the two DIs. The DIs are percentages, so a fixed band is
# scale-free here (unlike a band on prices or ranges, which TA-Lib 0.8 replaced by exact tests).
_DI_SUM_EPSILON = 1e-14


class RSIConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Parameters of Wilder's relative strength index."""

    period: int = 14

    def __post_init__(self) -> None:
        check_int("RSIConfig", "period", self.period, minimum=2)


class RSI:
    """Wilder's RSI, seeded as TA-Lib does (TA-Lib ``RSI``, default compatibility).

    The first price is the reference; the first value, after ``period + 1`` prices, uses the plain
    averages of the first `period` gains and losses; later averages are Wilder-smoothed
    (``(avg * (period - 1) + x) / period``). ``RSI = 100 * avg_gain / (avg_gain + avg_loss)``.

    When there has been neither a gain nor a loss (0/0) the RSI is the neutral 50. TA-Lib 0.8.1
    answers 0 there, which reads as "extremely oversold"; upstream TA-Lib changed it to 50 (#480).
    """

    __slots__ = (
        "_count",
        "_gain",
        "_has_prev",
        "_inv",
        "_keep",
        "_loss",
        "_period",
        "_prev",
        "_ready",
        "_value",
        "config",
    )
    _has_prev: bool
    _prev: float
    _count: int
    _gain: float
    _loss: float
    _value: float
    _ready: bool

    def __init__(self, period: int = 14) -> None:
        self.config = RSIConfig(period=period)
        self._period = period
        self._keep = float(period - 1)
        self._inv = 1.0 / period
        self.reset()

    @classmethod
    def from_config(cls, config: RSIConfig) -> RSI:
        return cls(config.period)

    @property
    def value(self) -> float:
        """The RSI in [0, 100]; NaN until ready."""
        return self._value

    @property
    def ready(self) -> bool:
        return self._ready

    def update(self, value: float) -> None:
        """Add the next price."""
        if not self._has_prev:
            self._prev = value
            self._has_prev = True
            return
        change = value - self._prev
        self._prev = value
        gain_step = change if change > 0.0 else 0.0
        loss_step = gain_step - change  # exactly -change for a fall, 0 otherwise
        if self._ready:
            keep = self._keep
            inv = self._inv
            gain = (self._gain * keep + gain_step) * inv
            loss = (self._loss * keep + loss_step) * inv
        else:
            self._gain += gain_step
            self._loss += loss_step
            self._count += 1
            if self._count < self._period:
                return
            gain = self._gain * self._inv
            loss = self._loss * self._inv
            self._ready = True
        self._gain = gain
        self._loss = loss
        total = gain + loss
        self._value = 100.0 * (gain / total) if total > 0.0 else 50.0

    def reset(self) -> None:
        self._has_prev = False
        self._prev = _NAN
        self._count = 0
        self._gain = 0.0
        self._loss = 0.0
        self._value = _NAN
        self._ready = False


class ADXConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Parameters of the average directional index."""

    period: int = 14

    def __post_init__(self) -> None:
        check_int("ADXConfig", "period", self.period, minimum=2)


class ADX:
    """Wilder's directional movement: +DI, -DI and ADX exactly as TA-Lib's ``PLUS_DI``, ``MINUS_DI``, ``ADX``.

    Bar 1 gives the first previous high/low/close. Over the next ``period - 1`` bars the one-bar
    +DM, -DM and true range are summed; from then on each is Wilder-smoothed
    (``s - s / period + x``) and ``±DI = 100 * ±DM / TR`` (0 while TR is 0) is available
    (`di_ready`, after ``period + 1`` bars, as TA-Lib's DI). ``DX = 100 * |+DI - -DI| / (+DI + -DI)``;
    the first ADX, after ``2 * period`` bars, is the mean of the first `period` DX and later values
    are ``(adx * (period - 1) + dx) / period``. As in TA-Lib, a bar whose TR is 0 or whose DI sum is
    (within 1e-14) 0 leaves the ADX unchanged and counts as a DX of 0 in the seed.
    """

    __slots__ = (
        "_adx",
        "_count",
        "_di_ready",
        "_minus_di",
        "_minus_dm",
        "_period",
        "_plus_di",
        "_plus_dm",
        "_prev_close",
        "_prev_high",
        "_prev_low",
        "_ready",
        "_sum_dx",
        "_tr",
        "config",
    )
    _count: int
    _prev_high: float
    _prev_low: float
    _prev_close: float
    _plus_dm: float
    _minus_dm: float
    _tr: float
    _sum_dx: float
    _plus_di: float
    _minus_di: float
    _adx: float
    _di_ready: bool
    _ready: bool

    def __init__(self, period: int = 14) -> None:
        self.config = ADXConfig(period=period)
        self._period = period
        self.reset()

    @classmethod
    def from_config(cls, config: ADXConfig) -> ADX:
        return cls(config.period)

    @property
    def value(self) -> float:
        """The ADX in [0, 100]; NaN until ready."""
        return self._adx

    @property
    def plus_di(self) -> float:
        """+DI in [0, 100]; NaN until `di_ready`."""
        return self._plus_di

    @property
    def minus_di(self) -> float:
        """-DI in [0, 100]; NaN until `di_ready`."""
        return self._minus_di

    @property
    def ready(self) -> bool:
        return self._ready

    @property
    def di_ready(self) -> bool:
        return self._di_ready

    def update(self, high: float, low: float, close: float) -> None:
        """Add the next bar."""
        count = self._count + 1
        self._count = count
        if count == 1:
            self._prev_high = high
            self._prev_low = low
            self._prev_close = close
            return
        up_move = high - self._prev_high
        down_move = self._prev_low - low
        prev_close = self._prev_close
        self._prev_high = high
        self._prev_low = low
        self._prev_close = close
        tr = high - low
        gap = abs(high - prev_close)
        if gap > tr:
            tr = gap
        gap = abs(low - prev_close)
        if gap > tr:
            tr = gap
        period = self._period
        plus_dm = self._plus_dm
        minus_dm = self._minus_dm
        if count <= period:  # still summing the first period - 1 bars
            if down_move > 0.0 and up_move < down_move:
                self._minus_dm = minus_dm + down_move
            elif up_move > 0.0 and up_move > down_move:
                self._plus_dm = plus_dm + up_move
            self._tr += tr
            return
        plus_dm -= plus_dm / period
        minus_dm -= minus_dm / period
        if down_move > 0.0 and up_move < down_move:
            minus_dm += down_move
        elif up_move > 0.0 and up_move > down_move:
            plus_dm += up_move
        smoothed_tr = self._tr
        smoothed_tr = smoothed_tr - smoothed_tr / period + tr
        self._plus_dm = plus_dm
        self._minus_dm = minus_dm
        self._tr = smoothed_tr
        self._di_ready = True
        dx = _NAN
        if smoothed_tr > 0.0:
            minus_di = 100.0 * (minus_dm / smoothed_tr)
            plus_di = 100.0 * (plus_dm / smoothed_tr)
            self._minus_di = minus_di
            self._plus_di = plus_di
            di_sum = minus_di + plus_di
            if di_sum >= _DI_SUM_EPSILON:
                dx = 100.0 * (abs(minus_di - plus_di) / di_sum)
        else:
            self._minus_di = 0.0
            self._plus_di = 0.0
        if self._ready:
            if dx == dx:  # not NaN: this bar has a DX
                self._adx = (self._adx * (period - 1) + dx) / period
            return
        if dx == dx:
            self._sum_dx += dx
        if count == 2 * period:
            self._adx = self._sum_dx / period
            self._ready = True

    def reset(self) -> None:
        self._count = 0
        self._prev_high = _NAN
        self._prev_low = _NAN
        self._prev_close = _NAN
        self._plus_dm = 0.0
        self._minus_dm = 0.0
        self._tr = 0.0
        self._sum_dx = 0.0
        self._plus_di = _NAN
        self._minus_di = _NAN
        self._adx = _NAN
        self._di_ready = False
        self._ready = False
