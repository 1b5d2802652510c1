"""The combined out-of-sample report of a walk-forward: test runs stitched into one record.

Each test window is a separate backtest that starts flat with the starting balance. Stitching adds
each window's PnL onto where the previous window ended: stitched equity = equity of the window −
its starting equity + the stitched equity at the end of the window before (exact, in Decimal).
Between windows (when `--step` > `--test`) the record stays flat. Return metrics are computed on the
stitched curve with the same sampling and calendar rules as a single run; round trips are pooled
from the windows' journals (a position still open at a window's end is not a round trip); the PnL
attribution adds up the windows' terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

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
from tradewright.analysis.metrics import exact_sum, summarise_returns, trade_stats
from tradewright.analysis.report_html import (
    esc,
    fmt_count,
    fmt_float,
    fmt_money,
    fmt_pct,
    kpi,
    kv_table,
    page,
    table,
)
from tradewright.analysis.returns import Calendar, Sampling, equity_returns
from tradewright.analysis.run_analysis import (
    RunAnalysis,
    analyse_run,
    auto_sampling,
    headline_metrics,
    sampling_label,
)
from tradewright.analysis.run_outputs import load_run
from tradewright.core.clock import ns_to_iso
from tradewright.core.errors import DataError
from tradewright.model.enums import OrderSide

__all__ = ["StitchedRecord", "WindowSummary", "stitch", "write_walkforward_report"]


@dataclass(frozen=True, slots=True)
class WindowSummary:
    """One walk-forward window: what won in sample, and its out-of-sample run (None if there is none)."""

    index: int
    train_start_ns: int
    train_end_ns: int
    test_start_ns: int
    test_end_ns: int
    params: dict[str, Any]
    in_sample_value: float | None
    trials: int
    test_run: Path | None
    note: str = ""


@dataclass(frozen=True, slots=True)
class StitchedRecord:
    """The out-of-sample equity chained across windows (exact), with each window's first row index."""

    ts_ns: np.ndarray
    equity: tuple[Decimal, ...]
    position: tuple[Decimal, ...]
    window_starts: tuple[int, ...]
    starting_equity: Decimal
    final_equity: Decimal


def stitch(analyses: list[RunAnalysis]) -> StitchedRecord:
    """Chain test runs (in time order) into one equity record.

    A backtest keeps recording for a moment after its data ends (answers in flight, the final cancels,
    a last sample); rows of a window at or after the next window's first row are not drawn, but the
    window's PnL counts whole: the next window continues from its final equity, so the stitched record
    ends at exactly the starting equity plus the sum of the windows' net PnL.
    """
    if not analyses:
        raise DataError("no out-of-sample run to stitch", source="walk-forward")
    start = analyses[0].starting_equity
    level = start
    ts: list[np.ndarray] = []
    equity: list[Decimal] = []
    position: list[Decimal] = []
    starts: list[int] = []
    last_ts: int | None = None
    for k, a in enumerate(analyses):
        eq = a.run.equity
        if last_ts is not None and int(eq.ts_ns[0]) <= last_ts:
            raise DataError(
                "out-of-sample runs overlap in time; they cannot be chained", source=str(a.run.path)
            )
        keep = len(eq)
        if k + 1 < len(analyses):
            cutoff = int(analyses[k + 1].run.equity.ts_ns[0])
            keep = max(1, int(np.searchsorted(eq.ts_ns, cutoff, side="left")))
        starts.append(len(equity))
        offset = level - eq.equity[0]
        equity.extend(value + offset for value in eq.equity[:keep])
        position.extend(eq.position[:keep])
        ts.append(eq.ts_ns[:keep])
        level = eq.equity[-1] + offset
        last_ts = int(eq.ts_ns[keep - 1])
    return StitchedRecord(
        ts_ns=np.concatenate(ts),
        equity=tuple(equity),
        position=tuple(position),
        window_starts=tuple(starts),
        starting_equity=start,
        final_equity=level,
    )


