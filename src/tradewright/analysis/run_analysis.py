"""Everything a report or a sweep shows about one run, computed once from its validated outputs.

`analyse_run` takes a `RunOutputs` (from `load_run`, which has already refused a missing or garbled
folder) and computes the return metrics on an explicit sampling grid and calendar, the trade journal
and its statistics, and the market-making analytics with the PnL attribution. `headline_metrics`
flattens the numbers a sweep ranks by into one dict.

An analytic that cannot be computed from well-formed files (a journal whose fills do not start flat,
an equity curve that touches zero, fills on two instruments) is reported with its reason in
`RunAnalysis.problems` instead of failing the whole page: the page then says what is missing and why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Context, Decimal, InvalidOperation, localcontext
from typing import Any

import numpy as np
import numpy.typing as npt

from tradewright.analysis.journal import Journal, build_journal, stats_by_regime
from tradewright.analysis.market_making import MarketMakingReport, analyse_market_making
from tradewright.analysis.metrics import PerformanceSummary, TradeStats, summarise_returns
from tradewright.analysis.returns import (
    NS_PER_DAY,
    NS_PER_HOUR,
    NS_PER_MINUTE,
    NS_PER_SECOND,
    Calendar,
    Sampling,
    equity_returns,
)
from tradewright.analysis.run_outputs import RunOutputs
from tradewright.core.errors import DataError
from tradewright.model.instrument import Instrument, InstrumentKind

__all__ = [
    "CALENDARS",
    "DEFAULT_MIN_ANNUALISED_SPAN_NS",
    "METRIC_NAMES",
    "RunAnalysis",
    "analyse_run",
    "auto_sampling",
    "calendar_for_instrument",
    "calendar_named",
    "contract_terms",
    "headline_metrics",
    "parse_duration_ns",
    "sampling_label",
]

CALENDARS: dict[str, Calendar] = {
    "crypto": Calendar.crypto(),
    "us_equities": Calendar.us_equities(),
    "cme": Calendar.sessions("cme", trading_days_per_year=252, session_ns=23 * NS_PER_HOUR),
}

#: Runs shorter than this show per-period ratios, not annualised ones, as their headline figures
#: (`[run] min_annualised_span` in the config, `report --min-annualised-span` to change it).
DEFAULT_MIN_ANNUALISED_SPAN_NS = 30 * NS_PER_DAY

# Venue codes (the part of an instrument id after the dot) of session markets whose calendar is known.
_CME_VENUES = frozenset({"XCME", "CME", "GLBX", "XCBT", "CBOT", "XNYM", "NYMEX", "XCEC", "COMEX"})
_US_EQUITY_VENUES = frozenset({"XNYS", "NYSE", "XNAS", "NASDAQ", "ARCA", "XASE", "BATS", "IEX"})

# Standard periods tried by `auto_sampling`, longest first.
_AUTO_PERIODS = (NS_PER_DAY, NS_PER_HOUR, NS_PER_MINUTE, NS_PER_SECOND)
#: A period is long enough for `auto_sampling` when the run holds at least this many of them.
AUTO_MIN_SAMPLES = 250

#: The numbers `headline_metrics` returns; a sweep ranks by any of them (see docs/research.md).
METRIC_NAMES = (
    "net_pnl",
    "total_return",
    "annual_return",
    "annual_volatility",
    "sharpe",
    "sortino",
    "calmar",
    "max_drawdown",
    "fills",
    "round_trips",
    "win_rate",
    "profit_factor",
    "expectancy",
    "fill_ratio",
    "maker_share",
    "spread_captured",
    "spread_captured_bps",
    "adverse_selection_1s_bps",
    "fees",
    "max_abs_inventory",
)

_UNITS = {
    "ms": 1_000_000,
    "s": NS_PER_SECOND,
    "m": NS_PER_MINUTE,
    "h": NS_PER_HOUR,
    "d": NS_PER_DAY,
    "w": 7 * NS_PER_DAY,
}


def parse_duration_ns(text: str) -> int:
    """Parse a duration such as ``90s``, ``5m``, ``1h30m``, ``2d``, ``4w`` or ``500ms`` into nanoseconds (> 0)."""
    import re

    parts = re.findall(r"(\d+)(ms|s|m|h|d|w)", text.strip())
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        raise ValueError(f"cannot read duration {text!r}: use e.g. 500ms, 90s, 5m, 1h30m, 2d or 4w")
    total = sum(int(n) * _UNITS[u] for n, u in parts)
    if total <= 0:
        raise ValueError(f"a duration must be > 0, got {text!r}")
    return total


def calendar_named(name: str) -> Calendar:
    """Return one of `CALENDARS` by name; the error lists the names."""
    try:
        return CALENDARS[name]
    except KeyError:
        raise ValueError(f"unknown calendar {name!r}; choose one of {', '.join(CALENDARS)}") from None


def calendar_for_instrument(instrument_id: str) -> str:
    """The calendar an instrument trades on, by its venue: ``cme`` for CME Group futures (23 h × 252
    days), ``us_equities`` for US stock exchanges, else ``crypto`` (24 h × 365 days)."""
    venue = instrument_id.rpartition(".")[2].upper()
    if venue in _CME_VENUES:
        return "cme"
    if venue in _US_EQUITY_VENUES:
        return "us_equities"
    return "crypto"


def _run_calendar(run: RunOutputs) -> tuple[Calendar, str]:
    """The run's calendar and where it came from: summary.json's `calendar`, else the instrument's venue."""
    name = run.summary.get("calendar")
    if isinstance(name, str) and name in CALENDARS:
        return CALENDARS[name], "the instrument"
    instrument = run.summary.get("instrument")
    if isinstance(instrument, str) and instrument:
        return CALENDARS[calendar_for_instrument(instrument)], f"the instrument's venue ({instrument})"
    return CALENDARS["crypto"], "the default (no instrument named)"


