"""Our return metrics agree with empyrical's on real price series (daily equities, intraday crypto/futures).

Both sides see the identical return array, so the comparison checks the formulas and the annualisation
(`Calendar.periods_per_year(sampling)` against empyrical's `annualization=`), to 1e-9 relative.
"""

from __future__ import annotations

import csv
import gzip
import math
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache

import empyrical
import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from tests.conftest import shared_data
from tradewright.analysis import metrics
from tradewright.analysis.returns import (
    NS_PER_HOUR,
    Calendar,
    Sampling,
    per_period_rate,
    resample_last,
    simple_returns,
)

REL_TOL = 1e-9
FloatArray = npt.NDArray[np.float64]

YAHOO_DAILY = {
    "nvda": "bars/backtrader/nvda-1999-2014.txt",
    "orcl": "bars/backtrader/orcl-1995-2014.txt",
    "yhoo": "bars/backtrader/yhoo-1996-2015.txt",
}
BTC_PERP_1M = "bars/nautilus/btc-perp-20211231-20220201_1m.csv.gz"
CME_6E_1M = "bars/nautilus/6EH4.XCME_1min_bars_20240101_20240131.csv.gz"


@cache
def yahoo_adjusted_closes(relative: str) -> FloatArray:
    """Adjusted closes (splits and dividends), one per trading day, of a Yahoo daily CSV."""
    with shared_data(relative).open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"]
    return np.array([float(r["Adj Close"]) for r in rows])


@cache
def minute_closes(relative: str, ts_column: str) -> tuple[npt.NDArray[np.int64], FloatArray]:
    """(UTC ns timestamps, closes) of a gzipped 1-minute bar CSV."""
    with gzip.open(shared_data(relative), "rt", newline="") as f:
        rows = list(csv.DictReader(f))
    ts = [
        int(datetime.fromisoformat(r[ts_column]).replace(tzinfo=UTC).timestamp()) * 1_000_000_000
        for r in rows
    ]
    return np.array(ts, dtype=np.int64), np.array([float(r["close"]) for r in rows])


def daily_equity_returns(name: str) -> FloatArray:
    return simple_returns(yahoo_adjusted_closes(YAHOO_DAILY[name]))


def btc_minute_returns() -> FloatArray:
    _, closes = minute_closes(BTC_PERP_1M, "timestamp")
    return simple_returns(closes)


def btc_daily_returns() -> FloatArray:
    ts, closes = minute_closes(BTC_PERP_1M, "timestamp")
    _, daily = resample_last(ts, closes, Sampling.per_day())
    return simple_returns(daily)


def cme_minute_returns() -> FloatArray:
    # Bars exist only in the session, so consecutive closes are one session-minute apart.
    _, closes = minute_closes(CME_6E_1M, "timestamp_utc")
    return simple_returns(closes)


CME_GLOBEX = Calendar.sessions("cme_globex", trading_days_per_year=252, session_ns=23 * NS_PER_HOUR)

# name -> (returns, calendar, sampling, the periods per year empyrical is told)
SERIES: dict[str, tuple[Callable[[], FloatArray], Calendar, Sampling, float]] = {
    "nvda daily": (lambda: daily_equity_returns("nvda"), Calendar.us_equities(), Sampling.per_day(), 252),
    "orcl daily": (lambda: daily_equity_returns("orcl"), Calendar.us_equities(), Sampling.per_day(), 252),
    "yhoo daily": (lambda: daily_equity_returns("yhoo"), Calendar.us_equities(), Sampling.per_day(), 252),
    "btc-perp 1m": (btc_minute_returns, Calendar.crypto(), Sampling.per_minute(), 365 * 24 * 60),
    "btc-perp 1m→1d": (btc_daily_returns, Calendar.crypto(), Sampling.per_day(), 365),
    "6E future 1m": (cme_minute_returns, CME_GLOBEX, Sampling.per_minute(), 252 * 23 * 60),
}


