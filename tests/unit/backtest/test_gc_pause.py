"""A backtest pauses the cyclic garbage collector only for its replay, and what it creates per event
can never form a cycle (so nothing piles up while the collector is paused)."""

from __future__ import annotations

import gc
from decimal import Decimal
from typing import Any

import pytest

from tradewright.backtest.engine import BacktestEngine
from tradewright.core.errors import StrategyError
from tradewright.core.ids import ClientOrderId, StrategyId, TradeId, VenueOrderId
from tradewright.model.book import OrderBook
from tradewright.model.commands import SubmitOrder
from tradewright.model.data import TradeTick
from tradewright.model.enums import LiquiditySide, OrderSide, OrderType
from tradewright.model.events import OrderAccepted, OrderFilled
from tradewright.strategy.base import Strategy
from tradewright.testkit.builders import StreamRows, btc_perp

INST = btc_perp()


def _stream() -> Any:
    return StreamRows(INST).snapshot(0, bids=[(1000, 5)], asks=[(1001, 5)]).level(5, 1, 1000, 3).build()


def test_events_commands_and_trades_are_never_tracked_by_the_cycle_collector() -> None:
    iid, cid = INST.id, ClientOrderId("O-1")
    records = [
        OrderAccepted(
            client_order_id=cid, instrument_id=iid, venue_order_id=VenueOrderId("1"), ts_event=1, ts_init=1
        ),
        OrderFilled(
            client_order_id=cid,
            instrument_id=iid,
            venue_order_id=VenueOrderId("1"),
            trade_id=TradeId("T1"),
            side=OrderSide.BUY,
            last_px=Decimal("100.1"),
            last_qty=Decimal("0.001"),
            liquidity=LiquiditySide.MAKER,
            fee=Decimal(0),
            fee_currency="USDT",
            ts_event=1,
            ts_init=1,
        ),
        SubmitOrder(
            client_order_id=cid,
            strategy_id=StrategyId("S"),
            instrument_id=iid,
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=Decimal("0.001"),
            price=Decimal("100.1"),
            ts_init=1,
        ),
        TradeTick(
            instrument_id=iid,
            price=Decimal(1),
            size=Decimal(1),
            aggressor=None,
            trade_id="1",
            ts_event=1,
            ts_init=1,
        ),
    ]
    assert [gc.is_tracked(r) for r in records] == [False] * len(records)


class _SeesTheCollector(Strategy):
    def __init__(self, raise_: bool = False) -> None:
        super().__init__("GC", [INST.id])
        self.enabled_during: list[bool] = []
        self.raise_ = raise_

    def on_book(self, book: OrderBook, **kw: Any) -> None:
        self.enabled_during.append(gc.isenabled())
        if self.raise_:
            raise RuntimeError("boom")


def test_the_collector_is_paused_during_the_replay_and_restored_after_it() -> None:
    engine = BacktestEngine(_stream(), starting_balance=Decimal(1000))
    strategy = _SeesTheCollector()
    engine.add_strategy(strategy)
    assert gc.isenabled()

    engine.run()

    assert strategy.enabled_during and not any(strategy.enabled_during)
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_the_collector_is_restored_when_a_strategy_raises() -> None:
    engine = BacktestEngine(_stream(), starting_balance=Decimal(1000))
    engine.add_strategy(_SeesTheCollector(raise_=True))

    with pytest.raises(StrategyError):
        engine.run()

    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
