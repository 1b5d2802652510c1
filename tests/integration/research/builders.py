"""Short configs for research tests: the demo market maker on a slice of the bundled recording."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, bundled_data

RECORDING = "binance/binance_usdm_btcusdt_20240808.jsonl.gz"
# 12 configurations: 4 offsets × 3 inventory limits.
GRID_12 = ("strategy.params.offset_ticks=0..3", 'strategy.params.max_position="0.004","0.006","0.010"')


def write_slice(target: Path, seconds: float, *, start_s: float = 0.0) -> Path:
    """Write `seconds` of the demo recording (from `start_s` in) as a Parquet stream; return its path."""
    from tradewright.data.cache import write_stream
    from tradewright.data.loading import load_stream
    from tradewright.research.data_slices import window_stream

    stream = load_stream([bundled_data(RECORDING)], fmt="binance")
    start = int(stream.ts_recv[0]) + int(start_s * 1e9)
    write_stream(window_stream(stream, start, start + int(seconds * 1e9)), target)
    return target


def write_config(folder: Path, data: Path, *, name: str = "mm", extra: str = "") -> Path:
    """A run config of the demo strategy reading `data` (a Parquet stream)."""
    config = folder / f"{name}.toml"
    config.write_text(
        f"""# a short market-making run for research tests
[run]
name = "{name}"
seed = 7
equity_sample_ms = 250

[data]
paths = ["{data}"]
format = "parquet"

[venue]
queue_model = "power"
order_latency_us = 2_000
response_latency_us = 2_000
market_data_latency_us = 1_000

[account]
starting_balance = "10000"

[strategy]
path = "{REPO / "examples" / "symmetric_mm.py"}"
class = "SymmetricMarketMaker"
id = "MM"

[strategy.params]
size = "0.002"
max_position = "0.010"
offset_ticks = 0
{extra}"""
    )
    return config


def tradewright(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tradewright.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def grid_args(grid: tuple[str, ...] = GRID_12) -> list[str]:
    return [arg for g in grid for arg in ("--grid", g)]


BAR_SERIES = "bars/nautilus/6EH4.XCME_1min_bars_20240101_20240131.csv.gz"

# A small bar strategy of the test's own: long one contract while SMA(fast) is above SMA(slow), short
# while it is below (market orders at the next open).
CROSS_STRATEGY = """
from decimal import Decimal
from typing import Annotated, Any

import msgspec

from tradewright.indicators import SMA
from tradewright.model.enums import OrderSide
from tradewright.strategy.base import Strategy


class CrossConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    fast: Annotated[int, msgspec.Meta(ge=1)] = 10
    slow: Annotated[int, msgspec.Meta(ge=2)] = 30
    size: Decimal = Decimal(1)


class Cross(Strategy):
    Config = CrossConfig

    def __init__(self, strategy_id, instruments, config):
        super().__init__(strategy_id, instruments, config)
        if config.fast >= config.slow:
            raise ValueError(f"strategy.params.fast ({config.fast}) must be below slow ({config.slow})")
        self.cfg = config
        self.iid = instruments[0]
        self.fast = SMA(config.fast)
        self.slow = SMA(config.slow)

    def on_bar(self, bar, **kw: Any) -> None:
        self.fast.update(bar.close)
        self.slow.update(bar.close)
        if self.slow.value != self.slow.value:
            return
        want = self.cfg.size if self.fast.value > self.slow.value else -self.cfg.size
        have = self.ctx.position(self.iid).quantity
        if want != have and not self.ctx.open_orders(self.iid):
            side = OrderSide.BUY if want > have else OrderSide.SELL
            self.ctx.submit(self.iid, side, abs(want - have))
"""


def write_bar_config(folder: Path, bars: Path, *, name: str = "cross") -> Path:
    """A bar run config (6E futures minute bars) of the test's own SMA cross strategy."""
    strategy = folder / "cross.py"
    strategy.write_text(CROSS_STRATEGY)
    config = folder / f"{name}.toml"
    config.write_text(
        f"""[run]
name = "{name}"
equity_sample_ms = 60_000

[data]
format = "bars"
paths = ["{bars}"]
stamped_at = "close"
instrument = "6EH4.XCME"

[venue]
slippage_ticks = 1

[account]
starting_balance = "100000"

[strategy]
path = "{strategy}"
class = "Cross"
id = "X"

[strategy.params]
fast = 10
slow = 30
"""
    )
    return config
