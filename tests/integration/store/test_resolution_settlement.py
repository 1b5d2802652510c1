"""A prediction market resolving on a live node: the payout is committed to the store before the
portfolio changes, and a restart reads the settled position and cash back."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from tradewright.core.clock import LiveClock
from tradewright.core.errors import StoreError
from tradewright.core.ids import Venue
from tradewright.engine.kernel import Kernel
from tradewright.live.resolution import settle_resolution
from tradewright.model.enums import OrderSide
from tradewright.model.prediction import BinaryMarket, OutcomeToken, Resolution, resolution_events
from tradewright.portfolio.portfolio import Portfolio
from tradewright.store import SqlStateStore
from tradewright.store.config import StoreConfig

D = Decimal
MARKET = BinaryMarket(
    venue=Venue("POLYMARKET"),
    market_id="0x" + "ab" * 32,
    question="Will it?",
    tokens=(
        OutcomeToken(token_id="111", outcome="Yes", index=0),
        OutcomeToken(token_id="222", outcome="No", index=1),
    ),
    tick_size=D("0.001"),
    collateral="pUSD",
)


def node_holding(store: SqlStateStore) -> Kernel:
    """A node that bought 10 YES at 0.487 (as its store and portfolio say)."""
    kernel = Kernel(LiveClock(), portfolio=Portfolio({"pUSD": D("1000")}))
    for inst in MARKET.instruments():
        kernel.add_instrument(inst)
        store.save_instrument(inst, ts_ns=1)
    yes = MARKET.instrument(0)
    kernel.portfolio.apply_fill(yes, OrderSide.BUY, D("0.487"), D("10"), D(0), "pUSD")
    store.save_portfolio([kernel.portfolio.position(yes)], kernel.portfolio.balances, ts_ns=2)
    return kernel


def test_the_payout_is_stored_then_applied_and_a_restart_reads_it_back(
    make_store: Callable[..., SqlStateStore],
) -> None:
    store = make_store()
    kernel = node_holding(store)
    events = resolution_events(MARKET, Resolution.YES, ts_event=3, ts_init=4)

    pnls = [settle_resolution(kernel, store, e) for e in events]

    assert pnls == [D("5.130"), None]  # 10 x (1 - 0.487); no NO position
    assert kernel.portfolio.balance("pUSD") == D("1005.130")
    assert kernel.portfolio.position(MARKET.instrument(0)).quantity == 0
    state = make_store().load_state()  # a restart
    assert state.balances["pUSD"] == D("1005.130")
    assert (
        state.positions.get(MARKET.instrument_id(0)) is None
        or state.positions[MARKET.instrument_id(0)].quantity == 0
    )


def test_a_store_that_fails_leaves_the_position_held_and_says_so(tmp_path: Path) -> None:
    store = SqlStateStore(StoreConfig(url=f"sqlite:///{tmp_path / 'state.sqlite'}"))
    kernel = node_holding(store)

    @event.listens_for(store.engine, "connect")
    def _read_only(dbapi_conn: Any, record: Any) -> None:  # the store can no longer write
        dbapi_conn.execute("PRAGMA query_only = 1")

    store.engine.dispose()
    failures: list[StoreError] = []
    (yes_event, _) = resolution_events(MARKET, Resolution.YES, ts_event=3, ts_init=4)

    assert settle_resolution(kernel, store, yes_event, on_failure=failures.append) is None

    assert len(failures) == 1
    assert kernel.portfolio.position(MARKET.instrument(0)).quantity == D("10")
    assert kernel.portfolio.balance("pUSD") == D("995.130")
    store.close()


def test_a_settlement_price_outside_zero_and_one_is_refused_before_anything_is_written(
    make_store: Callable[..., SqlStateStore],
) -> None:
    store = make_store()
    kernel = node_holding(store)
    (yes_event, _) = resolution_events(MARKET, Resolution.YES, ts_event=3, ts_init=4)
    bad = type(yes_event)(
        instrument_id=yes_event.instrument_id,
        settlement_px=D("1.5"),
        market_id=MARKET.market_id,
        ts_event=3,
        ts_init=4,
    )
    with pytest.raises(ValueError, match="outside"):
        settle_resolution(kernel, store, bad)
    assert make_store().load_state().balances["pUSD"] == D("995.130")
