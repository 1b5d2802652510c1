"""Paper mode end to end: the CLI replays the bundled recording at 10x; SIGTERM shuts it down cleanly."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_paper_run_of_30_seconds_at_speed_10_fills_and_sigterm_leaves_no_open_order(tmp_path: Path) -> None:
    out = tmp_path / "paper"
    cmd = [
        sys.executable,
        "-m",
        "tradewright.cli.main",
        "paper",
        str(REPO / "examples" / "demo_mm.toml"),
        "--speed",
        "10",
        "--json",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    time.sleep(30)
    assert proc.poll() is None, "paper mode ended before it was signalled: " + (
        proc.stderr.read() if proc.stderr else ""
    )
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    summary = json.loads(stdout)
    assert summary["stop_reason"] == "stop requested (signal)"
    assert summary["fills"] > 0
    assert summary["open_orders_at_end"] == 0
    with (out / "orders.csv").open() as fh:
        statuses = {row["status"] for row in csv.DictReader(fh)}
    assert statuses <= {"FILLED", "CANCELED", "REJECTED", "EXPIRED", "DENIED"}, statuses
    with (out / "fills.csv").open() as fh:
        assert sum(1 for _ in csv.DictReader(fh)) == summary["fills"]
    # The summary is consistent: equity change = realised + unrealised - fees, exactly.
    net = Decimal(summary["final_equity"]) - Decimal(summary["starting_balance"])
    assert net == Decimal(summary["net_pnl"])
    assert net == Decimal(summary["realized_pnl"]) + Decimal(summary["unrealized_pnl"]) - Decimal(
        summary["fees"]
    )