def _min_annualised_span(run: RunOutputs) -> int:
    section = run.config.get("run")
    text = section.get("min_annualised_span") if isinstance(section, dict) else None
    if isinstance(text, str):
        try:
            return parse_duration_ns(text)
        except ValueError:
            pass
    return DEFAULT_MIN_ANNUALISED_SPAN_NS


def auto_sampling(span_ns: int) -> Sampling:
    """Pick the longest of 1 day, 1 hour, 1 minute and 1 second that gives the run `AUTO_MIN_SAMPLES`
    returns (1 second when even that does not): a six-minute run gets 1 s returns, a month 1 h, a
    few years 1 day. The choice is printed next to every annualised number."""
    for period in _AUTO_PERIODS:
        if span_ns // period >= AUTO_MIN_SAMPLES:
            return Sampling(period)
    return Sampling(NS_PER_SECOND)


def sampling_label(sampling: Sampling) -> str:
    """Return a period as text: ``1 s``, ``1 min``, ``4 h``, ``1 day``."""
    ns = sampling.period_ns
    for unit, size in (("day", NS_PER_DAY), ("h", NS_PER_HOUR), ("min", NS_PER_MINUTE), ("s", NS_PER_SECOND)):
        if ns % size == 0:
            count = ns // size
            return f"{count} {unit}" + ("s" if unit == "day" and count != 1 else "")
    return f"{ns} ns"


@dataclass(frozen=True, slots=True)
class RunAnalysis:
    """One run's analytics. A `None` field could not be computed; `problems` says why."""

    run: RunOutputs
    sampling: Sampling
    calendar: Calendar
    settle_currency: str
    span_ns: int
    starting_equity: Decimal
    final_equity: Decimal
    returns: npt.NDArray[np.float64]
    performance: PerformanceSummary | None
    journal: Journal | None
    trades: TradeStats | None
    regimes: dict[str | None, TradeStats]
    market_making: MarketMakingReport | None
    inventory_limit: Decimal | None
    multiplier: Decimal = Decimal(1)
    inverse: bool = False
    problems: dict[str, str] = field(default_factory=dict)
    calendar_source: str = "the caller"
    min_annualised_span_ns: int = DEFAULT_MIN_ANNUALISED_SPAN_NS

    @property
    def net_pnl(self) -> Decimal:
        return self.final_equity - self.starting_equity

    @property
    def annualised(self) -> bool:
        """True when the run is long enough for annualised ratios to be its headline figures."""
        return self.span_ns >= self.min_annualised_span_ns

    @property
    def quotes(self) -> bool:
        """True for a market-making run: it rested limit orders at the venue, and most of what filled
        filled passively (as a maker). A taker strategy's stop and target orders do not make it one."""
        mm = self.market_making
        if mm is None or mm.fill_ratio is None or mm.fill_ratio.quotes == 0:
            return False
        return not self.run.fills or mm.maker_share.qty_share >= 0.5

    @property
    def sharpe_per_period(self) -> float | None:
        """The Sharpe ratio of one return period (the annualised one ÷ √periods a year)."""
        perf = self.performance
        if perf is None or perf.periods_per_year <= 0:
            return None
        return float(perf.sharpe_ratio / math.sqrt(perf.periods_per_year))

    @property
    def periods_per_year(self) -> float:
        return self.calendar.periods_per_year(self.sampling)


