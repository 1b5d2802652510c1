"""A stream replayed chunk by chunk from a Parquet cache gives exactly the run the whole stream gives:
the same orders, fills, equity rows and final state, whatever the chunk size and the latencies."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import REPO, bundled_data
from tradewright.backtest.engine import BacktestEngine, BacktestResult
from tradewright.data.binance import load_binance
from tradewright.data.cache import iter_stream, read_summary, write_stream_chunks
from tradewright.model.columnar import MarketStream
from tradewright.sim.latency import ConstantLatency

sys.path.insert(0, str(REPO / "examples"))
from symmetric_mm import SymmetricMarketMaker, SymmetricMMConfig


@pytest.fixture(scope="module")
def stream() -> MarketStream:
    return load_binance(bundled_data("binance/binance_usdm_btcusdt_20240808.jsonl.gz"))


def _run(
    source: MarketStream | object, instrument_stream: MarketStream, md_latency_ns: int
) -> BacktestResult:
    inst = instrument_stream.instrument
    engine = BacktestEngine(
        source,  # type: ignore[arg-type]
        starting_balance=Decimal(10_000),
        latency=ConstantLatency(2_000_000, 2_000_000),
        market_data_latency_ns=md_latency_ns,
        equity_sample_ns=250_000_000,
    )
    cfg = SymmetricMMConfig(size=Decimal("0.002"), max_position=Decimal("0.010"), offset_ticks=0)
    engine.add_strategy(SymmetricMarketMaker("MM", [inst.id], cfg))
    return engine.run()


def _outcome(result: BacktestResult) -> tuple[object, ...]:
    orders = [(o.client_order_id, o.status, o.filled_qty, o.avg_px) for o in result.kernel.orders.all_orders]
    return orders, result.recorder.fills, result.recorder.equity, result.rows


@pytest.mark.parametrize("md_latency_ns", [0, 1_000_000])
def test_a_stream_replayed_in_chunks_from_parquet_gives_the_same_run(
    stream: MarketStream, tmp_path: Path, md_latency_ns: int
) -> None:
    chunk = 50_000  # two row groups of 25,000 rows per written chunk
    path = write_stream_chunks(
        (stream.slice(i, i + chunk) for i in range(0, len(stream), chunk)),
        tmp_path / "s.parquet",
        row_group_rows=25_000,
    )
    assert read_summary(path).rows == len(stream)

    whole = _run(stream, stream, md_latency_ns)
    chunked = _run(iter_stream(path, chunk_rows=25_000), stream, md_latency_ns)

    assert chunked.stops["refill"] == (len(stream) - 1) // 25_000
    assert len(whole.recorder.fills) > 100
    assert _outcome(chunked) == _outcome(whole)
