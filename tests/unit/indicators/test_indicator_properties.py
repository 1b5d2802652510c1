"""Invariants over arbitrary input (Hypothesis), plus equality with TA-Lib on generated series."""

from __future__ import annotations

import math

import numpy as np
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.indicators._series import compare, stream
from tradewright.indicators import ADX, ATR, EMA, RSI, SMA, VWAP, BollingerBands, RealisedVolatility
from tradewright.indicators._window import TrackedRollingVariance

periods = st.integers(min_value=2, max_value=40)
prices = st.floats(min_value=1e-6, max_value=1e7, allow_nan=False, allow_infinity=False)


@st.composite
def price_paths(draw: st.DrawFn, min_size: int = 1, max_size: int = 300) -> list[float]:
    """A positive random walk in relative steps, with flat stretches, at any price level."""
    level = draw(st.floats(min_value=1e-5, max_value=1e6))
    steps = draw(
        st.lists(
            st.one_of(st.just(0.0), st.floats(min_value=-0.05, max_value=0.05)),
            min_size=min_size,
            max_size=max_size,
        )
    )
    path = [level]
    for step in steps:
        path.append(path[-1] * (1.0 + step))
    return path


@st.composite
def bar_paths(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    close = np.array(draw(price_paths(min_size=2)))
    up = np.array(draw(st.lists(st.floats(0.0, 0.02), min_size=len(close), max_size=len(close))))
    down = np.array(draw(st.lists(st.floats(0.0, 0.02), min_size=len(close), max_size=len(close))))
    return close * (1.0 + up), close * (1.0 - down), close


@given(value=prices, period=periods, n=st.integers(1, 200))
def test_sma_and_ema_of_a_constant_series_are_the_constant(value: float, period: int, n: int) -> None:
    sma, ema = SMA(period), EMA(period)
    for _ in range(period + n):
        sma.update(value)
        ema.update(value)
    assert math.isclose(sma.value, value, rel_tol=1e-12)
    assert math.isclose(ema.value, value, rel_tol=1e-12)


@given(path=price_paths(), period=periods)
def test_rsi_stays_within_0_and_100(path: list[float], period: int) -> None:
    rsi = RSI(period)
    for price in path:
        rsi.update(price)
        if rsi.ready:
            assert 0.0 <= rsi.value <= 100.0


@given(path=price_paths(), period=periods, up=st.floats(0.0, 4.0), down=st.floats(0.0, 4.0))
def test_bollinger_upper_is_at_least_middle_is_at_least_lower(
    path: list[float], period: int, up: float, down: float
) -> None:
    bands = BollingerBands(period, up, down)
    for price in path:
        bands.update(price)
        if bands.ready:
            assert bands.stddev >= 0.0
            assert bands.upper >= bands.middle >= bands.lower


@given(bars=bar_paths(), period=periods)
def test_atr_is_non_negative_and_adx_and_dis_stay_within_0_and_100(
    bars: tuple[np.ndarray, np.ndarray, np.ndarray], period: int
) -> None:
    atr, adx = ATR(period), ADX(period)
    for high, low, close in zip(*(column.tolist() for column in bars), strict=True):
        atr.update(high, low, close)
        adx.update(high, low, close)
        if atr.ready:
            assert atr.value >= 0.0
        if adx.di_ready:
            assert 0.0 <= adx.plus_di <= 100.0 and 0.0 <= adx.minus_di <= 100.0
        if adx.ready:
            assert 0.0 <= adx.value <= 100.0 + 1e-9


@given(path=price_paths(), period=periods)
def test_realised_volatility_is_non_negative_and_zero_for_a_constant_price(
    path: list[float], period: int
) -> None:
    vol, flat = (
        RealisedVolatility(period, periods_per_year=365.0),
        RealisedVolatility(period, periods_per_year=365.0),
    )
    for price in path:
        vol.update(price)
        flat.update(path[0])
        if vol.ready:
            assert vol.value >= 0.0
            assert flat.value == 0.0


@given(
    trades=st.lists(
        st.tuples(
            st.integers(0, 3 * 86_400_000_000_000), prices, st.one_of(st.just(0.0), st.floats(1e-6, 1e6))
        ),
        min_size=1,
        max_size=100,
    )
)
def test_vwap_lies_between_the_session_low_and_high(trades: list[tuple[int, float, float]]) -> None:
    vwap = VWAP()
    seen: list[float] = []
    session = None
    for ts, price, volume in sorted(trades):
        if ts // 86_400_000_000_000 != session:
            session, seen = ts // 86_400_000_000_000, []
        vwap.update(ts, price, volume)
        if volume > 0:
            seen.append(price)
        if vwap.ready:
            assert min(seen) * (1 - 1e-12) <= vwap.value <= max(seen) * (1 + 1e-12)


@settings(max_examples=200)
@given(path=price_paths(min_size=100), period=periods)
def test_streaming_equals_talib_on_generated_series(path: list[float], period: int) -> None:
    close = np.array(path)
    high, low = close * 1.01, close * 0.985
    n = len(close)
    scale = 1e-12 * float(np.median(close))
    sma, ema, rsi, atr, adx = SMA(period), EMA(period), RSI(period), ATR(period), ADX(period)
    compare(
        stream(n, [close], sma.update, lambda: sma.value, lambda: sma.ready),
        talib.SMA(close, period),
        atol=scale,
    )
    compare(
        stream(n, [close], ema.update, lambda: ema.value, lambda: ema.ready),
        talib.EMA(close, period),
        atol=scale,
    )
    ours_rsi = stream(n, [close], rsi.update, lambda: rsi.value, lambda: rsi.ready)
    ref_rsi = talib.RSI(close, period)
    flat = ours_rsi == 50.0  # 0/0: TA-Lib 0.8.1 says 0, we say 50 (see RSI's docstring)
    ref_rsi[flat & (ref_rsi == 0.0)] = 50.0
    compare(ours_rsi, ref_rsi, atol=1e-10)
    hlc = [high, low, close]
    compare(
        stream(n, hlc, atr.update, lambda: atr.value, lambda: atr.ready), talib.ATR(*hlc, period), atol=scale
    )
    compare(
        stream(n, hlc, adx.update, lambda: adx.value, lambda: adx.ready), talib.ADX(*hlc, period), atol=1e-10
    )


@given(
    values=st.lists(st.floats(min_value=-1e6, max_value=1e6), min_size=2, max_size=400),
    period=st.integers(2, 50),
    level=st.floats(min_value=-1e9, max_value=1e9),
)
def test_tracked_rolling_variance_matches_a_two_pass(values: list[float], period: int, level: float) -> None:
    data = np.array(values) * 1e-6 + level  # small spreads on a large level: the cancellation trap
    tracked = TrackedRollingVariance(period)
    for i, x in enumerate(data.tolist()):
        tracked.push(x)
        if i + 1 >= period:
            window = data[i + 1 - period : i + 1]
            exact = float(np.mean((window - window.mean()) ** 2))
            resolution = (2.0**-52 * abs(level)) ** 2 * period  # spreads below this are noise of any method
            assert abs(tracked.variance - exact) <= 1e-9 * exact + resolution