def analyse_run(
    run: RunOutputs,
    *,
    calendar: Calendar | None = None,
    sampling: Sampling | None = None,
    inventory_limit: Decimal | None = None,
    min_annualised_span_ns: int | None = None,
) -> RunAnalysis:
    """Compute every analytic of a loaded run.

    `calendar` defaults to the instrument's (`calendar_for_instrument`: CME sessions for CME futures,
    365 × 24 h for crypto); `sampling` to `auto_sampling` of the run's span;
    `min_annualised_span_ns` to the config's `[run] min_annualised_span`, else 30 days;
    `inventory_limit` (for time at limit) to `risk.max_position_base`, else `strategy.params.max_position`
    of the run's config, when either is set.
    """
    equity = run.equity
    if len(equity) == 0:
        raise DataError("equity.csv has no rows: nothing to analyse", source=equity.source)
    source = "the caller"
    if calendar is None:
        calendar, source = _run_calendar(run)
    min_span = _min_annualised_span(run) if min_annualised_span_ns is None else min_annualised_span_ns
    span_ns = int(equity.ts_ns[-1] - equity.ts_ns[0])
    sampling = auto_sampling(span_ns) if sampling is None else sampling
    limit = _inventory_limit(run.config) if inventory_limit is None else inventory_limit
    problems: dict[str, str] = {}

    returns = np.empty(0, dtype=np.float64)
    performance: PerformanceSummary | None = None
    try:
        returns = equity_returns(equity.ts_ns, equity.equity, sampling)
        performance = summarise_returns(returns, calendar=calendar, sampling=sampling)
    except (DataError, ValueError) as exc:
        problems["performance"] = str(exc)

    terms, terms_problem = contract_terms(run)
    if terms_problem is not None:
        problems["contract"] = terms_problem
    journal: Journal | None = None
    trades: TradeStats | None = None
    regimes: dict[str | None, TradeStats] = {}
    try:
        journal = build_journal(run.fills, instruments=None if terms is None else {terms.id: terms})
        trades = journal.stats()
        regimes = stats_by_regime(journal)
    except (DataError, ValueError) as exc:
        problems["journal"] = str(exc)

    mm: MarketMakingReport | None = None
    try:
        mm = analyse_market_making(run.fills, equity, run.orders, instrument=terms, inventory_limit=limit)
    except (DataError, ValueError) as exc:
        problems["market_making"] = str(exc)

    return RunAnalysis(
        run=run,
        sampling=sampling,
        calendar=calendar,
        settle_currency=_settle_currency(run),
        span_ns=span_ns,
        starting_equity=equity.equity[0],
        final_equity=equity.equity[-1],
        returns=returns,
        performance=performance,
        journal=journal,
        trades=trades,
        regimes=regimes,
        market_making=mm,
        inventory_limit=limit,
        multiplier=Decimal(1) if terms is None else terms.multiplier,
        inverse=False if terms is None else terms.inverse,
        problems=problems,
        calendar_source=source,
        min_annualised_span_ns=min_span,
    )


