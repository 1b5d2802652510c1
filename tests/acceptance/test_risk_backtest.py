"""Risk in the demo backtest, run the way a user runs it: a tight daily tripwire or trade limit stops new
positions and says so in the summary and the event log; --flatten-at leaves nothing open and records why."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

DEMO = REPO / "examples" / "demo_mm.toml"
# The demo's six minutes cross UTC midnight; a session day starting at noon keeps them in one trading day.
ONE_DAY = ["--set", 'risk.trading_day_start="12:00"']


def tradewright(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tradewright.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def backtest(tmp_path: Path, name: str, *args: str) -> tuple[dict[str, Any], Path]:
    out = tmp_path / name
    result = tradewright("backtest", str(DEMO), "--json", "--out", str(out), *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), out


def events(folder: Path) -> list[dict[str, Any]]:
    with (folder / "events.jsonl").open() as fh:
        return [json.loads(line) for line in fh]


def fills(folder: Path) -> list[dict[str, str]]:
    with (folder / "fills.csv").open() as fh:
        return list(csv.DictReader(fh))


def assert_no_position_grew_after(folder: Path, ts_ns: int) -> int:
    """Every fill after `ts_ns` brought the position towards zero; return how many there were."""
    rows = fills(folder)
    before = Decimal(0)
    after_trip = 0
    for row in rows:
        pos = Decimal(row["position_after"])
        if int(row["ts_event_ns"]) > ts_ns:
            assert abs(pos) < abs(before), (row, before)
            after_trip += 1
        before = pos
    return after_trip


def test_a_tight_daily_loss_tripwire_stops_new_positions_and_says_so(tmp_path: Path) -> None:
    summary, folder = backtest(tmp_path, "loss", "--set", "risk.daily_loss_limit_quote=5", *ONE_DAY)
    assert summary["trading_state"] == "REDUCING"
    assert any("daily_loss tripped: node -> REDUCING" in line for line in summary["risk_events"])
    assert summary["risk_holds"][0].startswith("node: REDUCING (daily_loss: today's loss")
    assert summary["orders_denied_by_reason"]["trading_reducing"] > 0
    assert Decimal(summary["net_pnl"]) < -5  # it did lose the 5 (and the open position moved on)
    log = events(folder)
    (trip,) = [e for e in log if e["type"] == "BreakerTripped"]
    assert trip["breaker"] == "daily_loss" and trip["action"] == "REDUCING"
    (change,) = [e for e in log if e["type"] == "TradingStateChanged"]
    assert (change["previous"], change["state"], change["cause"]) == ("ACTIVE", "REDUCING", "daily_loss")
    assert log.index(change) == log.index(trip) + 1
    assert_no_position_grew_after(folder, trip["ts_event"])
    # After the trip only exposure-reducing orders went out.
    denied = [e for e in log if e["type"] == "OrderDenied" and e["ts_event"] >= trip["ts_event"]]
    assert denied and {e["reason"] for e in denied} == {"trading_reducing"}


def test_max_trades_per_day_stops_new_positions_after_the_last_trade(tmp_path: Path) -> None:
    summary, folder = backtest(tmp_path, "trades", "--set", "risk.max_trades_per_day=20", *ONE_DAY)
    assert summary["trading_state"] == "REDUCING"
    assert any(
        "max_trades_per_day tripped" in line and "20 trades today" in line for line in summary["risk_events"]
    )
    log = events(folder)
    (trip,) = [e for e in log if e["type"] == "BreakerTripped"]
    assert trip["breaker"] == "max_trades_per_day"
    traded = {row["client_order_id"] for row in fills(folder) if int(row["ts_event_ns"]) <= trip["ts_event"]}
    assert len(traded) == 20
    assert_no_position_grew_after(folder, trip["ts_event"])


@pytest.mark.parametrize("when", ["180", "2024-08-08T23:57:15Z"])
def test_flatten_at_leaves_no_open_order_and_no_position_and_records_why(tmp_path: Path, when: str) -> None:
    summary, folder = backtest(tmp_path, "flat", "--flatten-at", when)
    assert Decimal(summary["final_position"]) == 0
    assert summary["trading_state"] == "HALTED"
    with (folder / "orders.csv").open() as fh:
        statuses = {row["status"] for row in csv.DictReader(fh)}
    assert statuses <= {"FILLED", "CANCELED", "REJECTED", "EXPIRED", "DENIED"}, statuses
    log = events(folder)
    (started,) = [e for e in log if e["type"] == "FlattenStarted"]
    assert started["reason"] == f"backtest --flatten-at {when}"
    assert started["actor"] == "backtest:--flatten-at"
    (finished,) = [e for e in log if e["type"] == "FlattenFinished"]
    assert finished["complete"] is True and finished["residual"] == {} and finished["open_orders"] == 0
    # Nothing the strategy sent afterwards left the node.
    submitted_after = [
        e for e in log if e["type"] == "OrderSubmitted" and e["ts_event"] > finished["ts_event"]
    ]
    assert submitted_after == []
    assert any(
        f"flatten all (backtest:--flatten-at): backtest --flatten-at {when}" in line
        for line in summary["risk_events"]
    )


def test_no_risk_section_changes_nothing_in_the_demo(tmp_path: Path) -> None:
    summary, _ = backtest(tmp_path, "plain")
    assert summary["trading_state"] == "ACTIVE"
    assert summary["risk_events"] == [] and summary["orders_denied_by_reason"] == {}
    assert summary["orders_denied"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "risk.max_position=1"], "unknown config key `risk.max_position`"),
        (["--set", "risk.price_band_bps=-1"], "`risk.price_band_bps` must be a number > 0, got -1"),
        (
            ["--flatten-at", "teatime"],
            "--flatten-at 'teatime' is neither seconds after the start nor an ISO-8601 time",
        ),
    ],
)
def test_bad_risk_settings_are_refused_naming_them(tmp_path: Path, args: list[str], message: str) -> None:
    result = tradewright("backtest", str(DEMO), "--out", str(tmp_path / "out"), *args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_schema_exports_the_risk_events(tmp_path: Path) -> None:
    result = tradewright("schema", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    schemas = json.loads(result.stdout)
    for name in (
        "TradingStateChanged",
        "BreakerTripped",
        "BreakerReset",
        "CommandDenied",
        "FlattenStarted",
        "FlattenFinished",
    ):
        assert name in schemas, name
    state = schemas["TradingStateChanged"]["$defs"]["TradingState"]
    assert sorted(state["enum"]) == ["ACTIVE", "HALTED", "REDUCING"]
