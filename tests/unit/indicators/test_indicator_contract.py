"""The shared contract: validated frozen configs, warm-up length, NaN before ready, reset, determinism."""

from __future__ import annotations

import math
from collections.abc import Callable

import msgspec
import numpy as np
import pytest

from tradewright.core.errors import ConfigError
from tradewright.indicators import (
    ADX,
    ATR,
    EMA,
    RSI,
    SMA,
    VWAP,
    BollingerBands,
    RealisedVolatility,
    SMAConfig,
    TrueRange,
    VWAPConfig,
    true_range,
)

DAY_NS = 86_400_000_000_000


@pytest.mark.parametrize(
    ("build", "field", "allowed"),
    [
        (lambda: SMA(0), "SMAConfig.period", ">= 1"),
        (lambda: EMA(-3), "EMAConfig.period", ">= 1"),
        (lambda: ATR(0), "ATRConfig.period", ">= 1"),
        (lambda: RSI(1), "RSIConfig.period", ">= 2"),
        (lambda: ADX(1), "ADXConfig.period", ">= 2"),
        (lambda: BollingerBands(1), "BollingerConfig.period", ">= 2"),
        (lambda: BollingerBands(20, nbdev_up=-1.0), "BollingerConfig.nbdev_up", ">= 0.0"),
        (lambda: BollingerBands(20, nbdev_down=math.inf), "BollingerConfig.nbdev_down", ">= 0.0"),
        (lambda: RealisedVolatility(1, periods_per_year=252), "RealisedVolatilityConfig.period", ">= 2"),
        (
            lambda: RealisedVolatility(20, periods_per_year=0),
            "RealisedVolatilityConfig.periods_per_year",
            "> 0.0",
        ),
        (
            lambda: RealisedVolatility(20, periods_per_year=252, ddof=2),
            "RealisedVolatilityConfig.ddof",
            "0, 1",
        ),
        (lambda: VWAP(session_length_ns=0), "VWAPConfig.session_length_ns", ">= 1"),
        (lambda: VWAP(session_offset_ns=DAY_NS), "VWAPConfig.session_offset_ns", "[0, session_length_ns"),
        (lambda: SMA(2.5), "SMAConfig.period", "integer >= 1"),  # type: ignore[arg-type]
        (lambda: SMA(True), "SMAConfig.period", "integer >= 1"),
    ],
)
def test_invalid_parameters_raise_config_error_naming_field_and_range(
    build: Callable[[], object], field: str, allowed: str
) -> None:
    with pytest.raises(ConfigError) as error:
        build()
    assert field in str(error.value)
    assert allowed in str(error.value)


def test_configs_are_frozen_and_refuse_unknown_keys() -> None:
    config = SMA(5).config
    with pytest.raises(AttributeError):
        config.period = 6  # type: ignore[misc]
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        msgspec.convert({"period": 5, "periodd": 6}, SMAConfig)
    assert msgspec.convert({"session_offset_ns": 3_600_000_000_000}, VWAPConfig).session_length_ns == DAY_NS


def test_from_config_builds_the_same_indicator() -> None:
    rsi = RSI(9)
    assert RSI.from_config(rsi.config).config == rsi.config


# Number of updates before `ready`: TA-Lib's lookback + 1 (realised volatility: period returns).
WARM_UP = [
    ("SMA", lambda: SMA(10), 10),
    ("EMA", lambda: EMA(10), 10),
    ("ATR", lambda: ATR(10), 11),
    ("TRANGE", TrueRange, 2),
    ("RSI", lambda: RSI(10), 11),
    ("ADX", lambda: ADX(10), 20),
    ("BBANDS", lambda: BollingerBands(10), 10),
    ("RV", lambda: RealisedVolatility(10, periods_per_year=252), 11),
]


def feed(indicator: object, i: int) -> None:
    price = 100.0 + math.sin(i) * 3.0
    if isinstance(indicator, ATR | ADX | TrueRange):
        indicator.update(price + 1.0, price - 1.0, price)
    else:
        indicator.update(price)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("name", "build", "updates"), WARM_UP, ids=[w[0] for w in WARM_UP])
