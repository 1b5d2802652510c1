"""Turbine quick markets as a user records and backtests them: the recorder follows the rotation on the
local Turbine (every quick market as it opens, each until it resolves), and the quick-market maker,
backtested on that recording with `tradewright backtest`, quotes each market in turn and leaves none
with an order at its end."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from tests.conftest import REPO
from tradewright.data.binary_recording import load_binary_recording
from tradewright.model.prediction import BinaryMarket

EXAMPLE = REPO / "examples" / "turbine_quick_mm.toml"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_the_recorder_follows_three_quick_markets_and_the_maker_rotates_through_them(tmp_path: Path) -> None:
    made = run(
        sys.executable, str(REPO / "examples" / "turbine_rehearsal.py"), "--out", str(tmp_path / "rec"),
        "--markets", "3", "--interval-s", "3", cwd=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    folders = sorted((tmp_path / "rec" / "TURBINE").iterdir())
    recordings = [load_binary_recording(f) for f in folders]
    resolved = sorted((r for r in recordings if r.resolution is not None), key=lambda r: r.market.end_ns or 0)
    assert [r.resolution.value for r in resolved if r.resolution] == ["YES", "NO", "YES"]
    for rec in resolved:  # both outcome books, from the market's opening
        assert {row.token for row in rec.rows if row.kind == "clear"} == {"YES", "NO"}
    done = run(
        sys.executable, "-m", "tradewright.cli.main", "backtest", str(EXAMPLE), "--json",
        "--set", f'data.paths=["{tmp_path / "rec"}"]', "--set", "strategy.params.stop_quoting_lead_ms=1000",
        "--out", str(tmp_path / "run"), cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert {m["market_id"]: m["resolution"] for m in summary["markets"]} == {
        r.market.market_id: r.resolution.value for r in resolved if r.resolution
    } | {r.market.market_id: "" for r in recordings if r.resolution is None}
    with (tmp_path / "run" / "orders.csv").open() as fh:
        orders = list(csv.DictReader(fh))
    ends = {
        f.name: msgspec.json.decode((f / "market.json").read_bytes(), type=BinaryMarket).end_ns for f in folders
    }
    quoted = {o["instrument_id"].split("-")[0] for o in orders}
    assert {r.market.market_id for r in resolved} <= quoted  # it quoted every market that traded
    for o in orders:
        end = ends[o["instrument_id"].split("-")[0]]
        assert end is not None and int(o["ts_last_ns"]) < end, o  # nothing left on a market at its end
        assert o["status"] in ("CANCELED", "FILLED")
