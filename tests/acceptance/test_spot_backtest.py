"""A backtest on the chained Binance spot recordings (0808 then 0809), which hold a stale ask at 200,000."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, shared_data


def test_chained_spot_recordings_backtest_and_drop_the_far_off_level(tmp_path: Path) -> None:
    first = shared_data("l2/hftbacktest/binance_spot_btcusdt_20240808.jsonl.gz")
    second = shared_data("l2/hftbacktest/binance_spot_btcusdt_20240809.jsonl.gz")
    cfg = tmp_path / "spot.toml"
    cfg.write_text(
        f'[data]\npaths = ["{first}", "{second}"]\n'
        "[venue]\norder_latency_us = 2000\nresponse_latency_us = 2000\n"
        f'[strategy]\npath = "{REPO / "examples" / "symmetric_mm.py"}"\nclass = "SymmetricMarketMaker"\n'
        '[strategy.params]\nsize = "0.001"\nmax_position = "0.005"\n'
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tradewright.cli.main",
            "backtest",
            str(cfg),
            "--json",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["instrument"] == "BTCUSDT.BINANCE"
    assert summary["fills"] > 0
    assert summary["data_span"].startswith("2024-08-08") and "2024-08-09" in summary["data_span"]