def test_value_is_nan_until_ready_after_talib_lookback_plus_one(
    name: str, build: Callable[[], object], updates: int
) -> None:
    indicator = build()
    for i in range(updates - 1):
        feed(indicator, i)
        assert not indicator.ready  # type: ignore[attr-defined]
        assert math.isnan(indicator.value)  # type: ignore[attr-defined]
    feed(indicator, updates - 1)
    assert indicator.ready  # type: ignore[attr-defined]
    assert math.isfinite(indicator.value)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("name", "build", "updates"), WARM_UP, ids=[w[0] for w in WARM_UP])
def test_reset_forgets_everything_and_replays_identically(
    name: str, build: Callable[[], object], updates: int
) -> None:
    indicator = build()
    first = []
    for i in range(3 * updates):
        feed(indicator, i)
        first.append(indicator.value)  # type: ignore[attr-defined]
    indicator.reset()  # type: ignore[attr-defined]
    assert not indicator.ready  # type: ignore[attr-defined]
    assert math.isnan(indicator.value)  # type: ignore[attr-defined]
    second = []
    for i in range(3 * updates):
        feed(indicator, i)
        second.append(indicator.value)  # type: ignore[attr-defined]
    np.testing.assert_array_equal(first, second)


def test_adx_directional_indicators_are_ready_before_the_adx() -> None:
    adx = ADX(5)
    for i in range(6):
        feed(adx, i)
    assert adx.di_ready and not adx.ready
    assert 0.0 <= adx.plus_di <= 100.0 and 0.0 <= adx.minus_di <= 100.0


def test_rsi_without_any_gain_or_loss_is_neutral_50() -> None:
    # TA-Lib 0.8.1 answers 0 here ("extremely oversold"); upstream TA-Lib moved to 50 (#480), as we do.
    rsi = RSI(3)
    for _ in range(5):
        rsi.update(1.25)
    assert rsi.value == 50.0


def test_rsi_of_a_steady_rise_is_100_and_of_a_steady_fall_is_0() -> None:
    rising, falling = RSI(3), RSI(3)
    for i in range(10):
        rising.update(float(i))
        falling.update(float(-i))
    assert rising.value == 100.0
    assert falling.value == 0.0


def test_true_range_takes_the_gap_from_the_previous_close() -> None:
    assert true_range(high=10.0, low=9.0, prev_close=9.5) == 1.0
    assert true_range(high=10.0, low=9.0, prev_close=12.0) == 3.0  # gap down
    assert true_range(high=10.0, low=9.0, prev_close=7.0) == 3.0  # gap up


def test_vwap_resets_at_the_session_boundary_and_weights_by_volume() -> None:
    vwap = VWAP(session_offset_ns=23 * 3_600_000_000_000)
    start = 19_000 * DAY_NS + 23 * 3_600_000_000_000  # a session start
    vwap.update(start - 1, 100.0, 5.0)  # last trade of the previous session
    assert vwap.session_start_ns == start - DAY_NS
    vwap.update(start, 10.0, 1.0)
    vwap.update(start + 1, 20.0, 3.0)
    assert vwap.session_start_ns == start
    assert vwap.value == (10.0 * 1.0 + 20.0 * 3.0) / 4.0


def test_vwap_is_not_ready_while_the_session_has_no_volume() -> None:
    vwap = VWAP()
    vwap.update(0, 10.0, 0.0)
    assert not vwap.ready and math.isnan(vwap.value)
    vwap.update(1, 11.0, 2.0)
    assert vwap.ready and vwap.value == 11.0


def test_realised_volatility_is_annualised_with_the_given_factor() -> None:
    daily, yearly = RealisedVolatility(2, periods_per_year=1.0), RealisedVolatility(2, periods_per_year=252.0)
    for price in (100.0, 101.0, 100.0):
        daily.update(price)
        yearly.update(price)
    assert math.isclose(yearly.value, daily.value * math.sqrt(252.0), rel_tol=1e-15)
    returns = [math.log(101.0 / 100.0), math.log(100.0 / 101.0)]
    assert math.isclose(daily.value, float(np.std(returns, ddof=1)), rel_tol=1e-12)
