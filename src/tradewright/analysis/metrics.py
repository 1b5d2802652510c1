"""Performance metrics of a return series, and statistics of closed trades.

Return metrics take simple per-period returns (floats: they are ratios, off the money path) and, where
they annualise, a required `periods_per_year` (from `Calendar.periods_per_year(sampling)`): nothing here
assumes daily data. The formulas are empyrical's (tested against it to 1e-9 relative):

=====================  ====================================================================  ==========
metric                 formula (r: per-period returns, n samples, P periods per year)        too short
=====================  ====================================================================  ==========
total_return           Π(1 + r) − 1                                                          n < 1: NaN
annual_return          (Π(1 + r))^(P / n) − 1          (compound annual growth rate)         n < 1: NaN
annual_volatility      std(r, ddof=1) × √P                                                   n < 2: NaN
sharpe_ratio           mean(r − rf) / std(r − rf, ddof=1) × √P                               n < 2: NaN
downside_risk          √(mean(min(r − req, 0)²)) × √P                                        n < 1: NaN
sortino_ratio          mean(r − req) × P / downside_risk                                     n < 2: NaN
max_drawdown           min over t of W_t / max_{s≤t} W_s − 1,  W_0 = 1, W_t = Π_{i≤t}(1 + r_i)  n < 1: NaN
calmar_ratio           annual_return / |max_drawdown|   (NaN when there is no drawdown)
=====================  ====================================================================  ==========

`rf` (risk-free) and `req` (required return) are per-period constants, as in empyrical; convert an
annual rate with `per_period_rate`. A zero denominator is not an error: constant returns have a volatility of exactly 0,
a constant positive excess return an infinite Sharpe ratio (NaN when the excess is zero), and a series
with no return below `req` an infinite Sortino ratio. NaN or infinite inputs raise `DataError` (see `as_return_array`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from decimal import Context, Decimal, DivisionByZero, Inexact, InvalidOperation, Overflow, localcontext

import msgspec
import numpy as np
import numpy.typing as npt

from tradewright.analysis.returns import Calendar, FloatArray, Sampling, as_return_array

__all__ = [
    "DrawdownStats",
    "PerformanceSummary",
    "TradeStats",
    "annual_return",
    "annual_volatility",
    "calmar_ratio",
    "downside_risk",
    "drawdown_stats",
    "exact_context",
    "exact_sum",
    "max_drawdown",
    "sharpe_ratio",
    "sortino_ratio",
    "summarise_returns",
    "total_return",
    "trade_stats",
]

Returns = Sequence[float] | npt.ArrayLike

_ZERO = Decimal(0)


def exact_context() -> Context:
    """Return a decimal context for money sums that raises instead of rounding.

    The default context keeps 28 significant digits and rounds silently past them; PnL sums of many
    fills with fee shares can need more. 100 digits is beyond any real amount, and `Inexact` is
    trapped so that an amount that still does not fit fails loudly.
    """
    return Context(prec=100, traps=[InvalidOperation, DivisionByZero, Overflow, Inexact])


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    """Add money exactly (see `exact_context`)."""
    with localcontext(exact_context()):
        return sum(values, _ZERO)


def total_return(returns: Returns) -> float:
    """Return the compounded return of the whole series, Π(1 + r) − 1."""
    r = as_return_array(returns)
    if r.size == 0:
        return math.nan
    return float(np.prod(r + 1.0) - 1.0)


def annual_return(returns: Returns, *, periods_per_year: float) -> float:
    """Return the compound annual growth rate; NaN when the series is empty or ends below zero wealth."""
    r = as_return_array(returns)
    _check_periods(periods_per_year)
    if r.size == 0:
        return math.nan
    ending = float(np.prod(r + 1.0))
    if ending < 0:
        return math.nan
    years = r.size / periods_per_year
    try:
        return float(ending ** (1.0 / years) - 1.0)
    except OverflowError:  # a gain compounded over a run of seconds: beyond any float, and meaningless
        return math.nan


def annual_volatility(returns: Returns, *, periods_per_year: float) -> float:
    """Return the sample standard deviation of returns scaled by √(periods per year)."""
    r = as_return_array(returns)
    _check_periods(periods_per_year)
    if r.size < 2:
        return math.nan
    return _std(r) * math.sqrt(periods_per_year)


def sharpe_ratio(returns: Returns, *, periods_per_year: float, risk_free: float = 0.0) -> float:
    """Return the annualised Sharpe ratio; `risk_free` is a per-period return."""
    r = as_return_array(returns)
    _check_periods(periods_per_year)
    if r.size < 2:
        return math.nan
    excess = r - risk_free
    return _ratio(float(np.mean(excess)), _std(excess)) * math.sqrt(periods_per_year)


def downside_risk(returns: Returns, *, periods_per_year: float, required_return: float = 0.0) -> float:
    """Return the annualised root-mean-square of returns below `required_return` (all samples count)."""
    r = as_return_array(returns)
    _check_periods(periods_per_year)
    if r.size == 0:
        return math.nan
    below = np.minimum(r - required_return, 0.0)
    return float(math.sqrt(float(np.mean(below * below))) * math.sqrt(periods_per_year))


def sortino_ratio(returns: Returns, *, periods_per_year: float, required_return: float = 0.0) -> float:
    """Return the annualised mean excess over `required_return` divided by the downside risk."""
    r = as_return_array(returns)
    _check_periods(periods_per_year)
    if r.size < 2:
        return math.nan
    mean_annual = float(np.mean(r - required_return)) * periods_per_year
    risk = downside_risk(r, periods_per_year=periods_per_year, required_return=required_return)
    return _ratio(mean_annual, risk)


def max_drawdown(returns: Returns) -> float:
    """Return the deepest fall of wealth below its running peak, as a fraction ≤ 0 (−0.25 = 25 % down)."""
    r = as_return_array(returns)
    if r.size == 0:
        return math.nan
    return float(_drawdowns(_wealth(r)).min())


def calmar_ratio(returns: Returns, *, periods_per_year: float) -> float:
    """Return annual return / |max drawdown|; NaN when there is no drawdown (or the series is empty)."""
    mdd = max_drawdown(returns)
    if not mdd < 0:
        return math.nan
    value = annual_return(returns, periods_per_year=periods_per_year) / abs(mdd)
    return math.nan if math.isinf(value) else value


class DrawdownStats(msgspec.Struct, frozen=True, kw_only=True):
    """The deepest drawdown and the longest one, in samples and in sampling time.

    Indices are wealth indices: 0 is the start (before the first return), i is after the i-th return.
    A duration runs from the peak to the recovery (the first sample back at or above the peak), or to
    the last sample when the series ends under water (`recovered` is then False). `*_ns` durations are
    samples × the sampling period, i.e. trading time (trading days count 24 h each for daily sampling).
    """

    max_drawdown: float
    peak_index: int
    trough_index: int
    recovery_index: int | None
    duration_samples: int
    duration_ns: int
    recovered: bool
    longest_duration_samples: int
    longest_duration_ns: int


def drawdown_stats(returns: Returns, sampling: Sampling) -> DrawdownStats | None:
    """Describe the deepest and the longest drawdowns; None when wealth never falls below a peak."""
    r = as_return_array(returns)
    wealth = _wealth(r)
    dd = _drawdowns(wealth)
    trough = int(np.argmin(dd))
    if not dd[trough] < 0:
        return None
    peak_value = float(np.maximum.accumulate(wealth)[trough])
    peak = int(np.flatnonzero(wealth[: trough + 1] == peak_value)[-1])
    back = np.flatnonzero(wealth[trough + 1 :] >= peak_value)
    recovery = trough + 1 + int(back[0]) if back.size else None
    last = wealth.size - 1
    duration = (recovery if recovery is not None else last) - peak
    # Under-water runs [start, stop): each began at the peak start - 1 and ended at stop (or at the end).
    under = np.concatenate(([False], dd < 0, [False]))
    edges = np.flatnonzero(np.diff(under.astype(np.int8)))
    starts, stops = edges[0::2], edges[1::2]
    lengths = np.minimum(stops, last) - (starts - 1)
    longest = int(lengths.max())
    return DrawdownStats(
        max_drawdown=float(dd[trough]),
        peak_index=peak,
        trough_index=trough,
        recovery_index=recovery,
        duration_samples=duration,
        duration_ns=duration * sampling.period_ns,
        recovered=recovery is not None,
        longest_duration_samples=longest,
        longest_duration_ns=longest * sampling.period_ns,
    )


class PerformanceSummary(msgspec.Struct, frozen=True, kw_only=True):
    """Every return metric of one series, with the annualisation that produced it."""

    samples: int
    periods_per_year: float
    calendar: str
    sampling_period_ns: int
    risk_free: float
    required_return: float
    total_return: float
    annual_return: float
    annual_volatility: float
    sharpe_ratio: float
    sortino_ratio: float
    max_drawdown: float
    calmar_ratio: float
    drawdown: DrawdownStats | None


def summarise_returns(
    returns: Returns,
    *,
    calendar: Calendar,
    sampling: Sampling,
    risk_free: float = 0.0,
    required_return: float = 0.0,
) -> PerformanceSummary:
    """Compute every return metric of `returns`, annualised with `calendar` and `sampling`."""
    r = as_return_array(returns)
    ppy = calendar.periods_per_year(sampling)
    return PerformanceSummary(
        samples=int(r.size),
        periods_per_year=ppy,
        calendar=calendar.name,
        sampling_period_ns=sampling.period_ns,
        risk_free=risk_free,
        required_return=required_return,
        total_return=total_return(r),
        annual_return=annual_return(r, periods_per_year=ppy),
        annual_volatility=annual_volatility(r, periods_per_year=ppy),
        sharpe_ratio=sharpe_ratio(r, periods_per_year=ppy, risk_free=risk_free),
        sortino_ratio=sortino_ratio(r, periods_per_year=ppy, required_return=required_return),
        max_drawdown=max_drawdown(r),
        calmar_ratio=calmar_ratio(r, periods_per_year=ppy),
        drawdown=drawdown_stats(r, sampling),
    )


class TradeStats(msgspec.Struct, frozen=True, kw_only=True):
    """Statistics of closed trades. Money is exact (Decimal, settlement currency); ratios are floats.

    A trade with PnL exactly zero is neither a win nor a loss (but counts in `trades`).
    `profit_factor` = gross profit / |gross loss| (inf with profits and no losses, NaN with neither).
    `expectancy` = mean net PnL per trade = win rate × average win + loss rate × average loss.
    `average_r` = mean R multiple over the trades that have one (`r_trades` of them).
    """

    trades: int
    wins: int
    losses: int
    win_rate: float
    gross_profit: Decimal
    gross_loss: Decimal
    net_pnl: Decimal
    profit_factor: float
    expectancy: Decimal | None
    average_win: Decimal | None
    average_loss: Decimal | None
    r_trades: int
    average_r: Decimal | None


def trade_stats(pnls: Sequence[Decimal], r_multiples: Sequence[Decimal | None] | None = None) -> TradeStats:
    """Summarise closed trades from their net PnL (and optional R multiples, one per trade or None)."""
    if r_multiples is not None and len(r_multiples) != len(pnls):
        raise ValueError(f"got {len(r_multiples)} R multiples for {len(pnls)} trades")
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p < 0]
    gross_profit = exact_sum(wins)
    gross_loss = exact_sum(losses)
    rs = [r for r in (r_multiples or ()) if r is not None]
    if losses:
        profit_factor = float(gross_profit / -gross_loss)
    else:
        profit_factor = math.inf if gross_profit > 0 else math.nan
    n = len(pnls)
    net = exact_sum((gross_profit, gross_loss))
    return TradeStats(
        trades=n,
        wins=len(wins),
        losses=len(losses),
        win_rate=len(wins) / n if n else math.nan,
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        net_pnl=net,
        profit_factor=profit_factor,
        expectancy=net / n if n else None,
        average_win=gross_profit / len(wins) if wins else None,
        average_loss=gross_loss / len(losses) if losses else None,
        r_trades=len(rs),
        average_r=exact_sum(rs) / len(rs) if rs else None,
    )


def _wealth(r: FloatArray) -> FloatArray:
    return np.concatenate(([1.0], np.cumprod(r + 1.0)))


def _drawdowns(wealth: FloatArray) -> FloatArray:
    peak = np.maximum.accumulate(wealth)
    return np.asarray((wealth - peak) / peak, dtype=np.float64)


def _std(r: FloatArray) -> float:
    # Equal values have a standard deviation of exactly zero; computing it can leave a 1e-18 residue
    # that would turn an infinite Sharpe ratio into an arbitrary huge number.
    return 0.0 if r.max() == r.min() else float(np.std(r, ddof=1))


def _ratio(numerator: float, denominator: float) -> float:
    if denominator == 0:
        if numerator == 0:
            return math.nan
        return math.copysign(math.inf, numerator)
    return numerator / denominator


def _check_periods(periods_per_year: float) -> None:
    if not (math.isfinite(periods_per_year) and periods_per_year > 0):
        raise ValueError(f"periods_per_year must be a positive number, got {periods_per_year}")
