"""The HTML report of one run, and the page that compares two runs side by side.

A report is drawn from a `RunAnalysis` (itself from a validated run folder), so a page shows a whole
run or is not written at all. Sections: headline figures; tables of returns and risk (with the
annualisation spelled out), PnL, round trips, market making and the PnL attribution; zoomable charts
of price with our quotes and fills, equity, drawdown and inventory (their time axes move together);
the distribution of round-trip returns, the attribution as a waterfall, time spent at each inventory
level; and the config that produced the run.
"""

from __future__ import annotations

import difflib
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
from tradewright.analysis.report_html import (
    esc,
    fmt_count,
    fmt_duration_ns,
    fmt_float,
    fmt_money,
    fmt_pct,
    kpi,
    kv_table,
    page,
    table,
)
from tradewright.analysis.returns import NS_PER_SECOND
from tradewright.analysis.run_analysis import RunAnalysis, sampling_label
from tradewright.analysis.run_outputs import RunOutputs
from tradewright.core.clock import ns_to_iso
from tradewright.model.enums import OrderSide

__all__ = [
    "Row",
    "Section",
    "headline_sections",
    "render_compare_report",
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
        f"{a.calendar.name} calendar: {a.calendar.trading_days_per_year} days × "
        f"{fmt_duration_ns(a.calendar.session_ns)} → {a.periods_per_year:,.0f} periods a year."
    )
    if a.span_ns < 30 * 86_400 * NS_PER_SECOND:
        annualisation += f" Annualised figures extrapolate {fmt_duration_ns(a.span_ns)} of data."
    if perf is not None:
        dd = perf.drawdown
        rows = [
            Row("total return", fmt_pct(perf.total_return, 4), perf.total_return, "pct"),
            Row("annual return (CAGR)", fmt_pct(perf.annual_return), perf.annual_return, "pct"),
            Row("annual volatility", fmt_pct(perf.annual_volatility), perf.annual_volatility, "pct"),
            Row("Sharpe ratio", fmt_float(perf.sharpe_ratio), perf.sharpe_ratio, "ratio"),
            Row("Sortino ratio", fmt_float(perf.sortino_ratio), perf.sortino_ratio, "ratio"),
            Row("Calmar ratio", fmt_float(perf.calmar_ratio), perf.calmar_ratio, "ratio"),
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
        sections.append(Section("Returns and risk", tuple(rows), annualisation))
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
            "Net PnL = final − starting equity = realised + unrealised − fees; equity marks the position at the mid.",
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
    if mm is not None:
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
        at = mm.attribution
        sections.append(
            Section(
                "PnL attribution",
                (
                    Row("spread captured", fmt_money(at.spread_captured), at.spread_captured, "money"),
                    Row("− fees", fmt_money(-at.fees), -at.fees, "money"),
                    Row("inventory (position × mid moves)", fmt_money(at.inventory), at.inventory, "money"),
                    Row("other (funding, settlement, …)", fmt_money(at.other), at.other, "money"),
                    Row("= total", fmt_money(at.total), at.total, "money"),
                ),
                "Exact: the terms add up to the change of equity to the last unit.",
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
    kpis = [
        kpi(
            f"net PnL ({a.settle_currency})" if a.settle_currency else "net PnL",
            fmt_money(a.net_pnl),
            float(a.net_pnl),
        ),
        kpi(
            "total return",
            fmt_pct(None if perf is None else perf.total_return, 4),
            None if perf is None else perf.total_return,
        ),
        kpi("Sharpe", fmt_float(None if perf is None else perf.sharpe_ratio, 3)),
        kpi("max drawdown", fmt_pct(None if perf is None else perf.max_drawdown, 3)),
        kpi("fills", fmt_count(len(run.fills))),
        kpi("spread captured (bps)", fmt_float(None if mm is None else mm.spread_captured_bps, 3)),
    ]
    body = [f'<div class="kpis">{"".join(kpis)}</div>', _problems(a)]
    body.append('<div class="grid">' + "".join(_section_card(s) for s in headline_sections(a)) + "</div>")
    body.append(_chart_help())
    body.append('<div data-charts="price equity drawdown inventory"></div>')
    small = ["returns"] + (["attribution", "inventory-dist"] if mm is not None else [])
    body.append('<div class="grid" data-charts="' + " ".join(small) + '"></div>')
    body.append(_regimes(a))
    body.append(f"<h2>Config</h2><pre>{esc(run.config_text)}</pre>")
    charts: list[Chart] = [*_time_charts(a, t0), _returns_chart(a)]
    if mm is not None:
        charts += [_attribution_chart(a), _inventory_distribution(a)]
    return page(title=title, subtitle=_subtitle(a), body="".join(body), charts=charts, t0_ns=t0)


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


def render_compare_report(a: RunAnalysis, b: RunAnalysis, *, names: tuple[str, str]) -> str:
    """Return one page with two runs side by side: both headline tables, overlaid PnL, drawdown, inventory."""
    name_a, name_b = names
    rows: list[tuple[str, str, str, str]] = []
    sections_b = {s.title: {r.label: r for r in s.rows} for s in headline_sections(b)}
    seen: set[str] = set()
    for section in headline_sections(a):
        seen.add(section.title)
        rows.append((f"<b>{esc(section.title)}</b>", "", "", ""))
        other = sections_b.get(section.title, {})
        for row in section.rows:
            match = other.get(row.label)
            rows.append(
                (
                    esc(row.label),
                    esc(row.text),
                    esc("–" if match is None else match.text),
                    esc(_diff(row, match)),
                )
            )
    for title, other in sections_b.items():
        if title not in seen:
            rows.append((f"<b>{esc(title)}</b>", "", "", ""))
            rows += [(esc(r.label), "–", esc(r.text), "–") for r in other.values()]
    head_table = table(
        ["", name_a, name_b, f"{name_b} − {name_a}"],
        rows,
        numeric=[False, True, True, True],
        raw_html_columns=(0, 1, 2, 3),
    )
    same_time = _overlap(a, b)
    t0 = (
        min(int(a.run.equity.ts_ns[0]), int(b.run.equity.ts_ns[0]))
        if same_time
        else int(a.run.equity.ts_ns[0])
    )
    note = (
        ""
        if same_time
        else (
            f"The runs cover different times: {name_b} is drawn from its own start, aligned with {name_a}'s start."
        )
    )
    charts: list[Chart] = []
    pnl, dd, inv = [], [], []
    for run, name, color in ((a, name_a, _BLUE), (b, name_b, _ORANGE)):
        eq = run.run.equity
        start = int(eq.ts_ns[0])
        x = seconds_since(t0 if same_time else start, eq.ts_ns)
        values = eq.as_float("equity")
        pnl.append(Series(name, x, values - values[0], color))
        dd.append(Series(name, x, _drawdown(values), color, area=True))
        inv.append(Series(name, x, eq.as_float("position"), color, step=True))
    charts += [
        TimeChart(
            "pnl", "PnL (equity − starting equity)", a.settle_currency, tuple(pnl), height=260, note=note
        ),
        TimeChart("drawdown", "Drawdown from the running peak", "", tuple(dd), height=180, y_format="pct"),
        TimeChart("inventory", "Inventory", "", tuple(inv), height=180),
    ]
    ret_a, ret_b = _trip_returns_bps(a), _trip_returns_bps(b)
    edges, _ = histogram(np.concatenate([ret_a, ret_b]))
    counts_a = np.histogram(ret_a, bins=edges)[0].astype(np.float64) if edges.size else np.empty(0)
    counts_b = np.histogram(ret_b, bins=edges)[0].astype(np.float64) if edges.size else np.empty(0)
    charts.append(
        BarChart(
            "returns",
            "Round-trip returns",
            "net return (bps)",
            name_a,
            counts_a,
            edges=edges,
            color=_BLUE,
            series=((name_b, counts_b, _ORANGE),),
        )
    )
    diff = "".join(
        difflib.unified_diff(
            a.run.config_text.splitlines(keepends=True),
            b.run.config_text.splitlines(keepends=True),
            name_a,
            name_b,
        )
    )
    body = [
        head_table,
        _chart_help(),
        '<div data-charts="pnl drawdown inventory"></div><div class="grid" data-charts="returns"></div>',
        "<h2>Config differences</h2>",
        f"<pre>{_diff_html(diff) if diff else 'the two configs are identical'}</pre>",
        f'<h2>Configs</h2><div class="cols2"><pre>{esc(a.run.config_text)}</pre><pre>{esc(b.run.config_text)}</pre></div>',
    ]
    subtitle = f"{name_a}: {_subtitle(a)}  |  {name_b}: {_subtitle(b)}"
    return page(
        title=f"Compare {name_a} and {name_b}", subtitle=subtitle, body="".join(body), charts=charts, t0_ns=t0
    )


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
        '<h2>Charts</h2><p class="help">Scroll to zoom, drag to pan, shift-drag to zoom to a range, double-click '
        "to reset; hover for values. "
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
            "equity", f"Equity ({cur})" if cur else "Equity", cur, (Series("equity", x, equity, _BLUE),)
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


def _overlap(a: RunAnalysis, b: RunAnalysis) -> bool:
    ea, eb = a.run.equity.ts_ns, b.run.equity.ts_ns
    return bool(ea[0] <= eb[-1] and eb[0] <= ea[-1])


def _diff(row: Row, other: Row | None) -> str:
    if other is None or row.value is None or other.value is None or row.kind == "text":
        return ""
    if row.kind == "money" and isinstance(row.value, Decimal) and isinstance(other.value, Decimal):
        delta = other.value - row.value
        return ("+" if delta > 0 else "") + fmt_money(delta)
    try:
        delta_f = float(other.value) - float(row.value)
    except (TypeError, ValueError):
        return ""
    if delta_f != delta_f:
        return "–"
    if row.kind == "pct":
        return ("+" if delta_f > 0 else "") + fmt_pct(delta_f).replace(" %", " pp")
    if row.kind == "count":
        return f"{int(delta_f):+,}"
    return ("+" if delta_f > 0 else "") + fmt_float(delta_f)


def _diff_html(diff: str) -> str:
    out = []
    for line in diff.splitlines():
        cls = ""
        if line.startswith("+") and not line.startswith("+++"):
            cls = "diff-add"
        elif line.startswith("-") and not line.startswith("---"):
            cls = "diff-del"
        elif line.startswith("@@"):
            cls = "diff-at"
        out.append(f'<span class="{cls}">{esc(line)}</span>' if cls else esc(line))
    return "\n".join(out)