def ours_and_theirs(returns: FloatArray, ppy: float) -> dict[str, tuple[float, float]]:
    rf = per_period_rate(0.03, ppy)  # a 3 % annual risk-free rate
    req = per_period_rate(0.10, ppy)  # a 10 % annual required return
    return {
        "sharpe": (
            metrics.sharpe_ratio(returns, periods_per_year=ppy),
            empyrical.sharpe_ratio(returns, annualization=ppy),
        ),
        "sharpe rf=3%/y": (
            metrics.sharpe_ratio(returns, periods_per_year=ppy, risk_free=rf),
            empyrical.sharpe_ratio(returns, risk_free=rf, annualization=ppy),
        ),
        "sortino": (
            metrics.sortino_ratio(returns, periods_per_year=ppy),
            empyrical.sortino_ratio(returns, annualization=ppy),
        ),
        "sortino req=10%/y": (
            metrics.sortino_ratio(returns, periods_per_year=ppy, required_return=req),
            empyrical.sortino_ratio(returns, required_return=req, annualization=ppy),
        ),
        "downside risk": (
            metrics.downside_risk(returns, periods_per_year=ppy),
            empyrical.downside_risk(returns, annualization=ppy),
        ),
        "max drawdown": (metrics.max_drawdown(returns), empyrical.max_drawdown(returns)),
        "calmar": (
            metrics.calmar_ratio(returns, periods_per_year=ppy),
            empyrical.calmar_ratio(returns, annualization=ppy),
        ),
        "annual return": (
            metrics.annual_return(returns, periods_per_year=ppy),
            empyrical.annual_return(returns, annualization=ppy),
        ),
        "annual volatility": (
            metrics.annual_volatility(returns, periods_per_year=ppy),
            empyrical.annual_volatility(returns, annualization=ppy),
        ),
        "total return": (metrics.total_return(returns), empyrical.cum_returns_final(returns)),
    }


def relative_error(ours: float, theirs: float) -> float:
    if math.isnan(ours) and math.isnan(theirs):
        return 0.0
    if ours == theirs:
        return 0.0
    return abs(ours - theirs) / abs(theirs)


@pytest.mark.parametrize("name", list(SERIES))
def test_metrics_agree_with_empyrical_on_real_series(name: str) -> None:
    make_returns, calendar, sampling, empyrical_ppy = SERIES[name]
    returns = make_returns()
    ppy = calendar.periods_per_year(sampling)
    assert ppy == empyrical_ppy
    assert returns.size > 20  # a real series, not a stub

    results = ours_and_theirs(returns, ppy)

    errors = {metric: relative_error(ours, theirs) for metric, (ours, theirs) in results.items()}
    assert all(math.isfinite(theirs) for _, theirs in results.values()), results
    assert max(errors.values()) <= REL_TOL, {m: e for m, e in errors.items() if e > REL_TOL}


@pytest.mark.parametrize("name", list(YAHOO_DAILY))
def test_simple_returns_agree_with_empyrical(name: str) -> None:
    closes = yahoo_adjusted_closes(YAHOO_DAILY[name])

    ours = simple_returns(closes)

    np.testing.assert_allclose(ours, empyrical.simple_returns(closes), rtol=REL_TOL, atol=0)


def test_summary_uses_the_calendar_and_sampling_it_is_given() -> None:
    returns = btc_minute_returns()

    summary = metrics.summarise_returns(returns, calendar=Calendar.crypto(), sampling=Sampling.per_minute())

    assert summary.periods_per_year == 525_600
    assert (
        relative_error(summary.sharpe_ratio, empyrical.sharpe_ratio(returns, annualization=525_600))
        <= REL_TOL
    )
    assert (
        relative_error(summary.annual_volatility, empyrical.annual_volatility(returns, annualization=525_600))
        <= REL_TOL
    )


def test_daily_resampling_of_minute_bars_matches_pandas_last_value_carried_forward() -> None:
    ts, closes = minute_closes(BTC_PERP_1M, "timestamp")
    series = pd.Series(closes, index=pd.to_datetime(ts, utc=True))

    grid, daily = resample_last(ts, closes, Sampling.per_day())

    expected = series.reindex(pd.to_datetime(grid, utc=True), method="ffill")
    np.testing.assert_array_equal(daily, expected.to_numpy())
    # 2021-12-31 23:01 + 0..31 days; the 6.5 h after 2022-01-31 23:01 are an unfinished tail, left out.
    assert grid.size == 32
