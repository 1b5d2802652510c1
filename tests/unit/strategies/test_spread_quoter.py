"""B2, the spread-capture quoter: its ladder as a pure function, and its discipline on real L2 data."""

from __future__ import annotations

import io
from decimal import Decimal

import msgspec

from tests.conftest import bundled_data
from tradewright.backtest.engine import BacktestEngine
from tradewright.data.loading import load_stream
from tradewright.model.enums import OrderSide
from tradewright.sim.latency import ConstantLatency
from tradewright.strategies.spread_quoter import SpreadQuoter, SpreadQuoterConfig, ladder_quotes
from tradewright.strategy.quotes import QuoteManagerConfig
from tradewright.testkit import btc_perp

INST = btc_perp()  # tick 0.1
D = Decimal
CFG = SpreadQuoterConfig(
    bid_sizes=[D("0.002"), D("0.004")], ask_sizes=[D("0.002")], max_inventory=D("0.01"), level_spacing_ticks=3
)


def test_the_ladder_sits_half_a_spread_from_the_reference_each_level_further_out() -> None:
    quotes = ladder_quotes(D("60000"), D("1"), 599_000, 601_000, D(0), CFG, INST)
    # 1 bp of 60,000 is 6: bid 59,994 and ask 60,006, level 1 three ticks further out.
    assert [(q.side, q.level, q.price, q.size) for q in quotes] == [
        (OrderSide.BUY, 0, D("59994.0"), D("0.002")),
        (OrderSide.BUY, 1, D("59993.7"), D("0.004")),
        (OrderSide.SELL, 0, D("60006.0"), D("0.002")),
    ]


def test_ladder_prices_round_bids_down_and_asks_up_and_never_cross_the_book() -> None:
    quotes = ladder_quotes(D("60000.04"), D("0.001"), 600_000, 600_001, D(0), CFG, INST)
    by_side = {(q.side, q.level): q.price for q in quotes}
    assert by_side[(OrderSide.BUY, 0)] == D("60000.0")  # 60000.034 rounded down
    assert by_side[(OrderSide.SELL, 0)] == D("60000.1")  # 60000.046 rounded up
    tight = ladder_quotes(D("60000.05"), D("0"), 600_000, 600_001, D(0), CFG, INST)
    assert {(q.side, q.level): q.price for q in tight}[(OrderSide.BUY, 0)] <= D("60000.0")


def test_levels_that_would_break_the_inventory_limit_are_left_out() -> None:
    long = ladder_quotes(D("60000"), D("1"), 599_000, 601_000, D("0.006"), CFG, INST)
    assert [(q.side, q.level) for q in long] == [
        (OrderSide.BUY, 0),
        (OrderSide.SELL, 0),
    ]  # 0.006 + 0.002 + 0.004 > 0.01
    full = ladder_quotes(D("60000"), D("1"), 599_000, 601_000, D("0.01"), CFG, INST)
    assert [(q.side, q.level) for q in full] == [(OrderSide.SELL, 0)]


class QuotingOnly(SpreadQuoter):
    """The quoter without its stop-time `cancel_all` (which bypasses the budget on purpose): what is left
    open is cancelled by the engine, under its own actor."""

    def on_stop(self, **kw: object) -> None:
        pass


def test_on_real_data_it_never_exceeds_its_cancel_budget_nor_replaces_a_quote_younger_than_its_lifetime() -> (
    None
):
    stream = load_stream([bundled_data("binance/binance_usdm_btcusdt_20240808.jsonl.gz")])
    events = io.BytesIO()
    engine = BacktestEngine(
        stream, starting_balance=D(10_000), latency=ConstantLatency(2_000_000, 2_000_000), events_file=events
    )
    quotes = QuoteManagerConfig(min_change_ticks=1, min_quote_lifetime_ms=1_500, max_cancels_per_min=20)
    cfg = SpreadQuoterConfig(
        bid_sizes=[D("0.002"), D("0.002")],
        ask_sizes=[D("0.002"), D("0.002")],
        max_inventory=D("0.01"),
        reference="microprice",
        half_spread_bps=0.2,
        quotes=quotes,
    )
    quoter = QuotingOnly("SQ", [stream.instrument.id], cfg)
    engine.add_strategy(quoter)
    engine.run()
    records = [msgspec.json.decode(line) for line in events.getvalue().splitlines()]
    placed: dict[str, int] = {}  # order -> when its current price and size were sent
    touches: list[int] = []
    for r in records:
        if r["type"] == "SubmitOrder":
            placed[r["client_order_id"]] = r["ts_init"]
        elif r["type"] in ("CancelOrder", "ModifyOrder") and r["actor"] == "SQ":
            age = r["ts_init"] - placed[r["client_order_id"]]
            assert age >= 1_500 * 1_000_000, f"{r['type']} of {r['client_order_id']} after {age} ns"
            touches.append(r["ts_init"])
            placed[r["client_order_id"]] = r["ts_init"]
    assert len(touches) > 20  # it wanted to move often: the rules held it back
    for i, t in enumerate(touches):
        assert sum(1 for u in touches[i:] if u - t < 60_000_000_000) <= 20
    stats = quoter.quotes.stats
    assert stats.held_by_budget > 0 and stats.held_by_lifetime > 0
    assert engine.recorder.fills, "the quoter traded"
