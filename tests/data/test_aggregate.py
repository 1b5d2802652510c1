"""Bars from trades: the XRP/ETH trades rebuild freqtrade's candle files exactly; the rules hold on any input."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow.feather as feather
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import shared_data
from tradewright.core.errors import ConfigError, DataError, GridError
from tradewright.core.ids import InstrumentId, Venue
from tradewright.data.aggregate import (
    AggregatedBars,
    TickBarAggregator,
    TimeBarAggregator,
    VolumeBarAggregator,
    tick_bars,
    time_bars,
    volume_bars,
)
from tradewright.data.bars import load_freqtrade_feather
from tradewright.model.data import Bar
from tradewright.model.instrument import Instrument, InstrumentKind

MINUTE_NS = 60_000_000_000

# Binance XRP/ETH in 2019: prices in 1e-8 ETH, sizes in whole XRP.
XRPETH = Instrument(
    id=InstrumentId("XRPETH", Venue("BINANCE")),
    kind=InstrumentKind.SPOT,
    base="XRP",
    quote="ETH",
    settle="ETH",
    tick_size=Decimal("0.00000001"),
    lot_size=Decimal("1"),
)


def xrp_eth_trades() -> tuple[np.ndarray, list[Decimal], list[Decimal]]:
    table = feather.read_table(shared_data("l2/freqtrade/XRP_ETH-trades.feather"))
    ts_ns = table["timestamp"].to_numpy() * 1_000_000
    prices = [Decimal(repr(p)) for p in table["price"].to_pylist()]
    sizes = [Decimal(repr(a)) for a in table["amount"].to_pylist()]
    return ts_ns, prices, sizes


def as_ticks(prices: list[Decimal], sizes: list[Decimal]) -> tuple[np.ndarray, np.ndarray]:
    ticks = np.array([XRPETH.price_to_ticks(p) for p in prices], dtype=np.int64)
    lots = np.array([XRPETH.size_to_lots(s) for s in sizes], dtype=np.int64)
    return ticks, lots


def run(
    aggregator: TimeBarAggregator | TickBarAggregator | VolumeBarAggregator,
    ts_ns: np.ndarray,
    prices: list[Decimal],
    sizes: list[Decimal],
) -> list[Bar]:
    bars = []
    for ts, price, size in zip(ts_ns.tolist(), prices, sizes, strict=True):
        bar = aggregator.update(ts, price, size)
        if bar is not None:
            bars.append(bar)
    return bars


@pytest.mark.parametrize("minutes", [1, 5])
def test_time_bars_from_xrp_eth_trades_equal_the_candle_file_exactly(minutes: int) -> None:
    # The candle files cover the same 2,469 (706) intervals as the trades, and every open, high, low,
    # close and volume agrees exactly: freqtrade built these candles from these trades (its
    # trades-to-OHLCV conversion) and, like us, makes no bar for a minute without trades. So there is
    # no systematic difference to explain; Binance's own klines could differ (they count every fill,
    # aggTrades merge fills of one taker order at one price, which changes no OHLC and no volume).
    ts_ns, prices, sizes = xrp_eth_trades()
    interval = minutes * MINUTE_NS
    aggregator = TimeBarAggregator(XRPETH, interval)
    bars = run(aggregator, ts_ns, prices, sizes)
    last = aggregator.flush(int(ts_ns[-1]) + interval)
    assert last is not None
    bars.append(last)
    candles = load_freqtrade_feather(shared_data(f"bars/freqtrade/XRP_ETH-{minutes}m.feather"), XRPETH)
    assert len(bars) == len(candles) == {1: 2469, 5: 706}[minutes]
    assert [b.ts_event - interval for b in bars] == candles.ts_open_ns.tolist()
    assert all(b.interval_ns == interval and b.instrument_id == XRPETH.id for b in bars)
    for name in ("open", "high", "low", "close"):
        ticks = getattr(candles, f"{name}_ticks")
        assert [XRPETH.price_to_ticks(getattr(b, name)) for b in bars] == ticks.tolist(), name
    assert [b.volume for b in bars] == [Decimal(repr(v)) for v in candles.volume.tolist()]


def test_vectorised_bars_equal_the_incremental_ones_on_real_trades() -> None:
    ts_ns, prices, sizes = xrp_eth_trades()
    ticks, lots = as_ticks(prices, sizes)
    cases = [
        (lambda: TimeBarAggregator(XRPETH, MINUTE_NS), lambda: time_bars(ts_ns, ticks, lots, MINUTE_NS)),
        (lambda: TickBarAggregator(XRPETH, 50), lambda: tick_bars(ts_ns, ticks, lots, 50)),
        (
            lambda: VolumeBarAggregator(XRPETH, Decimal(50_000)),
            lambda: volume_bars(ts_ns, ticks, lots, 50_000),
        ),
    ]
    for make, vectorised in cases:
        aggregator = make()
        bars = run(aggregator, ts_ns, prices, sizes)
        if isinstance(aggregator, TimeBarAggregator):
            tail = aggregator.flush(int(ts_ns[-1]) + MINUTE_NS)
            assert tail is not None
            bars.append(tail)
        assert_same_bars(bars, vectorised())


def assert_same_bars(bars: list[Bar], arrays: AggregatedBars) -> None:
    assert len(bars) == len(arrays) > 0
    assert [b.ts_event for b in bars] == arrays.ts_close_ns.tolist()
    for name in ("open", "high", "low", "close"):
        assert [XRPETH.price_to_ticks(getattr(b, name)) for b in bars] == getattr(arrays, name).tolist()
    assert [XRPETH.size_to_lots(b.volume) for b in bars] == arrays.volume.tolist()


def test_volume_bars_close_on_the_crossing_trade_without_splitting_it() -> None:
    ts_ns, prices, sizes = xrp_eth_trades()
    ticks, lots = as_ticks(prices, sizes)
    threshold = 20_000
    bars = volume_bars(ts_ns, ticks, lots, threshold, include_partial=True)
    last_trade = np.r_[np.cumsum(bars.trades)] - 1
    full = bars.volume[:-1]
    assert (full >= threshold).all()
    assert (full - lots[last_trade[:-1]] < threshold).all()  # it was the last trade that crossed
    assert bars.volume[-1] < threshold  # the unfinished tail
    assert bars.volume.sum() == lots.sum()  # nothing lost, nothing carried twice
    assert bars.trades.sum() == len(lots)


def test_a_trade_on_the_boundary_opens_the_next_time_bar() -> None:
    aggregator = TimeBarAggregator(XRPETH, MINUTE_NS)
    assert aggregator.update(0, Decimal("0.001"), Decimal(1)) is None
    assert aggregator.update(MINUTE_NS - 1, Decimal("0.002"), Decimal(2)) is None
    closed = aggregator.update(MINUTE_NS, Decimal("0.003"), Decimal(4))
    assert closed is not None
    assert (closed.open, closed.high, closed.low, closed.close) == (
        Decimal("0.00100000"),
        Decimal("0.00200000"),
        Decimal("0.00100000"),
        Decimal("0.00200000"),
    )
    assert closed.volume == 3
    assert closed.ts_event == MINUTE_NS and closed.ts_init == MINUTE_NS


def test_flush_closes_a_time_bar_only_once_its_interval_has_ended() -> None:
    aggregator = TimeBarAggregator(XRPETH, MINUTE_NS, origin_ns=30_000_000_000)
    aggregator.update(40_000_000_000, Decimal("0.001"), Decimal(1))
    assert aggregator.flush(89_999_999_999) is None
    bar = aggregator.flush(95_000_000_000)
    assert bar is not None and bar.ts_event == 90_000_000_000 and bar.ts_init == 95_000_000_000
    assert aggregator.flush(200_000_000_000) is None


def test_empty_intervals_make_no_bars() -> None:
    aggregator = TimeBarAggregator(XRPETH, MINUTE_NS)
    aggregator.update(0, Decimal("0.001"), Decimal(1))
    closed = aggregator.update(10 * MINUTE_NS + 5, Decimal("0.002"), Decimal(1))
    assert closed is not None and closed.ts_event == MINUTE_NS


def test_a_trade_before_the_open_time_bar_is_a_data_error() -> None:
    aggregator = TimeBarAggregator(XRPETH, MINUTE_NS)
    aggregator.update(5 * MINUTE_NS, Decimal("0.001"), Decimal(1))
    aggregator.update(5 * MINUTE_NS + 1, Decimal("0.001"), Decimal(1))  # same bar: fine
    with pytest.raises(DataError, match="earlier than the open bar"):
        aggregator.update(4 * MINUTE_NS, Decimal("0.001"), Decimal(1))
    with pytest.raises(DataError, match="earlier than the trade before it"):
        time_bars(np.array([2, 1]), np.array([1, 1]), np.array([1, 1]), MINUTE_NS)


def test_off_grid_trades_and_bad_parameters_are_refused() -> None:
    with pytest.raises(GridError, match="not on the tick grid"):
        TickBarAggregator(XRPETH, 2).update(0, Decimal("0.000000001"), Decimal(1))
    with pytest.raises(ConfigError, match="trades_per_bar"):
        TickBarAggregator(XRPETH, 0)
    with pytest.raises(ConfigError, match="interval_ns"):
        TimeBarAggregator(XRPETH, 0)
    with pytest.raises(ConfigError, match="volume_per_bar"):
        VolumeBarAggregator(XRPETH, Decimal(0))


def test_tick_bars_carry_the_first_to_last_trade_span() -> None:
    aggregator = TickBarAggregator(XRPETH, 3)
    assert aggregator.update(10, Decimal("0.001"), Decimal(1)) is None
    assert aggregator.update(15, Decimal("0.003"), Decimal(1)) is None
    bar = aggregator.update(40, Decimal("0.002"), Decimal(1))
    assert bar is not None and bar.ts_event == 40 and bar.interval_ns == 30 and bar.high == Decimal("0.003")


trades = st.lists(
    st.tuples(st.integers(0, 10 * MINUTE_NS), st.integers(1, 10_000), st.integers(0, 500)),
    min_size=1,
    max_size=200,
).map(sorted)


@given(
    trades=trades, interval_s=st.integers(1, 120), per_bar=st.integers(1, 30), volume=st.integers(1, 2_000)
)
def test_incremental_and_vectorised_aggregation_agree_on_any_trades(
    trades: list[tuple[int, int, int]], interval_s: int, per_bar: int, volume: int
) -> None:
    ts_ns = np.array([t for t, _, _ in trades], dtype=np.int64)
    ticks = np.array([p for _, p, _ in trades], dtype=np.int64)
    lots = np.array([q for _, _, q in trades], dtype=np.int64)
    interval = interval_s * 1_000_000_000
    for aggregator, arrays in (
        (TimeBarAggregator(XRPETH, interval), time_bars(ts_ns, ticks, lots, interval)),
        (TickBarAggregator(XRPETH, per_bar), tick_bars(ts_ns, ticks, lots, per_bar)),
        (VolumeBarAggregator(XRPETH, Decimal(volume)), volume_bars(ts_ns, ticks, lots, volume)),
    ):
        bars = [b for t, p, q in trades if (b := aggregator.update_ticks(t, p, q)) is not None]
        if isinstance(aggregator, TimeBarAggregator):
            tail = aggregator.flush(int(ts_ns[-1]) + interval)
            assert tail is not None
            bars.append(tail)
            assert lots.sum() == arrays.volume.sum()
        if bars:
            assert_same_bars(bars, arrays)
        else:
            assert len(arrays) == 0
        assert (arrays.high >= np.maximum(arrays.open, arrays.close)).all()
        assert (arrays.low <= np.minimum(arrays.open, arrays.close)).all()
