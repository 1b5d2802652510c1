"""The futures day-trading flow on paper, run the way a user runs it (`tradewright backtest
examples/futures_day_6e.toml`) over a month of recorded CME 6EH4 one-minute bars, and each guard checked
in what the run leaves behind: the trade journal (fills.csv with its tags), the event stream
(events.jsonl) and the state store (state.sqlite, written commit-before-acting as a live node does).

- entries only in the regimes that allow their setup;
- sizes in R: each entry risks at most 1 R, and one contract more would have risked more;
- trading stops at -2R: after the daily-loss tripwire no entry leaves until the next trading day;
- at most 3 entries a trading day (17:00 Chicago), the fourth blocked;
- the spread guard refuses entries only where the modelled spread is wide, the slippage guard only
  entries larger than the quoted size;
- no position from 10 minutes before the day session's close to the next open.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import REPO, shared_data
from tradewright.model.contracts import futures_instrument

D = Decimal
R = D(500)
CHICAGO = ZoneInfo("America/Chicago")
ALLOWED = {"trend": ("vwap_pullback", "orb_retest"), "range": ("bollinger",), "neutral": ()}
SIXE = futures_instrument("6EH4.XCME")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    shared_data("bars/nautilus/6EH4.XCME_1min_bars_20240101_20240131.csv.gz")
    cwd = tmp_path_factory.mktemp("day")
    result = subprocess.run(
        [sys.executable, "-m", "tradewright.cli.main", "backtest", str(REPO / "examples" / "futures_day_6e.toml"),
         "--json", "--out", "run"],
        cwd=cwd, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return cwd / "run"


def events(run: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (run / "events.jsonl").open()]


def fills(run: Path) -> list[dict[str, str]]:
    with (run / "fills.csv").open() as fh:
        return list(csv.DictReader(fh))


def chicago(ts_ns: int) -> datetime:
    return datetime.fromtimestamp(ts_ns / 1e9, UTC).astimezone(CHICAGO)


def trading_day(ts_ns: int) -> str:
    local = chicago(ts_ns)
    return (local.date().toordinal() + (1 if local.hour >= 17 else 0)).__str__()


def entries(run: Path) -> list[dict[str, str]]:
    return [row for row in fills(run) if row["risk_r"]]


def test_entries_come_only_from_setups_their_regime_allows(run: Path) -> None:
    rows = entries(run)
    assert len(rows) >= 10
    for row in rows:
        assert row["tag_reason"].startswith(ALLOWED[row["tag_regime"]]), row
    assert {row["tag_regime"] for row in rows} == {"trend", "range"}  # both kinds of day occurred


def test_each_entry_risks_at_most_one_r_and_one_contract_more_would_risk_more(run: Path) -> None:
    for row in entries(run):
        risk, size = D(row["risk_r"]), D(row["quantity"])
        assert 0 < risk <= R
        assert risk / size * (size + 1) > R, row  # the size is R over the stop, rounded down


def test_trading_stops_at_minus_two_r_until_the_next_trading_day(run: Path) -> None:
    stream = events(run)
    trips = [e for e in stream if e["type"] == "BreakerTripped" and e["breaker"] == "daily_loss"]
    assert trips, "no day reached -2R in January"
    for trip in trips:
        assert D(str(trip["reason"]).split("is ")[1].split("R")[0]) >= 2
        start = stream.index(trip)
        reset = next(i for i, e in enumerate(stream[start:], start) if e["type"] == "BreakerReset" and e["breaker"] == "daily_loss")
        assert "new trading day" in str(stream[reset]["reason"])
        blocked = stream[start:reset]
        opened = [e for e in blocked if e["type"] == "OrderSubmitted" and e["strategy_id"] == "DAY" and e["order_type"] == "MARKET"
                  and not e["reduce_only"]]  # fmt: skip
        assert opened == [], "an entry left while the tripwire held"
    denied = [e for e in stream if e["type"] == "OrderDenied" and e["reason"] == "trading_reducing"]
    assert denied and all("daily_loss" in str(e["message"]) or "max_trades" in str(e["message"]) for e in denied)


def test_no_more_than_three_entries_a_trading_day_and_the_fourth_is_blocked(run: Path) -> None:
    per_day = Counter(trading_day(int(row["ts_event_ns"])) for row in entries(run))
    assert max(per_day.values()) == 3
    stream = events(run)
    assert any(e["type"] == "BreakerTripped" and e["breaker"] == "max_trades_per_day" for e in stream)
    assert any(e["type"] == "OrderDenied" and "max_trades_per_day" in str(e["message"]) for e in stream)


def test_the_spread_guard_refuses_only_where_the_quote_is_wide_and_the_slippage_guard_only_oversized_entries(run: Path) -> None:
    stream = events(run)
    spread = [e for e in stream if e["type"] == "OrderDenied" and e["reason"] == "spread_guard"]
    slippage = [e for e in stream if e["type"] == "OrderDenied" and e["reason"] == "slippage_guard"]
    assert spread and slippage
    for e in spread:
        local = chicago(int(str(e["ts_event"])) - 60_000_000_000)  # the quote of the bar that just closed
        early = local.hour == 7 and 20 <= local.minute < 35  # the modelled 2-tick opening minutes
        assert early or not (7 * 60 + 20 <= local.hour * 60 + local.minute < 14 * 60), local
        assert "spread is 2 ticks" in str(e["message"])
    sizes = {str(e["client_order_id"]): e for e in stream if e["type"] == "SubmitOrder"}
    for e in slippage:
        assert D(str(sizes[str(e["client_order_id"])]["quantity"])) > 15
        assert "the book holds only 15" in str(e["message"])


def test_no_position_is_held_from_ten_minutes_before_the_day_close_to_the_next_open(run: Path) -> None:
    with (run / "equity.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    held = [r for r in rows if D(r["position"]) != 0]
    for r in held:
        local = chicago(int(r["ts_ns"]))
        minutes = local.hour * 60 + local.minute
        assert 7 * 60 + 20 <= minutes <= 13 * 60 + 50, f"a position at {local}"
    stream = events(run)
    finished = [e for e in stream if e["type"] == "FlattenFinished"]
    assert len(finished) == 22 and all(e["complete"] and not e["residual"] for e in finished)  # one a day


def test_the_state_store_holds_every_fill_order_and_risk_decision_of_the_journal(run: Path) -> None:
    journal = fills(run)
    db = sqlite3.connect(run / "state.sqlite")
    try:
        stored = db.execute("select client_order_id, trade_id, last_px, last_qty from fills order by id").fetchall()
        assert [(r["client_order_id"], r["trade_id"], r["price"], r["quantity"]) for r in journal] == [
            (c, t, str(D(p)), str(D(q))) for c, t, p, q in stored
        ]
        (open_orders,) = db.execute("select count(*) from orders where status in ('SUBMITTED', 'ACCEPTED')").fetchone()
        assert open_orders == 0
        kinds = Counter(k for (k,) in db.execute("select kind from risk_events"))
        stream = Counter(e["type"] for e in events(run))
        for kind in ("BreakerTripped", "FlattenStarted", "FlattenFinished", "TradingStateChanged"):
            assert kinds[kind] == stream[kind], kind
        (quantity,) = db.execute("select quantity from positions where instrument_id = ?", (str(SIXE.id),)).fetchone()
        assert D(quantity) == 0
    finally:
        db.close()


def test_the_figures_in_docs_futures_are_the_runs(run: Path) -> None:
    summary = json.loads((run / "summary.json").read_text())
    docs = (REPO / "docs" / "futures.md").read_text()
    trips = sum(1 for row in fills(run) if row["risk_r"])
    assert f"{trips} round\ntrips, {summary['fills']} fills" in docs or f"{trips} round trips, {summary['fills']} fills" in docs
    assert f"final equity {D(summary['final_equity']):,.2f} USD" in docs
    assert f"realised {D(summary['realized_pnl']):,.2f} USD and {D(summary['fees']):,.2f} USD of fees".replace("-", "−") in docs
