"""B6, the bar strategies: their signals, their stops and targets, ATR sizing in R, regimes, trade tags."""

from __future__ import annotations

import io
from decimal import ROUND_FLOOR, Decimal

import pytest

from tests.conftest import shared_data
from tests.unit.strategies.kit import MINUTE, MNQ, make_bars, order_tags, run_bars
from tradewright.core.ids import InstrumentId
from tradewright.data.bars import load_bars
from tradewright.indicators import SMA
from tradewright.model.enums import OrderSide, OrderType
from tradewright.model.instrument import Instrument, InstrumentKind
from tradewright.model.orders import Order
from tradewright.strategies import (
    MeanReversion,
    MeanReversionConfig,
    OpeningRangeRetest,
    OpeningRangeRetestConfig,
    Regime,
    RegimeConfig,
    RegimeDetector,
    SmaCross,
    SmaCrossConfig,
    VwapPullback,
    VwapPullbackConfig,
    atr_position_size,
    stop_distance_ticks,
)
from tradewright.strategies.bracket import BracketStrategy

D = Decimal
TUE_1400_UTC = 1_704_204_000_000_000_000  # 2024-01-02 14:00 UTC = 08:00 Chicago
MON_2300_UTC = 1_704_150_000_000_000_000  # 2024-01-01 23:00 UTC = 17:00 Chicago: Globex opens


def orders(strategy: BracketStrategy) -> list[Order]:
    return list(strategy.ctx._kernel.orders.all_orders)  # type: ignore[attr-defined]


def flat(n: int, level: int = 1000, wiggle: int = 2) -> list[tuple[int, int, int, int]]:
    """`n` quiet bars alternating a little around `level`."""
    out = []
    for i in range(n):
        c = level + (wiggle if i % 2 else -wiggle) // 2
        out.append((level, max(level, c) + 1, min(level, c) - 1, c))
    return out


# --- ATR sizing and the stop distance ---------------------------------------------------------------------


def test_atr_sizing_halves_the_size_when_the_atr_doubles() -> None:
    # MNQ: 0.25 a tick, 2 USD a point. R = 200 USD, stop 1 ATR away.
    ten = atr_position_size(D(200), stop_distance_ticks(10.0, 1.0, MNQ), MNQ)  # 40 ticks = 20 USD/contract
    twenty = atr_position_size(D(200), stop_distance_ticks(20.0, 1.0, MNQ), MNQ)
    assert (ten, twenty) == (D(10), D(5))
    assert stop_distance_ticks(10.0, 1.5, MNQ) == 60 and stop_distance_ticks(0.01, 2.0, MNQ) == 1


def test_in_a_strategy_the_entry_size_halves_when_the_bars_are_twice_as_wide() -> None:
    closes = [1000] * 20 + [1000 - 2 * i for i in range(1, 16)] + [970 + 4 * i for i in range(1, 16)]
    cfg = SmaCrossConfig(
        fast=3, slow=8, atr_period=5, stop_atr=1.0, target_r=0, risk_per_trade=D(400), use_regime=False
    )

    def entry_size(half_range: int) -> Decimal:
        bars = make_bars(MNQ, [(c, c + half_range, c - half_range, c) for c in closes])
        strategy = SmaCross("SMA", [MNQ.id], cfg)
        run_bars(bars, strategy)
        first = next(o for o in orders(strategy) if o.order_type is OrderType.MARKET)
        return first.quantity

    narrow, wide = entry_size(4), entry_size(8)  # true range 8 vs 16 ticks
    assert wide * 2 == narrow and narrow > 0


# --- SMA cross ----------------------------------------------------------------------------------------------


