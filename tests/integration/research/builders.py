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
