"""Prediction-market backtests as a user runs them: record two Polymarket markets on the local Polymarket
(the venue's real payloads, a rehearsal's trades and resolution), backtest the spread quoter on the
recording with `tradewright backtest`, and find the cross-token fill, the payout at resolution and the
same figures as the bundled example."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, shared_data

EXAMPLE = REPO / "examples" / "polymarket_quoter.toml"
ELECTION = "0xdd22472e552920b8438158ea7238bfadfa4f736aa4cee91a6b86c39ead110917"
NVIDIA = "0x311d0c4b6671ab54af4970c06fcf58662516f5168997bdda209ec3db5aa6b0c1"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)


def backtest(cwd: Path, *extra: str) -> dict[str, Any]:
    done = run(sys.executable, "-m", "tradewright.cli.main", "backtest", str(EXAMPLE), "--json", *extra, cwd=cwd)
    assert done.returncode == 0, done.stderr
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary


def check_quoter_run(summary: dict[str, Any]) -> None:
    markets = {m["market_id"]: m for m in summary["markets"]}
    assert {m["resolution"] for m in markets.values()} == {"YES"}
    assert markets[NVIDIA]["settled"] == {}  # not traded
    # Bought 20 YES at 0.487, sold 5 + 5 at 0.488 (one of them to a NO seller: a cross-token fill),
    # and the 10 left paid 1 each at resolution: 10 x (1 - 0.487) = 5.13, plus 10 x 0.001 traded.
    assert summary["fills"] == 3
    assert summary["cross_token_fills"] == 1
    assert Decimal(markets[ELECTION]["settlement_pnl"]) == Decimal("5.13")
    assert Decimal(summary["net_pnl"]) == Decimal("5.14")
    assert Decimal(summary["final_position"]) == 0


@pytest.mark.slow
def test_record_polymarket_on_the_local_server_then_backtest_the_recording(tmp_path: Path) -> None:
    made = run(
        sys.executable, str(REPO / "examples" / "polymarket_rehearsal.py"),
        "--data", str(shared_data("venues/polymarket")), "--out", str(tmp_path / "rec"), cwd=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert f"{ELECTION}: " in made.stdout and "resolved YES" in made.stdout
    summary = backtest(tmp_path, "--set", f'data.paths=["{tmp_path / "rec"}"]', "--out", str(tmp_path / "run"))
    check_quoter_run(summary)
    fills = (tmp_path / "run" / "fills.csv").read_text().splitlines()
    assert [line.split(",")[6:9] for line in fills[1:]] == [
        ["BUY", "0.487", "20"],
        ["SELL", "0.488", "5.00"],
        ["SELL", "0.488", "5.00"],
    ]
    events = (tmp_path / "run" / "events.jsonl").read_text()
    assert events.count('"type":"MarketResolved"') == 4  # one per token of each market


def test_the_bundled_polymarket_example_gives_its_documented_figures(tmp_path: Path) -> None:
    summary = backtest(tmp_path, "--out", str(tmp_path / "run"))
    check_quoter_run(summary)
    again = backtest(tmp_path, "--out", str(tmp_path / "run2"))
    assert (tmp_path / "run" / "events.jsonl").read_bytes() == (tmp_path / "run2" / "events.jsonl").read_bytes()
    assert again["net_pnl"] == summary["net_pnl"]


def test_a_binary_backtest_refuses_venue_settings_that_do_not_apply(tmp_path: Path) -> None:
    done = run(
        sys.executable, "-m", "tradewright.cli.main", "backtest", str(EXAMPLE), "--set", "venue.taker_fee=0.01",
        "--out", str(tmp_path / "run"), cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode != 0
    assert "`venue.taker_fee` does not apply to binary markets" in done.stderr
    assert not (tmp_path / "run").exists()