def test_sma_cross_enters_on_the_cross_with_a_stop_and_a_target_and_cancels_the_target_when_stopped() -> None:
    closes = [1000] * 20 + [1000 + 3 * i for i in range(1, 8)] + [1021] * 3
    rows = [(c, c + 2, c - 2, c) for c in closes] + [(1021, 1022, 990, 1020), (1020, 1022, 1018, 1021)]
    bars = make_bars(MNQ, rows)  # the last-but-one bar dips through the stop and closes back up: no cross
    cfg = SmaCrossConfig(fast=3, slow=8, atr_period=5, stop_atr=2.0, target_r=2.0, risk_per_trade=D(100))
    strategy = SmaCross("SMA", [MNQ.id], cfg)
    events = io.BytesIO()
    run_bars(bars, strategy, events=events)
    tags = order_tags(events.getvalue())
    entry, stop, target, *_ = orders(strategy)
    assert entry.order_type is OrderType.MARKET and entry.side is OrderSide.BUY
    entry_tick = MNQ.price_to_ticks(entry.avg_px)
    assert stop.order_type is OrderType.STOP_MARKET and stop.reduce_only and stop.side is OrderSide.SELL
    assert stop.trigger_price is not None and target.price is not None
    distance = entry_tick - MNQ.price_to_ticks(stop.trigger_price)
    assert distance > 0 and MNQ.price_to_ticks(target.price) - entry_tick == 2 * distance
    assert stop.status.value == "FILLED" and target.status.value == "CANCELED"
    entry_tags, stop_tags = tags[entry.client_order_id], tags[stop.client_order_id]
    assert entry_tags["reason"] == "sma_cross_up" and "regime" in entry_tags
    assert D(entry_tags["risk"]) == MNQ.ticks_to_price(distance) * entry.quantity * MNQ.multiplier
    assert stop_tags["reason"] == "stop"


def test_sma_cross_all_in_all_out_matches_an_independent_replay_of_the_same_rule() -> None:
    inst = Instrument(
        id=InstrumentId.parse("BTC-PERP.FTX"),
        kind=InstrumentKind.PERPETUAL,
        base="BTC",
        quote="USD",
        settle="USD",
        tick_size=D("0.125"),
        lot_size=D("0.0001"),
    )
    series = load_bars(shared_data("bars/nautilus/btc-perp-20211231-20220201_1m.csv.gz"), inst)
    cfg = SmaCrossConfig(fast=10, slow=30, sizing="all_in", stop_atr=0, target_r=0, use_regime=False)
    strategy = SmaCross("SMA", [inst.id], cfg)
    engine = run_bars(series, strategy, balance=D(100_000), record=False)
    # The same rule, by hand: signal at a bar's close, fill at the next bar's open, exact cash.
    fast, slow, above = SMA(10), SMA(30), None
    cash, qty, trips = D(100_000), D(0), 0
    opens, closes = series.open_ticks.tolist(), series.close_ticks.tolist()  # type: ignore[union-attr]
    for k, close in enumerate(series.close.tolist()[:-1]):
        fast.update(close)
        slow.update(close)
        if not slow.ready:
            continue
        now = fast.value > slow.value
        if above is not None and now != above:
            fill = inst.ticks_to_price(opens[k + 1])
            if now and qty == 0:
                qty = (cash / inst.ticks_to_price(closes[k]) / inst.lot_size).to_integral_value(
                    ROUND_FLOOR
                ) * inst.lot_size
                cash -= fill * qty
            elif not now and qty > 0:
                cash, qty, trips = cash + fill * qty, D(0), trips + 1
        above = now
    sells = [
        o for o in engine.kernel.orders.all_orders if o.side is OrderSide.SELL and o.status.value == "FILLED"
    ]
    assert len(sells) == trips > 500
    assert engine.final_equity() == cash + qty * inst.ticks_to_price(closes[-1])


# --- opening range breakout -----------------------------------------------------------------------------


def test_orb_takes_no_trade_inside_the_opening_range_and_enters_on_the_retest_after_the_break() -> None:
    pre = flat(30)  # 08:00-08:29 Chicago: before the 08:30 RTH open
    opening = flat(30)  # 08:30-08:59: the opening range ...
    opening[10] = (1000, 1030, 1000, 1028)  # ... with a spike that would look like a breakout
    opening[20] = (1000, 1001, 990, 992)
    after = [(1028, 1042, 1027, 1040), (1040, 1041, 1031, 1036), (1036, 1038, 1035, 1037), *flat(10, 1037)]
    bars = make_bars(MNQ, pre + opening + after, start_ns=TUE_1400_UTC)
    cfg = OpeningRangeRetestConfig(range_minutes=30, retest_ticks=2, atr_period=5, risk_per_trade=D(100))
    strategy = OpeningRangeRetest("ORB", [MNQ.id], cfg)
    run_bars(bars, strategy)
    assert (strategy.range_high, strategy.range_low) == (1030, 990)
    sent = orders(strategy)
    assert sent, "no trade at all"
    range_end = TUE_1400_UTC + 60 * MINUTE
    assert all(o.ts_init > range_end for o in sent)  # nothing while the range was forming
    entry = sent[0]
    assert (
        entry.side is OrderSide.BUY and entry.ts_init == TUE_1400_UTC + 62 * MINUTE
    )  # the retest bar's close
    assert [o.order_type for o in sent[1:3]] == [OrderType.STOP_MARKET, OrderType.LIMIT]


