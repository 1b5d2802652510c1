"""The arbitrage config that backtests over two recorded markets runs unchanged on paper: `tradewright
paper` replays both recordings together in scaled real time through the simulated venues, the strategy's
plans run as workflows, and the run folder reports them as a backtest's does."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import REPO, shared_data

pytestmark = pytest.mark.slow


def test_the_arbitrage_config_runs_on_paper_and_reports_its_workflows(tmp_path: Path) -> None:
    spot = shared_data("l2/hftbacktest/binance_spot_btcusdt_20240808.jsonl.gz")
    text = (REPO / "examples" / "arb_spot_perp.toml").read_text()
    config = tmp_path / "arb.toml"
    config.write_text(text.replace('"../../shared/data/', f'"{spot.parents[2]}/'))
    out = tmp_path / "run"
    args = ["paper", str(config), "--speed", "20", "--duration", "20", "--json", "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "tradewright.cli.main", *args], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert summary["mode"] == "paper" and summary["open_orders_at_end"] == 0
    assert summary["instrument"] == "BTCUSDT.BINANCE, BTCUSDT-PERP.BINANCE"
    assert summary["workflows"] > 0, "20 s at 20x cover the window's first opportunities"
    with (out / "workflows.csv").open(newline="") as f:
        workflows = list(csv.DictReader(f))
    with (out / "fills.csv").open(newline="") as f:
        fills = list(csv.DictReader(f))
    assert len(workflows) == summary["workflows"]
    for w in workflows:
        assert w["status"] in ("COMPLETED", "COMPENSATED", "ABORTED"), w
        mine = [f for f in fills if f["client_order_id"].startswith(w["workflow_id"] + "-")]
        cash = sum(
            (
                -(1 if f["side"] == "BUY" else -1) * Decimal(f["price"]) * Decimal(f["quantity"])
                - Decimal(f["fee"])
                for f in mine
            ),
            Decimal(0),
        )
        assert Decimal(w["realized_edge_quote"]) == cash
    # every workflow ended balanced: the delta-neutral inventory stays delta-neutral
    positions = summary["instruments"]
    assert sum(Decimal(p["position"]) for p in positions.values()) == 0
