"""B1, the Avellaneda–Stoikov maker: its quotes as a pure function, its estimators, and a run on real data."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from tests.conftest import bundled_data
from tradewright.backtest.engine import BacktestEngine
from tradewright.data.loading import load_stream
from tradewright.model.enums import OrderSide
from tradewright.sim.latency import ConstantLatency
from tradewright.strategies.avellaneda_stoikov import (
    ASInputs,
    AvellanedaStoikov,
    AvellanedaStoikovConfig,
    IntensityEstimator,
    as_quotes,
)
from tradewright.strategy.quotes import Quote
from tradewright.testkit import btc_perp

INST = btc_perp()  # tick 0.1
D = Decimal
CFG = AvellanedaStoikovConfig(order_size=D("0.002"), max_inventory=D("0.010"), risk_aversion=0.05)


def inputs(inventory: str = "0", sigma: float = 2.0, tau: float | None = None, spread: int = 1) -> ASInputs:
    return ASInputs(
        best_bid_tick=600_000,
        best_ask_tick=600_000 + spread,
        inventory=D(inventory),
        sigma=sigma,
        kappa=10.0,
        arrival_rate=1.0,
        tau_s=tau,
    )


def prices(quotes: list[Quote]) -> dict[OrderSide, Decimal]:
    return {q.side: q.price for q in quotes}


@pytest.mark.parametrize("tau", [None, 30.0], ids=["infinite", "finite"])
def test_a_long_inventory_lowers_both_quotes_and_a_short_one_raises_them(tau: float | None) -> None:
    flat = prices(as_quotes(inputs("0", tau=tau, spread=20), CFG, INST))
    long = prices(as_quotes(inputs("0.004", tau=tau, spread=20), CFG, INST))
    short = prices(as_quotes(inputs("-0.004", tau=tau, spread=20), CFG, INST))
    assert long[OrderSide.BUY] < flat[OrderSide.BUY] and long[OrderSide.SELL] < flat[OrderSide.SELL]
    assert short[OrderSide.BUY] > flat[OrderSide.BUY] and short[OrderSide.SELL] > flat[OrderSide.SELL]


@pytest.mark.parametrize("tau", [None, 30.0], ids=["infinite", "finite"])
def test_the_spread_widens_when_volatility_rises(tau: float | None) -> None:
    def spread(sigma: float) -> Decimal:
        quoted = prices(as_quotes(inputs(sigma=sigma, tau=tau), CFG, INST))
        return quoted[OrderSide.SELL] - quoted[OrderSide.BUY]

    assert spread(1.0) < spread(3.0) < spread(6.0)


def test_quotes_are_rounded_onto_the_grid_bids_down_and_asks_up() -> None:
    x = inputs(sigma=0.5)
    mid = (x.best_bid_tick + x.best_ask_tick) / 2 * 0.1
    gamma, kappa = CFG.risk_aversion, x.kappa
    omega = math.sqrt(
        x.sigma**2 * gamma / (2 * kappa * x.arrival_rate) * (1 + gamma / kappa) ** (1 + kappa / gamma)
    )
    half = math.log1p(gamma / kappa) / gamma + omega / 2
    quoted = prices(as_quotes(x, CFG, INST))
    assert quoted[OrderSide.BUY] == INST.round_price_down(D(repr(mid - half)))
    assert quoted[OrderSide.SELL] == INST.round_price_up(D(repr(mid + half)))
    assert all(INST.make_price(p) == p for p in quoted.values())


def test_quotes_never_cross_the_book_even_when_the_skew_is_extreme() -> None:
    quoted = prices(as_quotes(inputs("0.008", sigma=50.0), CFG, INST))
    assert quoted[OrderSide.SELL] >= INST.ticks_to_price(600_001)  # at least one tick above the best bid
    assert quoted[OrderSide.BUY] < quoted[OrderSide.SELL]


def test_no_quote_on_the_side_that_would_break_the_inventory_limit() -> None:
    assert set(prices(as_quotes(inputs("0.010"), CFG, INST))) == {OrderSide.SELL}
    assert set(prices(as_quotes(inputs("-0.010"), CFG, INST))) == {OrderSide.BUY}
    assert set(prices(as_quotes(inputs("0.008"), CFG, INST))) == {OrderSide.BUY, OrderSide.SELL}


def test_the_finite_horizon_skew_fades_as_the_horizon_runs_out() -> None:
    def skew(tau: float) -> Decimal:
        quoted = prices(as_quotes(inputs("0.006", tau=tau, spread=40), CFG, INST))
        return (quoted[OrderSide.BUY] + quoted[OrderSide.SELL]) / 2

    assert skew(60.0) < skew(10.0) < skew(0.5)


def test_the_intensity_estimator_reads_kappa_from_trade_distances_and_a_from_their_rate() -> None:
    est = IntensityEstimator(halflife_s=1e9, floor=0.05)  # no decay: plain averages
    for i in range(100):
        est.update(i * 100_000_000, 0.25 if i % 2 else 0.0)  # 10 trades a second; half at the touch
    assert est.ready
    assert est.kappa == pytest.approx(1 / 0.15)  # mean distance (0.05 floor + 0.25) / 2
    decaying = IntensityEstimator(halflife_s=5.0, floor=0.05)
    for i in range(2000):
        decaying.update(i * 100_000_000, 0.1)
    assert decaying.arrival_rate(2000 * 100_000_000) == pytest.approx(10.0, rel=0.05)


def test_on_real_data_the_maker_quotes_on_both_sides_skews_with_inventory_and_respects_its_limit() -> None:
    stream = load_stream([bundled_data("binance/binance_usdm_btcusdt_20240808.jsonl.gz")])
    engine = BacktestEngine(stream, starting_balance=D(10_000), latency=ConstantLatency(2_000_000, 2_000_000))
    cfg = AvellanedaStoikovConfig(
        order_size=D("0.002"), max_inventory=D("0.006"), risk_aversion=0.05, vol_sample_ms=500, vol_window=20
    )
    maker = AvellanedaStoikov("AS", [stream.instrument.id], cfg)
    engine.add_strategy(maker)
    result = engine.run()
    orders = result.kernel.orders.all_orders
    fills = [e for o in orders for e in o.events if type(e).__name__ == "OrderFilled"]
    assert {o.side for o in orders} == {OrderSide.BUY, OrderSide.SELL} and len(fills) > 10
    assert all(o.post_only for o in orders)
    assert result.recorder.max_abs_position <= cfg.max_inventory
    assert maker.vol.ready and maker.intensity.ready and maker.intensity.kappa > 0
