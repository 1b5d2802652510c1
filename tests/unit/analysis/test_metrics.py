"""Return metrics: annualisation, edge cases, drawdown episodes, trade statistics."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from tradewright.analysis.metrics import (
    annual_return,
    annual_volatility,
    calmar_ratio,
    downside_risk,
    drawdown_stats,
    max_drawdown,
    sharpe_ratio,
    sortino_ratio,
    summarise_returns,
    total_return,
    trade_stats,
)
from tradewright.analysis.returns import (
    NS_PER_DAY,
    NS_PER_HOUR,
    NS_PER_MINUTE,
    Calendar,
    Sampling,
    per_period_rate,
)
from tradewright.core.errors import DataError

D = Decimal


# --- annualisation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "sampling", "expected"),
    [
        (Calendar.crypto(), Sampling.per_minute(), 365 * 24 * 60),
        (Calendar.crypto(), Sampling.per_hour(), 365 * 24),
        (Calendar.crypto(), Sampling.per_day(), 365),
        (Calendar.crypto(), Sampling.every(7 * NS_PER_DAY), 365 / 7),
        (Calendar.us_equities(), Sampling.per_day(), 252),
        (Calendar.us_equities(), Sampling.per_hour(), 252 * 6.5),
        (Calendar.us_equities(), Sampling.per_minute(), 252 * 390),
        (Calendar.us_equities(), Sampling.every(5 * NS_PER_DAY), 252 / 5),
        (
            Calendar.sessions("cme", trading_days_per_year=252, session_ns=23 * NS_PER_HOUR),
            Sampling.per_hour(),
            252 * 23,
        ),
    ],
)
def test_periods_per_year_combine_calendar_and_sampling(
    calendar: Calendar, sampling: Sampling, expected: float
) -> None:
    assert calendar.periods_per_year(sampling) == pytest.approx(expected, rel=1e-15)


def test_sampling_longer_than_a_day_must_be_whole_trading_days() -> None:
    with pytest.raises(ValueError, match="whole number of"):
        Sampling.every(36 * NS_PER_HOUR)


def test_sampling_longer_than_a_session_but_shorter_than_a_day_is_refused() -> None:
    with pytest.raises(ValueError, match="longer than one"):
        Calendar.us_equities().periods_per_year(Sampling.every(7 * NS_PER_HOUR))


def test_sampling_period_must_be_positive() -> None:
    with pytest.raises(ValueError, match="> 0"):
        Sampling.every(0)


def test_calendar_session_cannot_exceed_a_day() -> None:
    with pytest.raises(ValueError, match="session_ns"):
        Calendar.sessions("bad", trading_days_per_year=252, session_ns=NS_PER_DAY + NS_PER_MINUTE)


def test_per_period_rate_compounds_back_to_the_annual_rate() -> None:
    rate = per_period_rate(0.05, 252)

    assert (1 + rate) ** 252 == pytest.approx(1.05, rel=1e-12)


def test_metrics_refuse_a_missing_annualisation() -> None:
    with pytest.raises(ValueError, match="periods_per_year"):
        sharpe_ratio([0.01, 0.02], periods_per_year=0)
    with pytest.raises(TypeError):
        sharpe_ratio([0.01, 0.02])  # type: ignore[call-arg]


# --- formulas on small hand-checked series ---------------------------------------------------------


def test_total_and_annual_return_compound() -> None:
    returns = [0.1, -0.1, 0.1, -0.1]  # wealth 1.1 × 0.9 × 1.1 × 0.9 = 0.9801

    assert total_return(returns) == pytest.approx(0.9801 - 1, rel=1e-14)
    # Four samples at 2 per year are two years: CAGR = 0.9801 ** (1/2) - 1 = -0.01.
    assert annual_return(returns, periods_per_year=2) == pytest.approx(-0.01, rel=1e-12)


def test_volatility_sharpe_and_sortino_of_a_small_series() -> None:
    returns = [0.02, -0.01, 0.03, -0.02]  # mean 0.005, sample std √(0.00130/3)

    std = math.sqrt(((0.015**2) + (0.015**2) + (0.025**2) + (0.025**2)) / 3)
    assert annual_volatility(returns, periods_per_year=4) == pytest.approx(std * 2, rel=1e-12)
    assert sharpe_ratio(returns, periods_per_year=4) == pytest.approx(0.005 / std * 2, rel=1e-12)
    downside = math.sqrt((0.01**2 + 0.02**2) / 4) * 2  # every sample counts in the mean
    assert downside_risk(returns, periods_per_year=4) == pytest.approx(downside, rel=1e-12)
    assert sortino_ratio(returns, periods_per_year=4) == pytest.approx(0.005 * 4 / downside, rel=1e-12)


def test_max_drawdown_and_calmar() -> None:
    returns = [0.5, -0.5, 0.2]  # wealth 1, 1.5, 0.75, 0.9 -> deepest 0.75 / 1.5 - 1

    assert max_drawdown(returns) == pytest.approx(-0.5)
    assert calmar_ratio(returns, periods_per_year=3) == pytest.approx((0.9 - 1) / 0.5)


# --- edge cases -----------------------------------------------------------------------------------


def test_empty_series_gives_nan_everywhere_and_no_drawdown() -> None:
    empty: list[float] = []

    assert math.isnan(total_return(empty))
    assert math.isnan(annual_return(empty, periods_per_year=252))
    assert math.isnan(annual_volatility(empty, periods_per_year=252))
    assert math.isnan(sharpe_ratio(empty, periods_per_year=252))
    assert math.isnan(sortino_ratio(empty, periods_per_year=252))
    assert math.isnan(downside_risk(empty, periods_per_year=252))
    assert math.isnan(max_drawdown(empty))
    assert math.isnan(calmar_ratio(empty, periods_per_year=252))
    assert drawdown_stats(empty, Sampling.per_day()) is None


def test_one_sample_has_no_dispersion_statistics() -> None:
    assert math.isnan(annual_volatility([0.01], periods_per_year=252))
    assert math.isnan(sharpe_ratio([0.01], periods_per_year=252))
    assert math.isnan(sortino_ratio([0.01], periods_per_year=252))


def test_zero_volatility_gives_an_infinite_sharpe_or_nan_when_flat() -> None:
    assert sharpe_ratio([0.001] * 10, periods_per_year=252) == math.inf
    assert sharpe_ratio([-0.001] * 10, periods_per_year=252) == -math.inf
    assert math.isnan(sharpe_ratio([0.0] * 10, periods_per_year=252))
    # The excess over the risk-free rate is what must vary.
    assert math.isnan(sharpe_ratio([0.001] * 10, periods_per_year=252, risk_free=0.001))
    assert annual_volatility([0.001] * 10, periods_per_year=252) == 0.0


def test_all_positive_returns_have_an_infinite_sortino_and_no_drawdown() -> None:
    returns = [0.01, 0.02, 0.005]

    assert sortino_ratio(returns, periods_per_year=252) == math.inf
    assert downside_risk(returns, periods_per_year=252) == 0.0
    assert max_drawdown(returns) == 0.0
    assert math.isnan(calmar_ratio(returns, periods_per_year=252))
    assert drawdown_stats(returns, Sampling.per_day()) is None


def test_all_positive_returns_below_the_required_return_have_a_finite_sortino() -> None:
    assert sortino_ratio([0.01, 0.02, 0.005], periods_per_year=252, required_return=0.015) < 0


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_returns_are_rejected_naming_the_index(bad: float) -> None:
    with pytest.raises(DataError, match=r"index 2"):
        sharpe_ratio([0.01, 0.02, bad, 0.01], periods_per_year=252)


def test_nan_is_rejected_by_every_metric() -> None:
    returns = [0.01, math.nan]
    for metric in (total_return, max_drawdown):
        with pytest.raises(DataError, match="non-finite"):
            metric(returns)
    with pytest.raises(DataError, match="non-finite"):
        summarise_returns(returns, calendar=Calendar.crypto(), sampling=Sampling.per_day())


def test_two_dimensional_input_is_rejected() -> None:
    with pytest.raises(DataError, match="one-dimensional"):
        total_return([[0.01, 0.02]])


# --- drawdown episodes ----------------------------------------------------------------------------


def test_drawdown_stats_time_the_deepest_episode_from_peak_to_recovery() -> None:
    # wealth: 1, 1.1, 0.99, 1.1(back at peak), 1.21, 0.605, 0.6655
    returns = [0.1, -0.1, 1.1 / 0.99 - 1, 0.1, -0.5, 0.1]

    stats = drawdown_stats(returns, Sampling.per_hour())

    assert stats is not None
    assert stats.max_drawdown == pytest.approx(-0.5)
    assert (stats.peak_index, stats.trough_index) == (4, 5)
    assert stats.recovery_index is None and not stats.recovered
    assert stats.duration_samples == 2  # still under water at the last sample
    assert stats.duration_ns == 2 * NS_PER_HOUR
    assert stats.longest_duration_samples == 2


def test_drawdown_stats_report_the_longest_episode_separately() -> None:
    # A shallow but long drawdown (peak 1 → recovers 4 samples later), then a deep short one.
    returns = [-0.01, -0.01, 0.01, 0.05, 0.1, -0.3, 0.5]

    stats = drawdown_stats(returns, Sampling.per_day())

    assert stats is not None
    assert stats.max_drawdown == pytest.approx(-0.3)
    assert (stats.peak_index, stats.trough_index, stats.recovery_index) == (5, 6, 7)
    assert stats.duration_samples == 2 and stats.recovered
    assert stats.longest_duration_samples == 4
    assert stats.longest_duration_ns == 4 * NS_PER_DAY


def test_drawdown_peak_is_the_last_time_at_the_high() -> None:
    returns = [0.1, 0.0, -0.2, 0.25]  # wealth 1, 1.1, 1.1, 0.88, 1.1: the fall starts at index 2

    stats = drawdown_stats(returns, Sampling.per_day())

    assert stats is not None
    assert (stats.peak_index, stats.trough_index, stats.recovery_index) == (2, 3, 4)


def test_summary_carries_its_annualisation() -> None:
    summary = summarise_returns(
        [0.01, -0.02, 0.015], calendar=Calendar.us_equities(), sampling=Sampling.per_hour(), risk_free=0.0001
    )

    assert summary.periods_per_year == pytest.approx(1638)
    assert summary.calendar == "us_equities" and summary.sampling_period_ns == NS_PER_HOUR
    assert summary.sharpe_ratio == sharpe_ratio([0.01, -0.02, 0.015], periods_per_year=1638, risk_free=0.0001)
    assert summary.samples == 3


# --- trade statistics -----------------------------------------------------------------------------


def test_trade_stats_of_wins_losses_and_a_scratch() -> None:
    pnls = [D("30"), D("-10"), D("0"), D("20"), D("-15")]
    rs = [D("1.5"), D("-0.5"), None, D("1"), D("-0.75")]

    stats = trade_stats(pnls, rs)

    assert (stats.trades, stats.wins, stats.losses) == (5, 2, 2)
    assert stats.win_rate == 0.4
    assert stats.gross_profit == D("50") and stats.gross_loss == D("-25")
    assert stats.profit_factor == 2.0
    assert stats.net_pnl == D("25") and stats.expectancy == D("5")
    assert stats.average_win == D("25") and stats.average_loss == D("-12.5")
    assert stats.r_trades == 4 and stats.average_r == D("0.3125")


def test_trade_stats_without_losses_or_trades() -> None:
    assert trade_stats([D("1"), D("2")]).profit_factor == math.inf
    empty = trade_stats([])
    assert empty.trades == 0 and math.isnan(empty.win_rate) and math.isnan(empty.profit_factor)
    assert empty.expectancy is None and empty.average_r is None


def test_trade_stats_sum_money_without_rounding() -> None:
    # 40 significant digits: the default decimal context (28) would round this sum.
    big, tiny = D("1000000000000000"), D("0.000000000000000000000001")

    stats = trade_stats([big, tiny])

    assert stats.net_pnl == D("1000000000000000.000000000000000000000001")


def test_trade_stats_need_one_r_per_trade() -> None:
    with pytest.raises(ValueError, match="R multiples"):
        trade_stats([D("1")], [D("1"), D("2")])
