"""`tradewright walkforward`: rolling in-sample sweeps, out-of-sample runs of the winners, and one
out-of-sample report that opens in a browser — over a shared bar series (a month of CME Euro FX futures
minute bars) and over the bundled L2 recording.

The L2 recording is six minutes long, so its windows are 90 s of training and 60 s of testing (four
windows); each L2 window opens with a book snapshot (research.data_slices).
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import REPO, shared_data
from tests.integration.research.builders import BAR_SERIES, tradewright, write_bar_config
from tests.integration.research.chromium import open_page
from tradewright.cli.main import main

DEMO = REPO / "examples" / "demo_mm.toml"
ARGS = ("--grid", "strategy.params.offset_ticks=0,1,2", "--train", "90s", "--test", "60s", "--workers", "2")


@pytest.fixture(scope="module")
def walkforward(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    base = tmp_path_factory.mktemp("wf")
    out = base / "wf"
    result = tradewright("walkforward", str(DEMO), *ARGS, "--out", str(out), cwd=base)
    assert result.returncode == 0, result.stderr
    return out, result.stdout


def test_a_walk_forward_over_a_shared_bar_series_reports_out_of_sample(tmp_path: Path) -> None:
    config = write_bar_config(tmp_path, shared_data(BAR_SERIES))
    out = tmp_path / "wf"
    args = ("--grid", "strategy.params.fast=5,10", "--train", "10d", "--test", "10d", "--workers", "2")
    result = tradewright("walkforward", str(config), *args, "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    windows = sorted((out / "windows").iterdir())
    assert [w.name for w in windows] == ["w00", "w01"]
    spans = json.loads((out / "walkforward.json").read_text())["windows"]
    net = Decimal(0)
    for i, window in enumerate(windows):
        with (window / "train" / "results.csv").open() as fh:
            best = next(csv.DictReader(fh))
        test_config = (window / "test" / "config.toml").read_text()
        assert f"fast = {best['strategy.params.fast']}" in test_config
        assert 'bar_format = "freqtrade_feather"' in test_config and f"w{i:02d}-test.feather" in test_config
        with (window / "test" / "fills.csv").open() as fh:
            fills = [int(r["ts_event_ns"]) for r in csv.DictReader(fh)]
        assert fills and spans[i][2] <= fills[0] and fills[-1] <= spans[i][3] + 60_000_000_000
        net += Decimal(json.loads((window / "test" / "summary.json").read_text())["net_pnl"])
    page = (out / "report.html").read_text()
    assert f">{net:,f}<" in page, f"the stitched net PnL {net} is the sum of the windows' net PnL"
    # 6E is 125,000 USD a point: the round trips and the attribution use that multiplier.
    assert (
        'contract multiplier (from equity.csv)</th><td class="num">125000<'
        in (windows[0] / "test" / "report.html").read_text()
    )
    with open_page(out / "report.html") as browser:
        assert browser.wait_for("document.body.dataset.chartsRendered") == "6"
        assert browser.log.errors() == []


def test_each_window_trades_its_in_sample_winner_out_of_sample(walkforward: tuple[Path, str]) -> None:
    out, _ = walkforward
    windows = sorted((out / "windows").iterdir())
    assert [w.name for w in windows] == ["w00", "w01", "w02", "w03"]
    oos = {
        json.loads(line)["meta"]["window"]: json.loads(line)
        for line in (out / "oos.jsonl").read_text().splitlines()
    }
    spans = json.loads((out / "walkforward.json").read_text())["windows"]
    for i, window in enumerate(windows):
        with (window / "train" / "results.csv").open() as fh:
            ranked = list(csv.DictReader(fh))
        assert len(ranked) == 3
        best = int(ranked[0]["strategy.params.offset_ticks"])
        assert oos[i]["params"] == {"strategy.params.offset_ticks": best}
        assert f"offset_ticks = {best}" in (window / "test" / "config.toml").read_text()
        # The test run covers its own window only (plus the moment a backtest needs to finish).
        train_start, train_end, test_start, test_end = spans[i]
        with (window / "test" / "equity.csv").open() as fh:
            ts = [int(r["ts_ns"]) for r in csv.DictReader(fh)]
        assert test_start <= ts[0] and ts[-1] <= test_end + 2_000_000_000
        assert train_end == test_start and train_end - train_start == 90_000_000_000


def test_out_of_sample_report_adds_up_the_windows_and_renders(walkforward: tuple[Path, str]) -> None:
    out, stdout = walkforward
    assert "out-of-sample report:" in stdout
    net = sum(
        Decimal(json.loads((w / "test" / "summary.json").read_text())["net_pnl"])
        for w in (out / "windows").iterdir()
    )
    page = (out / "report.html").read_text()
    assert f">{net:f}<" in page, f"the stitched net PnL {net} is the sum of the windows' net PnL"
    for i in range(4):
        assert f'href="windows/w{i:02d}/test/report.html"' in page
    with open_page(out / "report.html") as browser:
        assert browser.wait_for("document.body.dataset.chartsRendered") == "6"
        points = browser.evaluate(
            "[...document.querySelectorAll('[data-chart]')].map(s => Number(s.dataset.points))"
        )
        assert all(p > 0 for p in points), points
        lines = browser.evaluate("Number(document.querySelector('#chart-equity').dataset.vlines)")
        assert lines == 4, "a dashed line where each test window starts"
        assert browser.log.errors() == []


def test_a_rerun_reuses_every_finished_run(walkforward: tuple[Path, str]) -> None:
    out, _ = walkforward
    before = (out / "report.html").read_bytes()
    result = tradewright("walkforward", str(DEMO), *ARGS, "--out", str(out), cwd=out.parent)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("0 trial(s) to run, 3 already done") == 4
    assert "0 trial(s) to run, 4 already done" in result.stderr
    assert (out / "report.html").read_bytes() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--train", "90s", "--test", "60s", "--step", "30s"), "--step must be at least --test"),
        (("--train", "5m", "--test", "2m"), "too short for one window"),
        (("--train", "90 s", "--test", "60s"), "cannot read duration '90 s'"),
    ],
)
def test_bad_windows_are_refused_before_any_backtest(
    tmp_path: Path, args: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "wf"
    code = main(
        ["walkforward", str(DEMO), "--grid", "strategy.params.offset_ticks=0,1", *args, "--out", str(out)]
    )
    stderr = capsys.readouterr().err
    assert code == 2
    assert message in stderr
    assert not out.exists(), "nothing was run or written"
