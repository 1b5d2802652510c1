"""The HTML report of one run, and the page that compares two runs side by side.

A report is drawn from a `RunAnalysis` (itself from a validated run folder), so a page shows a whole
run or is not written at all. Sections: headline figures; tables of returns and risk (with the
annualisation spelled out), PnL, round trips, market making and the PnL attribution; zoomable charts
of price with our quotes and fills, equity, drawdown and inventory (their time axes move together);
the distribution of round-trip returns, the attribution as a waterfall, time spent at each inventory
level; and the config that produced the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from tradewright.analysis.charts import (
    BarChart,
    Chart,
    Markers,
    Series,
    TimeChart,
    WaterfallChart,
    histogram,
    seconds_since,
)
from tradewright.analysis.market_making import inventory_histogram
from tradewright.analysis.metrics import PerformanceSummary
from tradewright.analysis.report_html import (
    esc,
    fmt_count,
    fmt_duration_ns,
    fmt_float,
    fmt_money,
    fmt_money_rounded,
    fmt_pct,
    kpi,
    kv_table,
    page,
    table,
)
from tradewright.analysis.report_tables import buy_and_hold, per_day_table, trade_list
from tradewright.analysis.run_analysis import RunAnalysis, sampling_label
from tradewright.analysis.run_outputs import RunOutputs
from tradewright.core.clock import ns_to_iso
from tradewright.model.enums import OrderSide

__all__ = [
    "Row",
    "Section",
    "headline_sections",
    "render_empty_report",
    "render_run_report",
]

_BLUE, _ORANGE = "#3b5bdb", "#e8590c"


@dataclass(frozen=True, slots=True)
class Row:
    """One headline figure: its label, its text, and its value for differences (`kind` says how to show one)."""

    label: str
    text: str
    value: Decimal | float | int | None = None
    kind: str = "text"  # money, pct, ratio, count, text


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    rows: tuple[Row, ...]
    note: str = ""


def headline_sections(a: RunAnalysis) -> list[Section]:
    """The headline tables of one run, in the order the page shows them."""
    cur = a.settle_currency
    perf = a.performance
    sections = []
    annualisation = (
        f"{sampling_label(a.sampling)} returns on a regular grid (last equity value carried forward); "
        f"{a.calendar.name} calendar (from {a.calendar_source}): {a.calendar.trading_days_per_year} days × "
        f"{fmt_duration_ns(a.calendar.session_ns)} → {a.periods_per_year:,.0f} periods a year."
    )
    if perf is not None and a.annualised:
        rows = [
            Row("total return", fmt_pct(perf.total_return, 4), perf.total_return, "pct"),
            Row("annual return (CAGR)", fmt_pct(perf.annual_return), perf.annual_return, "pct"),
            Row("annual volatility", fmt_pct(perf.annual_volatility), perf.annual_volatility, "pct"),
            Row("Sharpe ratio", fmt_float(perf.sharpe_ratio), perf.sharpe_ratio, "ratio"),
            Row("Sortino ratio", fmt_float(perf.sortino_ratio), perf.sortino_ratio, "ratio"),
            Row("Calmar ratio", fmt_float(perf.calmar_ratio), perf.calmar_ratio, "ratio"),
            *_drawdown_rows(perf),
        ]
        sections.append(Section("Returns and risk", tuple(rows), annualisation))
    elif perf is not None:
        label = sampling_label(a.sampling)
        root = np.sqrt(perf.periods_per_year)
        mean = float(np.mean(a.returns)) if a.returns.size else float("nan")
        vol = float(np.std(a.returns, ddof=1)) if a.returns.size > 1 else float("nan")
        rows = [
            Row("total return", fmt_pct(perf.total_return, 4), perf.total_return, "pct"),
            Row(f"mean return per {label}", fmt_pct(mean, 6), mean, "pct"),
            Row(f"volatility per {label}", fmt_pct(vol, 6), vol, "pct"),
            Row(
                f"Sharpe ratio per {label}",
                fmt_float(perf.sharpe_ratio / root),
                perf.sharpe_ratio / root,
                "ratio",
            ),
            Row(
                f"Sortino ratio per {label}",
                fmt_float(perf.sortino_ratio / root),
                perf.sortino_ratio / root,
                "ratio",
            ),
            *_drawdown_rows(perf),
        ]
        why = (
            f"Per-period figures: the run covers {fmt_duration_ns(a.span_ns)}, less than the "
            f"{fmt_duration_ns(a.min_annualised_span_ns)} below which annualised ratios are not shown as "
            "results ([run] min_annualised_span). Extrapolated to a year they would read CAGR "
            f"{fmt_pct(perf.annual_return)}, Sharpe {fmt_float(perf.sharpe_ratio)}: numbers that say more "
            f"about the extrapolation than about the strategy. {annualisation}"
        )
        sections.append(Section("Returns and risk", tuple(rows), why))
    eq = a.run.equity
    sections.append(
        Section(
            f"PnL ({cur})" if cur else "PnL",
            (
                Row("starting equity", fmt_money(a.starting_equity), a.starting_equity, "money"),
                Row("final equity", fmt_money(a.final_equity), a.final_equity, "money"),
                Row("net PnL", fmt_money(a.net_pnl), a.net_pnl, "money"),
                Row(
                    "realised PnL (before fees)", fmt_money(eq.realized_pnl[-1]), eq.realized_pnl[-1], "money"
                ),
                Row(
                    "unrealised PnL at the end",
                    fmt_money(eq.unrealized_pnl[-1]),
                    eq.unrealized_pnl[-1],
                    "money",
                ),
                Row("fees paid", fmt_money(eq.fees[-1]), eq.fees[-1], "money"),
                Row("buy and hold, same equity", fmt_pct(_hold_return(a), 4), _hold_return(a), "pct"),
                Row("fills", fmt_count(len(a.run.fills)), len(a.run.fills), "count"),
                *(
                    [
                        Row(
                            "contract multiplier (from equity.csv)",
                            f"{a.multiplier:f}" + (" (inverse)" if a.inverse else ""),
                        )
                    ]
                    if a.multiplier != 1 or a.inverse
                    else []
                ),
                Row("orders", fmt_count(len(a.run.orders)), len(a.run.orders), "count"),
            ),
            "Net PnL = final − starting equity = realised + unrealised − fees; equity marks the position at the "
            "mid. Buy and hold: the starting equity held in the instrument from its first mid to its last.",
        )
    )
    t = a.trades
    if t is not None and a.journal is not None:
        holding = [trip.holding_ns for trip in a.journal.round_trips]
        rows = [
            Row("round trips", fmt_count(t.trades), t.trades, "count"),
            Row("win rate", fmt_pct(t.win_rate, 1), t.win_rate, "pct"),
            Row("profit factor", fmt_float(t.profit_factor), t.profit_factor, "ratio"),
            Row("expectancy per trip", fmt_money(_q(t.expectancy)), t.expectancy, "money"),
            Row("average win", fmt_money(_q(t.average_win)), t.average_win, "money"),
            Row("average loss", fmt_money(_q(t.average_loss)), t.average_loss, "money"),
            Row("average R", fmt_money(_q(t.average_r)) if t.r_trades else "–", t.average_r, "money"),
            Row("median holding time", fmt_duration_ns(int(np.median(holding))) if holding else "–"),
            Row(
                "lots still open at the end",
                fmt_count(len(a.journal.open_lots)),
                len(a.journal.open_lots),
                "count",
            ),
        ]
        sections.append(
            Section("Round trips", tuple(rows), "FIFO-matched entry and exit orders; PnL net of fees.")
        )
    mm = a.market_making
    if mm is not None and a.quotes:
        rows = []
        if mm.fill_ratio is not None:
            fr = mm.fill_ratio
            rows += [
                Row("quotes (limit orders at the venue)", fmt_count(fr.quotes), fr.quotes, "count"),
                Row("fill ratio (quantity)", fmt_pct(fr.qty_ratio), fr.qty_ratio, "pct"),
                Row("fill ratio (orders)", fmt_pct(fr.order_ratio), fr.order_ratio, "pct"),
            ]
        rows += [
            Row("maker share (quantity)", fmt_pct(mm.maker_share.qty_share), mm.maker_share.qty_share, "pct"),
            Row("spread captured", fmt_money(mm.spread_captured), mm.spread_captured, "money"),
            Row(
                "spread captured (bps, qty-weighted)",
                fmt_float(mm.spread_captured_bps),
                mm.spread_captured_bps,
                "ratio",
            ),
        ]
        for adverse in mm.adverse_selection:
            label = f"adverse selection at {fmt_duration_ns(adverse.horizon_ns)} (bps)"
            text = f"{fmt_float(adverse.mean_bps)} ({adverse.fills_measured} fills)"
            rows.append(Row(label, text, adverse.mean_bps, "ratio"))
        inv = mm.inventory
        rows += [
            Row("mean inventory (time-weighted)", fmt_float(inv.mean_position), inv.mean_position, "ratio"),
            Row("max |inventory|", fmt_money(inv.max_abs_position), inv.max_abs_position, "money"),
        ]
        if inv.limit is not None and inv.share_at_limit is not None:
            rows.append(
                Row(
                    f"time at |inventory| ≥ {inv.limit}",
                    fmt_pct(inv.share_at_limit, 1),
                    inv.share_at_limit,
                    "pct",
                )
            )
        rows += [
            Row("fees, maker", fmt_money(mm.fees.maker), mm.fees.maker, "money"),
            Row("fees, taker", fmt_money(mm.fees.taker), mm.fees.taker, "money"),
        ]
        sections.append(
            Section(
                "Market making",
                tuple(rows),
                "Adverse selection: how far the mid moved against each fill after the horizon (positive = against us).",
            )
        )
    if mm is not None:
        at = mm.attribution
        sections.append(
            Section(
                "PnL attribution",
                (
                    Row(
                        "spread captured (vs the mid at each fill)",
                        fmt_money(at.spread_captured),
                        at.spread_captured,
                        "money",
                    ),
                    Row("− fees", fmt_money(-at.fees), -at.fees, "money"),
                    Row("inventory (position × mid moves)", fmt_money(at.inventory), at.inventory, "money"),
                    Row("other (funding, settlement, …)", fmt_money(at.other), at.other, "money"),
                    Row("= total", fmt_money(at.total), at.total, "money"),
                ),
                "Exact: the terms add up to the change of equity to the last unit. Inventory includes each "
                "fill's quantity from its fill time to the row that booked it; other is zero when cash moves "
                "only through fills.",
            )
        )
    return sections


def render_run_report(a: RunAnalysis, *, title: str) -> str:
    """Return the whole report page of one run."""
    run = a.run
    eq = run.equity
    t0 = int(eq.ts_ns[0])
    perf = a.performance
    mm = a.market_making
    cur = a.settle_currency
    trades = a.trades
    sharpe_label, sharpe = "Sharpe", None if perf is None else perf.sharpe_ratio
    if perf is not None and not a.annualised:
        sharpe_label, sharpe = f"Sharpe per {sampling_label(a.sampling)}", a.sharpe_per_period
    kpis = [
        kpi(f"net PnL ({cur})" if cur else "net PnL", fmt_money_rounded(a.net_pnl, cur), float(a.net_pnl)),
        kpi(
            "total return",
            fmt_pct(None if perf is None else perf.total_return, 3),
            None if perf is None else perf.total_return,
        ),
        kpi(sharpe_label, fmt_float(sharpe, 3)),
        kpi("max drawdown", fmt_pct(None if perf is None else perf.max_drawdown, 3)),
        kpi(
            "round trips · win rate",
            "–" if trades is None else f"{trades.trades:,} · {fmt_pct(trades.win_rate, 1)}",
        ),
        kpi("fees", fmt_money_rounded(a.run.equity.fees[-1], cur)),
    ]
    if mm is not None and a.quotes:
        kpis.append(kpi("spread captured (bps)", fmt_float(mm.spread_captured_bps, 3)))
    body = [f'<div class="kpis">{"".join(kpis)}</div>', _problems(a)]
    body.append('<div class="grid">' + "".join(_section_card(s) for s in headline_sections(a)) + "</div>")
    body.append(_chart_help())
    body.append('<div data-charts="price equity drawdown inventory"></div>')
    small = (
        ["returns"]
        + (["attribution"] if mm is not None else [])
        + (["inventory-dist"] if mm is not None and a.quotes else [])
    )
    body.append('<div class="grid" data-charts="' + " ".join(small) + '"></div>')
    body.append(per_day_table(a))
    body.append(trade_list(a))
    body.append(_regimes(a))
    body.append(f"<h2>Config</h2><pre>{esc(run.config_text)}</pre>")
    charts: list[Chart] = [*_time_charts(a, t0), _returns_chart(a)]
    if mm is not None:
        charts.append(_attribution_chart(a))
        if a.quotes:
            charts.append(_inventory_distribution(a))
    return page(title=title, subtitle=_subtitle(a), body="".join(body), charts=charts, t0_ns=t0)


def _drawdown_rows(perf: PerformanceSummary) -> list[Row]:
    dd = perf.drawdown
    return [
        Row("max drawdown", fmt_pct(perf.max_drawdown, 4), perf.max_drawdown, "pct"),
        Row(
            "deepest drawdown lasted",
            "–"
            if dd is None
            else fmt_duration_ns(dd.duration_ns) + ("" if dd.recovered else " (not recovered)"),
        ),
        Row("longest drawdown", "–" if dd is None else fmt_duration_ns(dd.longest_duration_ns)),
        Row("return samples", fmt_count(perf.samples), perf.samples, "count"),
    ]


def _hold_return(a: RunAnalysis) -> float | None:
    hold = buy_and_hold(a)
    if hold is None:
        return None
    last = hold[np.isfinite(hold)]
    return float(last[-1] / float(a.starting_equity) - 1) if last.size and a.starting_equity else None


def render_empty_report(run: RunOutputs, *, title: str) -> str:
    """Return the page of a run that recorded no equity row (e.g. a paper run stopped before any data)."""
    rows = [(str(k), str(v)) for k, v in sorted(run.summary.items())]
    body = (
        '<div class="problem">This run recorded no equity rows (no market data reached it), so there is '
        "nothing to chart or measure.</div>"
        + kv_table(rows, title="summary.json")
        + f"<h2>Config</h2><pre>{esc(run.config_text)}</pre>"
    )
    return page(title=title, subtitle=str(run.summary.get("instrument", "")), body=body, charts=(), t0_ns=0)


# --- pieces ----------------------------------------------------------------------------------------


def _q(value: Decimal | None) -> Decimal | None:
    """Averages can carry 28 digits; show them to 1e-8 (the sums they come from stay exact)."""
    return None if value is None else value.quantize(Decimal("1e-8")).normalize()


def _subtitle(a: RunAnalysis) -> str:
    summary = a.run.summary
    parts = [str(summary.get("instrument", "")) or "", ""]
    eq = a.run.equity
    parts[1] = (
        f"{ns_to_iso(int(eq.ts_ns[0]))} → {ns_to_iso(int(eq.ts_ns[-1]))} ({fmt_duration_ns(a.span_ns)})"
    )
    folder = summary.get("output_folder")
    if isinstance(folder, str) and folder:
        parts.append(f"run folder {Path(folder).name}")
    return " · ".join(p for p in parts if p)


def _section_card(section: Section) -> str:
    return kv_table(((r.label, r.text) for r in section.rows), title=section.title, note=section.note)


def _problems(a: RunAnalysis) -> str:
    names = {
        "performance": "Return metrics",
        "journal": "Round trips",
        "market_making": "Market making",
        "contract": "Contract terms",
    }
    return "".join(
        f'<div class="problem">{esc(names.get(k, k))} not shown: {esc(v)}</div>'
        for k, v in a.problems.items()
    )


def _chart_help() -> str:
    return (
        '<h2>Charts</h2><p class="help">Scroll to zoom, drag to zoom to a range, double-click '
        "to reset; hover for values (and click a legend entry to hide or show its line). "
        '<label><input type="checkbox" id="link-axes" checked> move time axes together</label></p>'
    )


def _regimes(a: RunAnalysis) -> str:
    if not a.regimes or set(a.regimes) == {None}:
        return ""
    rows = [
        (
            "untagged" if regime is None else regime,
            fmt_count(s.trades),
            fmt_pct(s.win_rate, 1),
            fmt_float(s.profit_factor),
            fmt_money(_q(s.expectancy)),
            fmt_money(s.net_pnl),
        )
        for regime, s in a.regimes.items()
    ]
    return "<h2>By regime</h2>" + table(
        ["regime", "round trips", "win rate", "profit factor", "expectancy", "net PnL"],
        rows,
        numeric=[False, True, True, True, True, True],
    )


def _drawdown(values: np.ndarray) -> np.ndarray:
    peak = np.fmax.accumulate(values)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(peak > 0, values / peak - 1.0, np.nan)


def _time_charts(a: RunAnalysis, t0: int) -> list[TimeChart]:
    eq = a.run.equity
    x = seconds_since(t0, eq.ts_ns)
    fills = a.run.fills
    fx = seconds_since(t0, np.array([f.ts_event_ns for f in fills], dtype=np.int64))
    price = np.array([float(f.price) for f in fills], dtype=np.float64)
    qty = np.array([float(f.quantity) for f in fills], dtype=np.float64)
    buy = np.array([f.side is OrderSide.BUY for f in fills], dtype=bool)
    equity = eq.as_float("equity")
    cur = a.settle_currency
    hold = buy_and_hold(a)
    return [
        TimeChart(
            "price",
            "Price, own quotes and fills",
            "",
            (
                Series("best bid", x, eq.as_float("best_bid"), "#a5d8ff", step=True, width=0.8),
                Series("best ask", x, eq.as_float("best_ask"), "#ffc9c9", step=True, width=0.8),
                Series("mid", x, eq.as_float("mid"), "#343a40", width=1.1),
                Series("own bid", x, eq.as_float("own_bid"), "#2b8a3e", step=True, width=1.6),
                Series("own ask", x, eq.as_float("own_ask"), "#c92a2a", step=True, width=1.6),
            ),
            markers=(
                Markers("buy fills", fx[buy], price[buy], "#2b8a3e", "up", qty[buy]),
                Markers("sell fills", fx[~buy], price[~buy], "#c92a2a", "down", qty[~buy]),
            ),
            height=340,
            note="Own quotes are our best working bid and ask at each equity sample; every fill is a marker.",
        ),
        TimeChart(
            "equity",
            f"Equity ({cur})" if cur else "Equity",
            cur,
            (Series("equity", x, equity, _BLUE),)
            + (() if hold is None else (Series("buy and hold", x, hold, "#868e96", width=1.0, dash="4 3"),)),
            note="Buy and hold: the starting equity held in the instrument from the first mid (a benchmark).",
        ),
        TimeChart(
            "drawdown",
            "Drawdown from the running peak (every equity row)",
            "",
            (Series("drawdown", x, _drawdown(equity), "#c92a2a", area=True),),
            height=170,
            y_format="pct",
        ),
        TimeChart(
            "inventory",
            "Inventory (position)",
            "",
            (Series("position", x, eq.as_float("position"), "#7048e8", step=True, area=True),),
            height=170,
        ),
    ]


def _trip_returns_bps(a: RunAnalysis) -> np.ndarray:
    if a.journal is None:
        return np.empty(0)
    values = [float(t.net_return) * 1e4 for t in a.journal.round_trips if t.net_return is not None]
    return np.array(values, dtype=np.float64)


def _returns_chart(a: RunAnalysis) -> BarChart:
    values = _trip_returns_bps(a)
    edges, counts = histogram(values)
    note = (
        f"{values.size} round trips; net return = net PnL / entry notional, in basis points."
        if values.size
        else "No round trips closed in this run."
    )
    return BarChart(
        "returns",
        "Distribution of round-trip returns",
        "net return (bps)",
        "round trips",
        counts,
        edges=edges,
        note=note,
    )


def _attribution_chart(a: RunAnalysis) -> WaterfallChart:
    assert a.market_making is not None
    at = a.market_making.attribution
    return WaterfallChart(
        "attribution",
        "PnL attribution",
        a.settle_currency,
        (
            ("spread", float(at.spread_captured)),
            ("fees", float(-at.fees)),
            ("inventory", float(at.inventory)),
            ("other", float(at.other)),
        ),
        total_label="net PnL",
        note="Spread captured − fees + inventory PnL + other = net PnL (exact values in the table).",
    )


def _inventory_distribution(a: RunAnalysis) -> BarChart:
    assert a.market_making is not None
    inv = a.market_making.inventory
    observed = inv.observed_ns or 1
    if len(inv.levels) <= 41:
        labels = tuple(f"{level:f}" for level, _ in inv.levels)
        counts = np.array([ns / observed * 100 for _, ns in inv.levels], dtype=np.float64)
        return BarChart(
            "inventory-dist",
            "Time at each inventory level",
            "position",
            "% of time",
            counts,
            labels=labels,
            color="#7048e8",
        )
    positions = a.run.equity.as_float("position")
    edges = np.linspace(float(positions.min()), float(positions.max()), 31)
    edges, ns = inventory_histogram(a.run.equity, edges)
    return BarChart(
        "inventory-dist",
        "Time at each inventory level",
        "position",
        "% of time",
        ns.astype(np.float64) / observed * 100,
        edges=edges,
        color="#7048e8",
    )
