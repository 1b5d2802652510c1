"""Paper sessions show what is happening: a status line every few seconds and each fill when piped, a
summary at the end that names a strategy that stopped and why, and bar configs run too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, shared_data

DEMO = REPO / "examples" / "demo_mm.toml"
pytestmark = pytest.mark.slow


def paper(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tradewright.cli.main", "paper", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_piped_paper_logs_status_lines_and_fills_and_ends_with_the_summary(tmp_path: Path) -> None:
    done = paper(
        str(DEMO),
        "--speed",
        "20",
        "--duration",
        "4",
        "--status-every",
        "1",
        "--out",
        str(tmp_path / "p"),
        cwd=tmp_path,
    )

    assert done.returncode == 0, done.stderr
    status = [
        line for line in done.stderr.splitlines() if line.startswith("paper BTCUSDT-PERP.BINANCE data ")
    ]
    assert len(status) >= 2, done.stderr
    assert all(" events (" in s and " · position " in s and " open orders · " in s for s in status)
    fills = [line for line in done.stderr.splitlines() if line.startswith("fill ")]
    summary = json.loads((tmp_path / "p" / "summary.json").read_text())
    assert len(fills) == summary["fills"] > 0 and "→ position" in fills[0]
    assert done.stdout.startswith("paper demo_mm · BTCUSDT-PERP.BINANCE")
    assert "stopped" in done.stdout and "duration of 4 s reached" in done.stdout


def test_a_strategy_that_raises_on_paper_is_stopped_and_the_summary_says_where_and_why(
    tmp_path: Path,
) -> None:
    (tmp_path / "boom.py").write_text(
        "from tradewright.strategy.base import Strategy\n\n\n"
        "class Boom(Strategy):\n"
        "    def on_book(self, book) -> None:\n"
        "        spread = book.best_ask_tick - book.best_bid_tick\n"
        "        self.ratio = spread / 0\n"
    )
    text = DEMO.read_text().replace('path = "symmetric_mm.py"', 'path = "boom.py"')
    text = text.replace('class = "SymmetricMarketMaker"', 'class = "Boom"')
    (tmp_path / "boom.toml").write_text(
        text.replace('"../data/', f'"{REPO / "data"}/').split("[strategy.params]")[0]
    )

    done = paper(
        str(tmp_path / "boom.toml"),
        "--speed",
        "20",
        "--duration",
        "2",
        "--out",
        str(tmp_path / "p"),
        cwd=tmp_path,
    )

    assert done.returncode == 0, done.stderr
    why = json.loads((tmp_path / "p" / "summary.json").read_text())["strategies_stopped"]["MM"]
    assert why.startswith("raised ZeroDivisionError('division by zero') in on_book at boom.py:7 in on_book")
    assert "strategy MM" in done.stdout and "boom.py:7" in done.stdout


def test_paper_runs_a_bar_config(tmp_path: Path) -> None:
    shared_data("bars/nautilus/6EH4.XCME_1min_bars_20240101_20240131.csv.gz")

    done = paper(str(REPO / "examples" / "sma_cross_6e.toml"), "--speed", "20000", "--duration", "3", "--json",
                 "--out", str(tmp_path / "p"), cwd=tmp_path)  # fmt: skip

    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["mode"] == "paper" and summary["bars"] > 100 and summary["fills"] > 0
    assert summary["stop_reason"] == "duration of 3 s reached"
    assert (tmp_path / "p" / "report.html").exists()
