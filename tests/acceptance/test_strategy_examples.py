"""Every strategy's example config, run the way a user runs it: `tradewright backtest examples/X.toml`.

Bar examples read ../shared/data (next to the repository on the development machines and in CI); the
L2 ones the recording bundled in data/. Each run must trade, write the whole run folder and a report.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import REPO, shared_data

EXAMPLES = {
    "avellaneda_stoikov": None,
    "spread_quoter": None,
    "grid_btc": "bars/nautilus/btc-perp-20211231-20220201_1m.csv.gz",
    "sma_cross_6e": "bars/nautilus/6EH4.XCME_1min_bars_20240101_20240131.csv.gz",
    "vwap_pullback_6e": "bars/nautilus/6EH4.XCME_1min_bars_20240101_20240131.csv.gz",
    "orb_6e": "bars/nautilus/6EH4.XCME_1min_bars_20240101_20240131.csv.gz",
    "mean_reversion_btc": "bars/nautilus/btc-perp-20211231-20220201_1m.csv.gz",
}
TAGGED = {"sma_cross_6e", "vwap_pullback_6e", "orb_6e", "mean_reversion_btc"}
FILES = (
    "orders.csv",
    "fills.csv",
    "equity.csv",
    "events.jsonl",
    "summary.json",
    "report.html",
    "config.toml",
)


def tradewright(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tradewright.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_the_example_runs_trades_and_writes_a_report(name: str, tmp_path: Path) -> None:
    if EXAMPLES[name] is not None:
        shared_data(EXAMPLES[name])  # skips when ../shared/data is not next to this clone
    result = tradewright(
        "backtest", str(REPO / "examples" / f"{name}.toml"), "--json", "--out", "run", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    folder = tmp_path / "run"
    for file in FILES:
        assert (folder / file).stat().st_size > 0, file
    assert int(summary["fills"]) > 0 and int(summary["orders_denied"]) == 0
    net = Decimal(summary["final_equity"]) - Decimal(summary["starting_balance"])
    assert net == Decimal(summary["realized_pnl"]) + Decimal(summary["unrealized_pnl"]) - Decimal(
        summary["fees"]
    )
    with (folder / "fills.csv").open() as fh:
        fills = list(csv.DictReader(fh))
    assert len(fills) == int(summary["fills"])
    if name in TAGGED:
        reasons = {row["tag_reason"] for row in fills}
        assert {"stop", "target"} & reasons and any(
            r.startswith(("sma_", "vwap_", "orb_", "bollinger_")) for r in reasons
        )
        entries = [row for row in fills if row["risk_r"]]
        assert entries and all(Decimal(row["risk_r"]) > 0 for row in entries)
        assert {row["tag_regime"] for row in entries} <= {"trend", "range", "neutral"}


def test_the_sma_cross_on_6eh4_gives_the_figures_in_docs_strategies(tmp_path: Path) -> None:
    shared_data(EXAMPLES["sma_cross_6e"])
    result = tradewright(
        "backtest", str(REPO / "examples" / "sma_cross_6e.toml"), "--json", "--out", "a", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    with (tmp_path / "a" / "fills.csv").open() as fh:
        entries = sum(1 for row in csv.DictReader(fh) if row["tag_reason"].startswith("sma_cross"))
    docs = (REPO / "docs" / "strategies.md").read_text()
    assert f"{entries:,} trades" in docs
    assert f"final equity {Decimal(summary['final_equity']):,.2f} USD" in docs
    again = tradewright(
        "backtest", str(REPO / "examples" / "sma_cross_6e.toml"), "--json", "--out", "b", cwd=tmp_path
    )
    assert again.returncode == 0, again.stderr
    for file in ("fills.csv", "orders.csv", "equity.csv"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes(), file


USER_STRATEGY = '''
"""A user's own bar strategy, in their own file: buy on the third bar, sell ten bars later."""

from decimal import Decimal
from typing import Annotated, Any

import msgspec

from tradewright.model.enums import OrderSide
from tradewright.strategy import Strategy


class HoldTen(Strategy):
    class Config(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
        contracts: Annotated[int, msgspec.Meta(ge=1)] = 1
        hold_bars: Annotated[int, msgspec.Meta(ge=1)] = 10

    def on_bar(self, bar: Any, **kw: Any) -> None:
        iid = self.instruments[0]
        size = Decimal(self.config.contracts)
        if bar.index == 2:
            self.ctx.submit(iid, OrderSide.BUY, size)
        elif bar.index == 2 + self.config.hold_bars:
            self.ctx.submit(iid, OrderSide.SELL, size)
'''


def test_a_strategy_in_the_users_own_file_runs_without_touching_the_package(tmp_path: Path) -> None:
    data = shared_data(EXAMPLES["sma_cross_6e"])
    (tmp_path / "my_strategy.py").write_text(USER_STRATEGY)
    (tmp_path / "mine.toml").write_text(
        f'[data]\nformat = "bars"\npaths = ["{data}"]\nstamped_at = "close"\ninstrument = "6EH4.XCME"\n\n'
        '[strategy]\npath = "my_strategy.py"\nclass = "HoldTen"\n\n[strategy.params]\ncontracts = 2\n'
    )
    result = tradewright("backtest", "mine.toml", "--json", "--out", "run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with (tmp_path / "run" / "fills.csv").open() as fh:
        fills = list(csv.DictReader(fh))
    assert [(row["side"], row["quantity"], row["position_after"]) for row in fills] == [
        ("BUY", "2", "2"),
        ("SELL", "2", "0"),
    ]
    bad = tradewright(
        "backtest", "mine.toml", "--set", "strategy.params.hold_bars=0", "--out", "bad", cwd=tmp_path
    )
    assert bad.returncode != 0 and "`strategy.params.hold_bars`: Expected `int` >= 1" in bad.stderr
