"""The first hour of a new user, as they meet it: run folders that never lose a result, a backtest that
can be interrupted and read through a pipe, and a PnL attribution that adds up without a remainder.

(Every command block of README.md and docs/*.md is run, piped and under a pseudo-terminal, by
tests/acceptance/test_docs.py.)
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import REPO, shared_data
from tradewright.analysis.run_analysis import analyse_run
from tradewright.analysis.run_outputs import load_run
from tradewright.backtest.runner import run_backtest
from tradewright.config.run import load_run_config

DEMO = REPO / "examples" / "demo_mm.toml"
SMA_6E = REPO / "examples" / "sma_cross_6e.toml"


def backtest(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tradewright.cli.main", "backtest", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_concurrent_backtests_into_one_folder_both_keep_their_results(tmp_path: Path) -> None:
    out = tmp_path / "same"
    first = backtest(str(DEMO), "--json", "--out", str(out), cwd=tmp_path)
    second = backtest(str(DEMO), "--json", "--out", str(out), cwd=tmp_path)
    results = [p.communicate(timeout=300) for p in (first, second)]

    assert [p.returncode for p in (first, second)] == [0, 0], [err for _, err in results]
    folders = {Path(json.loads(stdout)["output_folder"]) for stdout, _ in results}
    assert len(folders) == 2 and out in folders, "one run took the folder, the other a dated one beside it"
    for folder in folders:
        assert json.loads((folder / "summary.json").read_text())["output_folder"] == str(folder)
        assert (folder / "report.html").stat().st_size > 0
    assert not list(tmp_path.glob(".*")), "no lock or partial folder is left behind"


def test_two_concurrent_overwrites_of_one_folder_fail_one_loudly(tmp_path: Path) -> None:
    """The two runs overlap by construction, however loaded the machine: the first is paused (SIGSTOP)
    while it holds the folder, the second starts and ends meanwhile, then the first goes on."""
    out = tmp_path / "same"
    lock = tmp_path / ".same.lock"  # where a run writing `same` says who it is
    first = backtest(str(DEMO), "--quiet", "--overwrite", "--out", str(out), cwd=tmp_path)
    try:
        deadline = time.monotonic() + 300
        while first.poll() is None and time.monotonic() < deadline:
            if lock.exists() and lock.read_text(encoding="utf-8").strip() == f"pid {first.pid}":
                break
            time.sleep(0.01)
        assert first.poll() is None, first.communicate()
        first.send_signal(signal.SIGSTOP)
        second = backtest(str(DEMO), "--quiet", "--overwrite", "--out", str(out), cwd=tmp_path)
        _, loser = second.communicate(timeout=300)
    finally:
        first.send_signal(signal.SIGCONT)
    _, winner = first.communicate(timeout=300)

    assert first.returncode == 0, winner
    assert second.returncode == 2, loser
    assert f"is writing {out} right now" in loser and f"pid {first.pid}" in loser
    assert (out / "report.html").exists()
    assert not list(tmp_path.glob(".*")), "no lock or partial folder is left behind"


def test_a_second_run_into_a_folder_keeps_the_first_and_overwrite_replaces_it(tmp_path: Path) -> None:
    config = load_run_config(DEMO, {"strategy.params.offset_ticks": 1})
    out = str(tmp_path / "run")
    first, _ = run_backtest(config, out=out)
    stamp = (first / "summary.json").read_text()

    second, summary = run_backtest(config, out=out)

    assert second != first and second.name.startswith("run-") and summary["output_folder"] == str(second)
    assert (first / "summary.json").read_text() == stamp, "the first run is untouched"
    third, _ = run_backtest(config, out=out, overwrite=True)
    assert third == first and (first / "summary.json").read_text() != stamp
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", second.name]


def test_ctrl_c_during_a_backtest_says_it_was_interrupted_and_that_nothing_was_kept(tmp_path: Path) -> None:
    out = tmp_path / "interrupted"
    proc = backtest(str(DEMO), "--progress-every", "0.05", "--out", str(out), cwd=tmp_path)
    assert proc.stderr is not None
    line = proc.stderr.readline()  # the first progress line: the replay is under way
    assert line.startswith("backtest: "), line
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=120)

    assert proc.returncode == 130
    assert "interrupted after" in rest and "of 598,703 events" in rest
    assert (
        f"Nothing of this run was kept: a run folder is written only when the run completes; no folder was created at {out}"
        in rest
    )
    assert "Traceback" not in rest and "KeyboardInterrupt" not in rest
    assert not out.exists() and not list(tmp_path.glob(".*"))


def test_a_reader_that_stops_early_gets_no_broken_pipe_traceback(tmp_path: Path) -> None:
    shell = (
        f"{sys.executable} -m tradewright.cli.main backtest {DEMO} --quiet --out {tmp_path / 'r'} | head -n 1"
    )
    done = subprocess.run(["bash", "-c", shell], cwd=tmp_path, capture_output=True, text=True, timeout=300)

    assert done.stdout.startswith("backtest demo_mm · BTCUSDT-PERP.BINANCE")
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr


@pytest.mark.parametrize("config", [DEMO, SMA_6E], ids=["demo", "sma_cross_6e"])
def test_pnl_attribution_has_nothing_left_in_other_when_cash_moves_only_through_fills(
    config: Path, tmp_path: Path
) -> None:
    if config == SMA_6E:
        shared_data("bars/nautilus/6EH4.XCME_1min_bars_20240101_20240131.csv.gz")
    folder, summary = run_backtest(load_run_config(config), out=str(tmp_path / "run"))

    attribution = analyse_run(load_run(folder)).market_making
    assert attribution is not None
    at = attribution.attribution
    assert at.other == 0
    assert at.spread_captured - at.fees + at.inventory == at.total
    assert at.total == Decimal(summary["net_pnl"])
    page = (folder / "report.html").read_text()
    assert re.search(r'other \(funding, settlement, …\)</th><td class="num">0(\.0+)?<', page), (
        "the page shows 0"
    )


def test_the_terminal_summary_rounds_money_to_the_currency(tmp_path: Path) -> None:
    shared_data("bars/nautilus/6EH4.XCME_1min_bars_20240101_20240131.csv.gz")
    proc = backtest(str(SMA_6E), "--quiet", "--out", str(tmp_path / "r"), cwd=tmp_path)
    stdout, stderr = proc.communicate(timeout=300)

    assert proc.returncode == 0, stderr
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    lines = {line.split("  ")[1].strip(): line for line in stdout.splitlines() if line.startswith("  ")}
    assert "10,327.27 USD" in lines["fees"] and summary["fees"] == "10327.2705625000"
    for label in ("net PnL", "round trips", "Sharpe", "max drawdown", "fills"):
        assert label in lines, stdout
    assert "win rate" in lines["round trips"] and "annualised, cme calendar" in lines["Sharpe"]


def test_the_demo_backtest_loads_no_database_or_dataframe_library(tmp_path: Path) -> None:
    """A backtest's start stays short: the CLI does not load the state store's SQLAlchemy and Alembic
    (only `db`, `api`, `live` and runs with a store need them), and parsing a recording does not make
    pyarrow load pandas (docs/benchmarks.md, "The first run")."""
    probe = (
        "import json, sys\n"
        "from tradewright.cli.main import main\n"
        f"code = main(['backtest', {str(DEMO)!r}, '--quiet', '--out', {str(tmp_path / 'run')!r}])\n"
        "heavy = ('sqlalchemy', 'alembic', 'pandas')\n"
        "print(json.dumps([code, sorted(m for m in heavy if m in sys.modules)]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )

    assert json.loads(out.stdout.strip().splitlines()[-1]) == [0, []], out.stderr[-3000:]