def write_walkforward_report(
    folder: Path,
    windows: list[WindowSummary],
    *,
    title: str,
    metric: str,
    direction: str,
    config_text: str,
    settings: list[tuple[str, str]],
    calendar: Calendar,
    sampling: Sampling | None,
) -> Path:
    """Build the out-of-sample report and write it (atomically) to `folder/report.html`; return its path."""
    runs = [
        (w, analyse_run(load_run(w.test_run), calendar=calendar, sampling=sampling))
        for w in windows
        if w.test_run
    ]
    body: list[str] = []
    charts: list[Chart] = []
    t0 = windows[0].test_start_ns
    if runs:
        record = stitch([a for _, a in runs])
        t0 = int(record.ts_ns[0])
        kpis, card = _headline(record, [a for _, a in runs], calendar, sampling)
        body.append(f'{kpis}<div class="grid">{card}{kv_table(settings, title="Walk-forward")}</div>')
        charts = _charts(record, [a for _, a in runs], t0)
    else:
        body.append('<div class="problem">No window produced an out-of-sample run.</div>')
        body.append(kv_table(settings, title="Walk-forward"))
    body.append(_windows_table(folder, windows, dict((w.index, a) for w, a in runs), metric, direction))
    if charts:
        body.append(
            '<h2>Out-of-sample record</h2><p class="help">Dashed lines mark where each test window starts. '
            'Scroll to zoom, drag to pan, double-click to reset. <label><input type="checkbox" id="link-axes" '
            "checked> move time axes together</label></p>"
            '<div data-charts="equity drawdown price inventory"></div>'
            '<div class="grid" data-charts="returns attribution"></div>'
        )
    body.append(f"<h2>Config</h2><pre>{esc(config_text)}</pre>")
    subtitle = f"{len(windows)} windows · out of sample {ns_to_iso(windows[0].test_start_ns)} → {ns_to_iso(windows[-1].test_end_ns)}"
    html = page(title=title, subtitle=subtitle, body="".join(body), charts=charts, t0_ns=t0)
    target = folder / "report.html"
    tmp = target.with_name("report.html.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(target)
    return target


def _headline(
    record: StitchedRecord, analyses: list[RunAnalysis], calendar: Calendar, sampling: Sampling | None
) -> tuple[str, str]:
    """The KPI row and the out-of-sample table card."""
    span = int(record.ts_ns[-1] - record.ts_ns[0])
    sampling = auto_sampling(span) if sampling is None else sampling
    rows: list[tuple[str, str]] = []
    perf = None
    try:
        returns = equity_returns(record.ts_ns, record.equity, sampling)
        perf = summarise_returns(returns, calendar=calendar, sampling=sampling)
    except (DataError, ValueError) as exc:
        rows.append(("return metrics", f"not available: {exc}"))
    net = record.final_equity - record.starting_equity
    trips = [t for a in analyses if a.journal is not None for t in a.journal.round_trips]
    stats = trade_stats([t.net_pnl for t in trips], [t.r_multiple for t in trips])
    fills = sum(len(a.run.fills) for a in analyses)
    mms = [a.market_making for a in analyses if a.market_making is not None]
    kpis = [
        kpi("out-of-sample net PnL", fmt_money(net), float(net)),
        kpi("total return", fmt_pct(None if perf is None else perf.total_return, 4)),
        kpi("Sharpe", fmt_float(None if perf is None else perf.sharpe_ratio, 3)),
        kpi("max drawdown", fmt_pct(None if perf is None else perf.max_drawdown, 3)),
        kpi("fills", fmt_count(fills)),
        kpi("round trips", fmt_count(stats.trades)),
    ]
    if perf is not None:
        rows += [
            ("total return", fmt_pct(perf.total_return, 4)),
            ("annual return (CAGR)", fmt_pct(perf.annual_return)),
            ("annual volatility", fmt_pct(perf.annual_volatility)),
            ("Sharpe ratio", fmt_float(perf.sharpe_ratio)),
            ("Sortino ratio", fmt_float(perf.sortino_ratio)),
            ("Calmar ratio", fmt_float(perf.calmar_ratio)),
            ("max drawdown", fmt_pct(perf.max_drawdown, 4)),
        ]
    rows += [
        ("net PnL", fmt_money(net)),
        ("round trips", fmt_count(stats.trades)),
        ("win rate", fmt_pct(stats.win_rate, 1)),
        ("profit factor", fmt_float(stats.profit_factor)),
    ]
    if mms:
        rows += [
            ("spread captured", fmt_money(exact_sum(m.spread_captured for m in mms))),
            ("fees", fmt_money(exact_sum(m.fees.total for m in mms))),
            ("inventory PnL", fmt_money(exact_sum(m.attribution.inventory for m in mms))),
            ("other", fmt_money(exact_sum(m.attribution.other for m in mms))),
        ]
    note = (
        f"Stitched out-of-sample equity; {sampling_label(sampling)} returns, {calendar.name} calendar "
        f"({calendar.periods_per_year(sampling):,.0f} periods a year)."
    )
    return f'<div class="kpis">{"".join(kpis)}</div>', kv_table(
        rows, title="Out of sample, all windows", note=note
    )


def _windows_table(
    folder: Path, windows: list[WindowSummary], analyses: dict[int, RunAnalysis], metric: str, direction: str
) -> str:
    span = windows[-1].test_end_ns - min(w.train_start_ns for w in windows)

    def when(ns: int) -> str:
        """Times of day for a walk-forward inside one day; dates and minutes beyond."""
        iso = ns_to_iso(ns)
        return iso[11:19] if span < 86_400 * 10**9 else f"{iso[:10]} {iso[11:16]}"

    rows = []
    for w in windows:
        a = analyses.get(w.index)
        oos_value = None if a is None else headline_metrics(a).get(metric)
        link = "–"
        if w.test_run is not None:
            href = (
                (w.test_run / "report.html").relative_to(folder.resolve())
                if w.test_run.is_relative_to(folder.resolve())
                else w.test_run / "report.html"
            )
            link = f'<a href="{esc(href.as_posix())}">report</a>'
        rows.append(
            (
                esc(w.index),
                esc(f"{when(w.train_start_ns)} → {when(w.train_end_ns)}"),
                esc(f"{when(w.test_start_ns)} → {when(w.test_end_ns)}"),
                esc(", ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in w.params.items()) or "–"),
                esc(fmt_float(w.in_sample_value)),
                esc(fmt_count(w.trials)),
                esc(fmt_float(oos_value) if oos_value is not None else "–"),
                esc(fmt_money(None if a is None else a.net_pnl)),
                esc(fmt_count(None if a is None else len(a.run.fills))),
                link,
                esc(w.note),
            )
        )
    header = [
        "#",
        "train (UTC)",
        "test (UTC)",
        "chosen",
        f"in-sample {metric}",
        "trials",
        f"out-of-sample {metric}",
        "out-of-sample net PnL",
        "fills",
        "run",
        "note",
    ]
    numeric = [True, False, False, False, True, True, True, True, True, False, False]
    return (
        "<h2>Windows</h2>"
        + table(header, rows, numeric=numeric, raw_html_columns=tuple(range(len(header))))
        + (
            f'<p class="note">Each window\'s winner is the in-sample trial with the {"highest" if direction == "maximize" else "lowest"} '
            f"{esc(metric)}; its out-of-sample run starts flat on the test window.</p>"
        )
    )


def _charts(record: StitchedRecord, analyses: list[RunAnalysis], t0: int) -> list[Chart]:
    x = seconds_since(t0, record.ts_ns)
    equity = np.array([float(v) for v in record.equity])
    peak = np.fmax.accumulate(equity)
    drawdown = np.where(peak > 0, equity / peak - 1.0, np.nan)
    starts = tuple(float(x[i]) for i in record.window_starts)
    bounds = [*record.window_starts, record.ts_ns.size]
    mids = np.concatenate(
        [a.run.equity.as_float("mid")[: bounds[k + 1] - bounds[k]] for k, a in enumerate(analyses)]
    )
    fills = [f for a in analyses for f in a.run.fills]
    fx = seconds_since(t0, np.array([f.ts_event_ns for f in fills], dtype=np.int64))
    price = np.array([float(f.price) for f in fills])
    qty = np.array([float(f.quantity) for f in fills])
    buy = np.array([f.side is OrderSide.BUY for f in fills], dtype=bool)
    gaps = _gaps(record)
    charts: list[Chart] = [
        TimeChart(
            "equity",
            "Out-of-sample equity, stitched",
            "",
            (Series("equity", x, equity, "#3b5bdb"),),
            vlines=starts,
        ),
        TimeChart(
            "drawdown",
            "Drawdown from the running peak",
            "",
            (Series("drawdown", x, drawdown, "#c92a2a", area=True),),
            vlines=starts,
            height=170,
            y_format="pct",
        ),
        TimeChart(
            "price",
            "Price and fills",
            "",
            (Series("mid", x, np.where(gaps, np.nan, mids), "#343a40"),),
            markers=(
                Markers("buy fills", fx[buy], price[buy], "#2b8a3e", "up", qty[buy]),
                Markers("sell fills", fx[~buy], price[~buy], "#c92a2a", "down", qty[~buy]),
            ),
            vlines=starts,
            height=260,
        ),
        TimeChart(
            "inventory",
            "Inventory",
            "",
            (
                Series(
                    "position",
                    x,
                    np.array([float(p) for p in record.position]),
                    "#7048e8",
                    step=True,
                    area=True,
                ),
            ),
            vlines=starts,
            height=160,
        ),
    ]
    returns = np.array(
        [
            float(t.net_return) * 1e4
            for a in analyses
            if a.journal is not None
            for t in a.journal.round_trips
            if t.net_return is not None
        ]
    )
    edges, counts = histogram(returns)
    charts.append(
        BarChart(
            "returns",
            "Out-of-sample round-trip returns",
            "net return (bps)",
            "round trips",
            counts,
            edges=edges,
            note=f"{returns.size} round trips over all windows.",
        )
    )
    mms = [a.market_making for a in analyses if a.market_making is not None]
    if mms:
        charts.append(
            WaterfallChart(
                "attribution",
                "Out-of-sample PnL attribution",
                "",
                (
                    ("spread", float(exact_sum(m.attribution.spread_captured for m in mms))),
                    ("fees", -float(exact_sum(m.attribution.fees for m in mms))),
                    ("inventory", float(exact_sum(m.attribution.inventory for m in mms))),
                    ("other", float(exact_sum(m.attribution.other for m in mms))),
                ),
                total_label="net PnL",
            )
        )
    return charts


def _gaps(record: StitchedRecord) -> np.ndarray:
    """Mark the first row of every window after the first, so the price line breaks between windows."""
    mask = np.zeros(record.ts_ns.size, dtype=bool)
    for i in record.window_starts[1:]:
        mask[i] = True
    return mask
