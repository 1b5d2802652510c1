"""What a user reads when they typed something wrong: the closest valid name and every valid one,
CLI flags rather than Python parameters, and a strategy's own file and line when it raised."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO, shared_data
from tradewright.cli.main import main

DEMO = REPO / "examples" / "demo_mm.toml"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_an_unknown_config_key_names_the_closest_key_and_lists_the_valid_ones(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "backtest", str(DEMO), "--set", "venue.queue_powr=3", "--out", str(tmp_path))

    assert code == 2
    assert "unknown config key `venue.queue_powr` (did you mean `venue.queue_power`?)" in err
    assert "valid keys of [venue]: " in err and " cancel_latency_us," in err


def test_an_unknown_choice_lists_the_valid_values(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(
        capsys, "backtest", str(DEMO), "--set", 'venue.queue_model="powr"', "--out", str(tmp_path)
    )

    assert code == 2
    assert (
        "invalid value for `venue.queue_model` (not shown) (did you mean `power`?)" in err
        and "powr" not in err
    )
    assert "valid values: conservative, log, power" in err


def test_a_misspelt_strategy_parameter_names_the_closest_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(
        capsys, "backtest", str(DEMO), "--set", "strategy.params.ofset_ticks=1", "--out", str(tmp_path)
    )

    assert code == 2
    assert "(did you mean `strategy.params.offset_ticks`?)" in err


def test_a_tardis_file_without_its_grid_names_the_options_that_give_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    trades = shared_data("l2/nautilus/tardis_bitmex_trades_XBTUSD.csv")

    code, _, err = run(capsys, "data", "import", str(trades), "--out", str(tmp_path))

    assert code == 2
    assert "pass --instrument SPEC.json (an instrument spec) or --infer-grid" in err
    assert "infer_grid" not in err and "instrument=" not in err


def test_importing_a_bar_file_points_to_bar_backtests(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bars = shared_data("bars/backtrader/2006-min-005.txt")

    code, _, err = run(capsys, "data", "import", str(bars), "--out", str(tmp_path))

    assert code == 2
    assert "looks like a bar (OHLCV) file" in err and '[data] format = "bars"' in err


@pytest.fixture
def raising_strategy(tmp_path: Path) -> Path:
    (tmp_path / "boom.py").write_text(
        "from tradewright.strategy.base import Strategy\n\n\n"
        "class Boom(Strategy):\n"
        "    def on_book(self, book) -> None:\n"
        "        spread = book.best_ask_tick - book.best_bid_tick\n"
        "        self.ratio = spread / 0\n"
    )
    text = DEMO.read_text().replace('path = "symmetric_mm.py"', 'path = "boom.py"')
    text = text.replace('class = "SymmetricMarketMaker"', 'class = "Boom"')
    text = text.replace('"../data/', f'"{REPO / "data"}/').split("[strategy.params]")[0]
    config = tmp_path / "boom.toml"
    config.write_text(text)
    return config


def test_a_strategy_that_raises_is_named_by_its_file_and_line_and_debug_shows_the_traceback(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    raising_strategy: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "backtest", str(raising_strategy), "--quiet", "--out", str(tmp_path / "out"))

    assert code == 2
    assert "error: strategy MM raised in on_book: ZeroDivisionError" in err
    assert "at boom.py:7 in on_book: self.ratio = spread / 0" in err
    assert "Traceback" not in err and "--debug" in err
    assert not (tmp_path / "out").exists()

    code, _, err = run(
        capsys, "backtest", str(raising_strategy), "--quiet", "--debug", "--out", str(tmp_path / "out")
    )

    assert code == 2
    assert "Traceback (most recent call last)" in err and 'boom.py", line 7, in on_book' in err
