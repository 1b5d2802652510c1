"""The page that compares two runs side by side: both headline tables with the differences, overlaid
PnL, drawdown and inventory, both return distributions, and the difference of the two configs."""

from __future__ import annotations

import difflib
from decimal import Decimal

import numpy as np

from tradewright.analysis.charts import BarChart, Chart, Series, TimeChart, histogram, seconds_since
from tradewright.analysis.report import (
    Row,
    _chart_help,
    _drawdown,
    _subtitle,
    _trip_returns_bps,
    headline_sections,
)
from tradewright.analysis.report_html import esc, fmt_float, fmt_money, fmt_pct, page, table
from tradewright.analysis.run_analysis import RunAnalysis

__all__ = ["render_compare_report"]

_BLUE, _ORANGE = "#3b5bdb", "#e8590c"


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