def contract_terms(run: RunOutputs) -> tuple[Instrument | None, str | None]:
    """Read the traded contract's multiplier off equity.csv; return (terms, problem).

    Every equity row satisfies equity = cash + position × mid × m for a linear contract, or
    equity = cash − position × m / mid for an inverse one (docs/architecture.md), so the rows that hold
    a position give m. The result carries only the id and these terms (the journal and the
    market-making analytics read nothing else); it is None for a multiplier of 1 (the analytics'
    default). When the rows fit neither form, the problem says so and a multiplier of 1 is assumed.
    """
    if not run.fills:
        return None, None
    eq = run.equity
    linear: list[Decimal] = []
    inverse: list[Decimal] = []
    with localcontext(Context(prec=60)):
        for position, mid, equity, cash in zip(eq.position, eq.mid, eq.equity, eq.cash, strict=True):
            if position == 0 or mid is None or mid == 0:
                continue
            value = equity - cash
            linear.append(value / (position * mid))
            inverse.append(-value * mid / position)
    if not linear:
        return None, None
    for values, is_inverse in ((linear, False), (inverse, True)):
        first = values[0]
        # Inverse values are quotients the recorder rounded to 28 digits: agree to 1e-20, not exactly.
        tolerance = abs(first) * Decimal("1e-20") if is_inverse else Decimal(0)
        if first > 0 and all(abs(v - first) <= tolerance for v in values):
            multiplier = first.quantize(Decimal("1e-12")).normalize() if is_inverse else first.normalize()
            if multiplier == 1 and not is_inverse:
                return None, None
            terms = Instrument(
                id=run.fills[0].instrument_id,
                kind=InstrumentKind.FUTURE,
                base="",
                quote="",
                settle=_settle_currency(run),
                tick_size=Decimal(1),  # unknown and unused: only the contract terms matter here
                lot_size=Decimal(1),
                multiplier=multiplier,
                inverse=is_inverse,
            )
            return terms, None
    return None, (
        "equity.csv does not fit equity = cash + position × mid × m for one multiplier m; "
        "PnL per round trip and the attribution assume m = 1"
    )


def headline_metrics(analysis: RunAnalysis) -> dict[str, float | int | None]:
    """Return the `METRIC_NAMES` numbers as plain floats/ints (None: not computable for this run).

    Money (net PnL, fees, spread captured) is converted to float here: these numbers rank runs; the
    exact amounts stay in each run's own files.
    """
    perf = analysis.performance
    trades = analysis.trades
    mm = analysis.market_making

    def f(value: float | Decimal | None) -> float | None:
        if value is None:
            return None
        number = float(value)
        return None if math.isnan(number) else number

    one_second = None
    if mm is not None:
        for adverse in mm.adverse_selection:
            if adverse.horizon_ns == NS_PER_SECOND:
                one_second = f(adverse.mean_bps)
    out: dict[str, float | int | None] = {
        "net_pnl": f(analysis.net_pnl),
        "total_return": None if perf is None else f(perf.total_return),
        "annual_return": None if perf is None else f(perf.annual_return),
        "annual_volatility": None if perf is None else f(perf.annual_volatility),
        "sharpe": None if perf is None else f(perf.sharpe_ratio),
        "sortino": None if perf is None else f(perf.sortino_ratio),
        "calmar": None if perf is None else f(perf.calmar_ratio),
        "max_drawdown": None if perf is None else f(perf.max_drawdown),
        "fills": len(analysis.run.fills),
        "round_trips": None if trades is None else trades.trades,
        "win_rate": None if trades is None else f(trades.win_rate),
        "profit_factor": None if trades is None else f(trades.profit_factor),
        "expectancy": None if trades is None else f(trades.expectancy),
        "fill_ratio": None if mm is None or mm.fill_ratio is None else f(mm.fill_ratio.qty_ratio),
        "maker_share": None if mm is None else f(mm.maker_share.qty_share),
        "spread_captured": None if mm is None else f(mm.spread_captured),
        "spread_captured_bps": None if mm is None else f(mm.spread_captured_bps),
        "adverse_selection_1s_bps": one_second,
        "fees": None if mm is None else f(mm.fees.total),
        "max_abs_inventory": None if mm is None else f(mm.inventory.max_abs_position),
    }
    assert tuple(out) == METRIC_NAMES
    return out


def _settle_currency(run: RunOutputs) -> str:
    value = run.summary.get("settle_currency")
    if isinstance(value, str) and value:
        return value
    for fill in run.fills:
        if fill.fee != 0:
            return fill.fee_currency
    return ""


def _inventory_limit(config: dict[str, Any]) -> Decimal | None:
    risk = config.get("risk")
    candidates = [
        risk.get("max_position_base") if isinstance(risk, dict) else None,
        (config.get("strategy") or {}).get("params", {}).get("max_position"),
    ]
    for value in candidates:
        if value is None or isinstance(value, bool):
            continue
        try:
            limit = Decimal(str(value))
        except InvalidOperation:
            continue
        if limit.is_finite() and limit > 0:
            return limit
    return None
