"""The README's demo, run the way a user runs it, and the ways a user can get it wrong."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import REPO, bundled_data

DEMO = REPO / "examples" / "demo_mm.toml"
SUMMARY_FIELDS = {
    "output_folder",
    "events",
    "orders",
    "fills",
    "maker_volume",
    "taker_volume",
    "fees",
    "realized_pnl",
    "unrealized_pnl",
    "max_abs_inventory",
    "wall_seconds",
    "events_per_second",
}


def tradewright(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tradewright.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], Path, Path]:
    base = tmp_path_factory.mktemp("demo")
    first = tradewright("backtest", str(DEMO), "--json", "--out", str(base / "a"), cwd=base)
    assert first.returncode == 0, first.stderr
    second = tradewright("backtest", str(DEMO), "--json", "--out", str(base / "b"), cwd=base)
    assert second.returncode == 0, second.stderr
    return json.loads(first.stdout), base / "a", base / "b"


def test_demo_json_has_fills_and_every_field(demo_runs: tuple[dict[str, object], Path, Path]) -> None:
    summary, folder, _ = demo_runs
    assert set(summary) >= SUMMARY_FIELDS, SUMMARY_FIELDS - set(summary)
    assert int(summary["fills"]) > 0  # type: ignore[call-overload]
    assert int(summary["events"]) > 500_000  # type: ignore[call-overload]
    assert Decimal(str(summary["maker_volume"])) > 0
    for name in (
        "orders.csv",
        "fills.csv",
        "equity.csv",
        "events.jsonl",
        "summary.json",
        "report.html",
        "config.toml",
    ):
        assert (folder / name).stat().st_size > 0, name
    net = Decimal(str(summary["final_equity"])) - Decimal(str(summary["starting_balance"]))
    assert net == Decimal(str(summary["realized_pnl"])) + Decimal(str(summary["unrealized_pnl"])) - Decimal(
        str(summary["fees"])
    )


def test_demo_run_twice_gives_byte_identical_fills(demo_runs: tuple[dict[str, object], Path, Path]) -> None:
    _, a, b = demo_runs
    assert (a / "fills.csv").read_bytes() == (b / "fills.csv").read_bytes()
    assert (a / "orders.csv").read_bytes() == (b / "orders.csv").read_bytes()
    assert (a / "equity.csv").read_bytes() == (b / "equity.csv").read_bytes()


def test_report_is_self_contained(demo_runs: tuple[dict[str, object], Path, Path]) -> None:
    """Opens offline: no external script, stylesheet or URL (rendering is checked in headless Chromium
    by the report tests)."""
    _, folder, _ = demo_runs
    page = (folder / "report.html").read_text()
    assert "<script src" not in page and "<link " not in page
    urls = re.findall(r"https?://[^\s\"'<>]+", page)
    assert all(u.startswith("http://www.w3.org/") for u in urls), urls


def _config_with(tmp_path: Path, old: str, new: str) -> Path:
    text = DEMO.read_text().replace(old, new)
    assert text != DEMO.read_text(), f"{old!r} not in the demo config"
    cfg = tmp_path / "demo.toml"
    cfg.write_text(
        text.replace('path = "symmetric_mm.py"', f'path = "{REPO / "examples" / "symmetric_mm.py"}"').replace(
            '"../data/', f'"{REPO / "data"}/'
        )
    )
    return cfg


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "offset_ticks = 0",
            "offset_ticks = 0\nofset_ticks = 1",
            "unknown config key `strategy.params.ofset_ticks`",
        ),
        ("queue_power = 2.0", "queue_power = 2.0\nqueue_powr = 3", "unknown config key `venue.queue_powr`"),
        ('size = "0.002"', 'size = "-0.002"', "size must be > 0"),
        ('size = "0.002"', 'size = "0.0025"', "not a multiple of the lot size 0.001"),
        ("offset_ticks = 0", "offset_ticks = -1", "strategy.params.offset_ticks"),
        ("order_latency_us = 2_000", "order_latency_us = -5", "venue.order_latency_us"),
    ],
)
def test_bad_config_is_refused_naming_what_is_wrong_and_leaves_no_output(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    cfg = _config_with(tmp_path, old, new)
    result = tradewright("backtest", str(cfg), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.partial*"))


def test_a_price_off_the_tick_grid_is_refused_with_the_price_and_tick(tmp_path: Path) -> None:
    strategy = tmp_path / "offgrid.py"
    strategy.write_text(
        "from decimal import Decimal\n"
        "from tradewright.model import OrderSide\n"
        "from tradewright.strategy import Strategy\n"
        "class OffGrid(Strategy):\n"
        "    def on_book(self, book, **kw):\n"
        "        self.ctx.submit(self.instruments[0], OrderSide.BUY, Decimal('0.001'), book.best_bid + Decimal('0.05'))\n"
    )
    cfg = tmp_path / "offgrid.toml"
    cfg.write_text(
        f'[data]\npaths = ["{bundled_data("binance/binance_usdm_btcusdt_20240808.jsonl.gz")}"]\n'
        f'[strategy]\npath = "{strategy}"\nclass = "OffGrid"\n'
    )
    result = tradewright("backtest", str(cfg), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 2
    assert "is not on the tick grid of 0.1" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_garbled_recording_line_is_reported_with_file_and_line_and_skipped(tmp_path: Path) -> None:
    src = bundled_data("binance/binance_usdm_btcusdt_20240808.jsonl.gz")
    with gzip.open(src, "rb") as fh:
        lines = fh.read().splitlines(keepends=True)
    lines[500] = lines[500][: len(lines[500]) // 2] + b"\n"  # cut a message in half
    bad = tmp_path / "garbled.jsonl.gz"
    with gzip.open(bad, "wb") as fh:
        fh.writelines(lines)
    cfg = _config_with(tmp_path, "../data/binance/binance_usdm_btcusdt_20240808.jsonl.gz", str(bad))
    result = tradewright("backtest", str(cfg), "--json", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"{bad}:501" in result.stderr
    assert json.loads(result.stdout)["fills"] > 0


def test_a_missing_recording_fails_before_anything_is_written(tmp_path: Path) -> None:
    shutil.copy(DEMO, tmp_path / "demo.toml")
    result = tradewright(
        "backtest", str(tmp_path / "demo.toml"), "--out", str(tmp_path / "out"), cwd=tmp_path
    )
    assert result.returncode == 2
    assert "data file not found" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_run_with_set_overrides_keeps_a_config_that_repeats_it(tmp_path: Path) -> None:
    first = tradewright(
        "backtest",
        str(DEMO),
        "--set",
        "strategy.params.offset_ticks=1",
        "--json",
        "--out",
        str(tmp_path / "a"),
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stderr
    saved = (tmp_path / "a" / "config.toml").read_text()
    assert "offset_ticks = 1" in saved and "strategy.params.offset_ticks=1" in saved.splitlines()[0]
    again = tradewright(
        "backtest", str(tmp_path / "a" / "config.toml"), "--json", "--out", str(tmp_path / "b"), cwd=tmp_path
    )
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "a" / "fills.csv").read_bytes() == (tmp_path / "b" / "fills.csv").read_bytes()