def test_orb_closes_its_position_when_the_session_ends() -> None:
    # 6 h 45 min of RTH bars from 08:30 Chicago; the range, a break, a retest, then quiet until 15:15.
    bars_ = [*flat(30), (1001, 1012, 1000, 1010), (1010, 1011, 1002, 1006), *flat(373, 1006), *flat(5, 1006)]
    bars = make_bars(MNQ, bars_, start_ns=TUE_1400_UTC + 30 * MINUTE)
    cfg = OpeningRangeRetestConfig(range_minutes=30, atr_period=5, stop_atr=20.0, target_r=5.0)
    strategy = OpeningRangeRetest("ORB", [MNQ.id], cfg)
    engine = run_bars(bars, strategy)
    sent = orders(strategy)
    assert sent[0].side is OrderSide.BUY
    exit_order = sent[-1]
    assert exit_order.reduce_only and exit_order.order_type is OrderType.MARKET
    assert exit_order.ts_init == TUE_1400_UTC + (30 + 405) * MINUTE  # the close of the 15:14 bar
    assert engine.kernel.portfolio.position(MNQ).quantity == 0


# --- VWAP pullback and mean reversion ---------------------------------------------------------------------


def test_vwap_pullback_buys_the_dip_to_vwap_in_an_uptrend_and_nothing_before_it() -> None:
    rise = [(1000 + 2 * i, 1002 + 2 * i, 999 + 2 * i, 1002 + 2 * i) for i in range(60)]
    dip = (1120, 1123, 1055, 1122)  # down to the session VWAP (~1062) and back up, closing above its open
    bars = make_bars(MNQ, [*rise, dip, *flat(5, 1122)], start_ns=MON_2300_UTC)
    cfg = VwapPullbackConfig(trend_ema=60, band_atr=0.5, min_session_bars=15, atr_period=5, use_regime=False)
    strategy = VwapPullback("VWAP", [MNQ.id], cfg)
    run_bars(bars, strategy)
    entry = orders(strategy)[0]
    assert entry.side is OrderSide.BUY and entry.ts_init == MON_2300_UTC + 61 * MINUTE


def test_mean_reversion_fades_a_stretch_below_the_lower_band_and_exits_at_the_mean() -> None:
    drop = [(1000, 1001, 970, 975), (975, 976, 960, 965)]
    back = [(966, 996, 965, 995), (995, 1002, 994, 1001), *flat(5)]
    bars = make_bars(MNQ, flat(40) + drop + back)
    cfg = MeanReversionConfig(
        bb_period=20, rsi_period=14, atr_period=5, stop_atr=3.0, target_r=3.0, use_regime=False
    )
    strategy = MeanReversion("MR", [MNQ.id], cfg)
    run_bars(bars, strategy)
    sent = orders(strategy)
    entry = sent[0]
    assert entry.side is OrderSide.BUY and entry.ts_init == bars.ts_close_ns[40]  # the first close below
    exit_order = next(o for o in sent if o.order_type is OrderType.MARKET and o.reduce_only)
    assert exit_order.ts_init == bars.ts_close_ns[43]  # the close back above the middle band


# --- the regime detector ---------------------------------------------------------------------------------


def test_the_regime_detector_calls_a_steady_climb_a_trend_and_a_quiet_chop_a_range() -> None:
    cfg = RegimeConfig(adx_period=14, bb_period=20, width_period=20)
    trend, chop = RegimeDetector(cfg), RegimeDetector(cfg)
    for i in range(120):
        price = 1000.0 + 2.0 * i
        trend.update(price + 1.0, price - 1.0, price + 0.5)
    seen = set()
    for i in range(200):
        price = 1000.0 + (1.0 if i % 2 else -1.0)
        seen.add(chop.update(price + 1.0, price - 1.0, price))
    assert trend.regime is Regime.TREND and trend.adx > 25
    assert chop.regime is Regime.RANGE and Regime.TREND not in seen


def test_a_regime_config_refuses_a_range_threshold_above_the_trend_threshold() -> None:
    with pytest.raises(ValueError, match="range_adx"):
        RegimeConfig(trend_adx=20.0, range_adx=30.0)
