"""The report's long tables and its benchmark: the trade list, the per-day table, buy and hold.

Days follow the run's calendar: a crypto run's days are UTC days; a CME run's are trading days (a
Globex session opens at 17:00 Chicago time the evening before the day it belongs to); US equities'
are New York days. Money is exact (Decimal sums of the run's own rows); returns are floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from tradewright.analysis.report_html import (
    esc,
    fmt_count,
    fmt_duration_ns,
    fmt_float,
    fmt_money,
    fmt_pct,
    table,
)
from tradewright.analysis.run_analysis import RunAnalysis
from tradewright.core.clock import ns_to_iso

__all__ = ["DayRow", "buy_and_hold", "day_rows", "per_day_table", "trade_list"]

#: Round trips listed in the page; the rest are in `tradewright journal RUN_DIR`.
TRADE_LIST_ROWS = 500

# calendar -> (time zone, hours added before taking the date): a CME trading day starts 17:00 Chicago.
_DAY_CLOCK = {"cme": ("America/Chicago", 7), "us_equities": ("America/New_York", 0)}


@dataclass(frozen=True, slots=True)
class DayRow:
    day: str
    start_equity: Decimal
    end_equity: Decimal
    fills: int
    round_trips: int
    max_drawdown: float

    @property
    def pnl(self) -> Decimal:
        return self.end_equity - self.start_equity

    @property
    def ret(self) -> float:
        return float(self.pnl / self.start_equity) if self.start_equity else float("nan")


def _day_of(ts_ns: int, calendar: str) -> str:
    zone_name, shift_h = _DAY_CLOCK.get(calendar, ("UTC", 0))
    moment = datetime.fromtimestamp(ts_ns // 1_000_000_000, UTC).astimezone(ZoneInfo(zone_name))
    return (moment + timedelta(hours=shift_h)).date().isoformat()


def day_rows(a: RunAnalysis) -> list[DayRow]:
    """One row per day of the run (see the module docstring for what a day is)."""
    eq = a.run.equity
    if len(eq) == 0:
        return []
    name = a.calendar.name
    days = [_day_of(int(ts), name) for ts in eq.ts_ns.tolist()]
    fills: dict[str, int] = {}
    for f in a.run.fills:
        key = _day_of(f.ts_event_ns, name)
        fills[key] = fills.get(key, 0) + 1
    trips: dict[str, int] = {}
    for trip in a.journal.round_trips if a.journal is not None else ():
        key = _day_of(trip.exit_ts_ns, name)
        trips[key] = trips.get(key, 0) + 1
    values = eq.as_float("equity")
    rows: list[DayRow] = []
    start = 0
    for i in range(1, len(days) + 1):
        if i < len(days) and days[i] == days[start]:
            continue
        # A day starts from the previous day's last equity (its PnL includes the overnight move).
        opening = eq.equity[start - 1] if start > 0 else eq.equity[0]
        segment = values[start:i]
        peak = np.fmax.accumulate(np.concatenate([[float(opening)], segment]))
        with np.errstate(divide="ignore", invalid="ignore"):
            dd = float(
                np.nanmin(np.where(peak > 0, np.concatenate([[float(opening)], segment]) / peak - 1, 0))
            )
        rows.append(
            DayRow(
                day=days[start],
                start_equity=opening,
                end_equity=eq.equity[i - 1],
                fills=fills.get(days[start], 0),
                round_trips=trips.get(days[start], 0),
                max_drawdown=dd,
            )
        )
        start = i
    return rows


def per_day_table(a: RunAnalysis) -> str:
    rows = day_rows(a)
    if not rows:
        return ""
    what = {"cme": "CME trading days (17:00 Chicago to 16:00)", "us_equities": "New York days"}.get(
        a.calendar.name, "UTC days"
    )
    body = [
        (
            r.day,
            fmt_money(r.start_equity),
            fmt_money(r.end_equity),
            fmt_money(r.pnl),
            fmt_pct(r.ret, 3),
            fmt_count(r.fills),
            fmt_count(r.round_trips),
            fmt_pct(r.max_drawdown, 3),
        )
        for r in rows
    ]
    return (
        f'<h2>By day</h2><p class="section-note">{esc(what)}; a day starts from the previous day\'s last '
        "equity, so its PnL includes the move between sessions.</p>"
        + _tall(
            table(
                [
                    "day",
                    "start equity",
                    "end equity",
                    "PnL",
                    "return",
                    "fills",
                    "round trips closed",
                    "max drawdown",
                ],
                body,
                numeric=[False, True, True, True, True, True, True, True],
            )
        )
    )


def trade_list(a: RunAnalysis) -> str:
    journal = a.journal
    if journal is None or not journal.round_trips:
        return ""
    trips = journal.round_trips
    shown = trips[:TRADE_LIST_ROWS]
    body = [
        (
            ns_to_iso(t.entry_ts_ns).replace("T", " ")[:23],
            fmt_duration_ns(t.holding_ns),
            t.side.value.lower(),
            f"{t.size:f}",
            f"{t.entry_avg_px:f}",
            f"{t.exit_avg_px:f}",
            fmt_money(t.pnl),
            fmt_money(t.fees),
            fmt_money(t.net_pnl),
            "–" if t.net_return is None else fmt_float(float(t.net_return) * 1e4, 3),
            t.entry_reason or "",
            t.exit_reason or "",
        )
        for t in shown
    ]
    more = (
        f" The first {len(shown):,} of {len(trips):,} are listed; `tradewright journal RUN_DIR` exports all."
        if len(trips) > len(shown)
        else ""
    )
    return (
        f'<h2>Trades</h2><p class="section-note">{len(trips):,} round trips (entry and exit orders matched '
        f"first in, first out; PnL before fees, net after; return on the entry notional in bps).{esc(more)}</p>"
        + _tall(table(
            ["entry (UTC)", "held", "side", "size", "entry price", "exit price", "PnL", "fees", "net PnL",
             "net return (bps)", "entry reason", "exit reason"],
            body,
            numeric=[False, True, False, True, True, True, True, True, True, True, False, False],
        ))
    )  # fmt: skip


def buy_and_hold(a: RunAnalysis) -> npt.NDArray[np.float64] | None:
    """The starting equity held in the instrument from the first mid: start × mid / first mid (display).

    None when the run never had a mid. The same return as holding one unit, scaled to the account.
    """
    mid = a.run.equity.as_float("mid")
    finite = np.flatnonzero(np.isfinite(mid) & (mid > 0))
    if finite.size == 0:
        return None
    first = mid[finite[0]]
    values: npt.NDArray[np.float64] = float(a.starting_equity) * mid / first
    values[: finite[0]] = np.nan
    return values


def _tall(html: str) -> str:
    """A long table scrolls inside its card (header kept in view) instead of stretching the page."""
    return html.replace('<div class="scroll">', '<div class="scroll tall">', 1)
