"""Brackets and one-cancels-all groups in the engine (engine/contingent.py): emulated where the venue has
no contingent orders (children held until the entry fills, sized by its fills, siblings cancelling each
other), native where it has (three intents in one commit, sent together), and a crash between a fill and
its consequence neither losing a child nor leaving both working."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tradewright.config.run import RiskConfig
from tradewright.core.clock import SimClock
from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId, TradeId, Venue, VenueOrderId
from tradewright.engine.kernel import Kernel
from tradewright.live.recovery import restore
from tradewright.live.store_sink import StoreSink
from tradewright.model.bracket import make_bracket
from tradewright.model.commands import SubmitOrder
from tradewright.model.enums import LiquiditySide, OrderSide, OrderStatus, OrderType
from tradewright.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderEvent,
    OrderFilled,
    OrderUpdated,
)
from tradewright.model.orders import Order
from tradewright.portfolio.portfolio import Portfolio
from tradewright.risk.engine import RiskEngine
from tradewright.store.sql_store import open_store
from tradewright.strategy.base import Strategy
from tradewright.testkit import es_future
from tradewright.testkit.journal import InMemoryJournal

D = Decimal
INST = es_future()
IID = INST.id


class Venue_:
    """A venue that acknowledges at once and applies cancels and resizes at once; fills come from the test."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.sent: list[tuple[str, str, Decimal]] = []
        self.n = 0

    @property
    def venue(self) -> Venue:
        return IID.venue

    def _now(self) -> dict[str, Any]:
        now = self.kernel.clock.now_ns()
        return {"ts_event": now, "ts_init": now}

    def submit(self, order: Order) -> None:
        self.sent.append(("submit", order.client_order_id, order.quantity))
        self.kernel.on_venue_event(
            OrderAccepted(
                client_order_id=order.client_order_id,
                instrument_id=IID,
                venue_order_id=VenueOrderId(f"V{order.client_order_id}"),
                **self._now(),
            )
        )

    def cancel(self, order: Order) -> None:
        self.sent.append(("cancel", order.client_order_id, order.leaves_qty))
        self.kernel.on_venue_event(
            OrderCanceled(client_order_id=order.client_order_id, instrument_id=IID, **self._now())
        )

    def modify(self, order: Order, price: Decimal | None, quantity: Decimal | None) -> None:
        assert quantity is not None
        self.sent.append(("modify", order.client_order_id, quantity))
        self.kernel.on_venue_event(
            OrderUpdated(
                client_order_id=order.client_order_id,
                instrument_id=IID,
                quantity=quantity,
                price=order.price,
                **self._now(),
            )
        )

    def fill(self, cid: str, qty: str, px: str) -> None:
        self.n += 1
        order = self.kernel.orders.get(ClientOrderId(cid))
        assert order is not None
        self.kernel.on_venue_event(
            OrderFilled(
                client_order_id=ClientOrderId(cid),
                instrument_id=IID,
                venue_order_id=VenueOrderId(f"V{cid}"),
                trade_id=TradeId(f"X{self.n}"),
                side=order.side,
                last_px=D(px),
                last_qty=D(qty),
                liquidity=LiquiditySide.TAKER,
                fee=D(0),
                fee_currency="USD",
                **self._now(),
            )
        )


class BracketVenue(Venue_):
    """A venue that holds brackets itself (like IB): the kernel sends the three orders together."""

    class _Caps:
        brackets = True
        oca_groups = True

    capabilities = _Caps()

    def __init__(self, kernel: Kernel) -> None:
        super().__init__(kernel)
        self.brackets: list[tuple[str, str, str | None]] = []

    def submit_bracket(self, entry: Order, stop: Order, target: Order | None) -> None:
        self.brackets.append(
            (entry.client_order_id, stop.client_order_id, None if target is None else target.client_order_id)
        )


class Trader(Strategy):
    def __init__(self) -> None:
        super().__init__("DAY", [IID])
        self.heard: list[OrderEvent] = []

    def on_order(self, event: OrderEvent, **kw: Any) -> None:
        self.heard.append(event)


def kernel_with(venue_type: type[Venue_] = Venue_, **kw: Any) -> tuple[Kernel, Venue_, Trader]:
    kernel = Kernel(SimClock(1_704_290_400_000_000_000), portfolio=Portfolio({"USD": D(100_000)}), **kw)
    book = kernel.add_instrument(INST)
    book.set_level(1, INST.price_to_ticks(D("4800.00")), 100)
    book.set_level(-1, INST.price_to_ticks(D("4800.25")), 100)
    venue = venue_type(kernel)
    kernel.add_execution_client(venue)
    trader = Trader()
    kernel.add_strategy(trader)
    return kernel, venue, trader


def bracket(trader: Trader, qty: str = "10") -> tuple[str, str, str]:
    entry, stop, target = trader.ctx.submit_bracket(
        IID, OrderSide.BUY, D(qty), stop_price=D("4790.00"), target_price=D("4820.00"), tag="reason=golden",
        stop_tag="reason=stop", target_tag="reason=target",
    )  # fmt: skip
    assert target is not None
    return entry, stop, target


def status(kernel: Kernel, cid: str) -> OrderStatus:
    order = kernel.orders.get(ClientOrderId(cid))
    assert order is not None
    return order.status


def qty(kernel: Kernel, cid: str) -> Decimal:
    order = kernel.orders.get(ClientOrderId(cid))
    assert order is not None
    return order.quantity


def test_an_emulated_bracket_holds_its_children_until_the_entry_fills_then_sizes_them_by_its_fills() -> None:
    kernel, venue, trader = kernel_with()
    entry, stop, target = bracket(trader)
    # Only the entry left; the stop and the target are held (known to the strategy, never sent).
    assert [s[:2] for s in venue.sent] == [("submit", entry)]
    assert (
        status(kernel, stop) is OrderStatus.INITIALIZED and status(kernel, target) is OrderStatus.INITIALIZED
    )
    venue.fill(entry, "3", "4800.25")  # 30 %
    assert venue.sent[1:] == [("submit", stop, D(3)), ("submit", target, D(3))]
    venue.fill(entry, "7", "4800.50")  # the rest
    assert venue.sent[3:] == [("modify", stop, D(10)), ("modify", target, D(10))]
    assert (qty(kernel, stop), qty(kernel, target)) == (D(10), D(10))
    # The target fills 4: the stop shrinks by as much; the target fills the rest: the stop is cancelled.
    venue.fill(target, "4", "4820.00")
    assert venue.sent[5] == ("modify", stop, D(6))
    venue.fill(target, "6", "4820.00")
    assert venue.sent[6][:2] == ("cancel", stop) and status(kernel, stop) is OrderStatus.CANCELED
    assert kernel.portfolio.position(INST).quantity == 0 and not kernel.orders.open_orders()
    # The engine moved the sibling before the strategy heard of the fill: it never sees both working.
    assert [(type(e).__name__, e.client_order_id) for e in trader.heard[-2:]] == [
        ("OrderCanceled", stop),
        ("OrderFilled", target),
    ]


def test_a_partly_filled_stop_shrinks_the_target_and_a_full_stop_cancels_it() -> None:
    kernel, venue, _ = kernel_with()
    entry, stop, target = bracket(kernel.strategies[0])  # type: ignore[arg-type]
    venue.fill(entry, "10", "4800.25")
    venue.fill(stop, "10", "4790.00")
    assert status(kernel, target) is OrderStatus.CANCELED and kernel.portfolio.position(INST).quantity == 0
    assert ("submit", stop, D(10)) in venue.sent and ("submit", target, D(10)) in venue.sent


def test_an_entry_that_ends_unfilled_ends_its_held_children_and_sends_nothing_for_them() -> None:
    kernel, venue, trader = kernel_with()
    entry, stop, target = bracket(trader)
    trader.ctx.cancel(ClientOrderId(entry))
    assert [s[:2] for s in venue.sent] == [("submit", entry), ("cancel", entry)]
    for child in (stop, target):
        order = kernel.orders.get(ClientOrderId(child))
        assert order is not None and order.status is OrderStatus.DENIED
        assert isinstance(order.events[-1], OrderDenied) and order.events[-1].reason == "parent_ended"


def test_cancelling_a_held_child_ends_it_and_the_entry_fill_releases_only_the_other() -> None:
    kernel, venue, trader = kernel_with()
    entry, stop, target = bracket(trader)
    trader.ctx.cancel(ClientOrderId(target))
    assert status(kernel, target) is OrderStatus.DENIED
    venue.fill(entry, "10", "4800.25")
    assert [s[:2] for s in venue.sent] == [("submit", entry), ("submit", stop)]


def test_a_risk_denied_entry_denies_the_whole_bracket() -> None:
    kernel, venue, trader = kernel_with(risk=RiskEngine(RiskConfig(max_order_size_base=D(5))))
    entry, stop, target = bracket(trader)
    assert venue.sent == []
    assert {status(kernel, c) for c in (entry, stop, target)} == {OrderStatus.DENIED}


def test_a_native_bracket_records_three_intents_in_one_commit_then_sends_them_together() -> None:
    journal = InMemoryJournal()
    kernel, venue, trader = kernel_with(BracketVenue, journal=journal)
    assert isinstance(venue, BracketVenue)
    entry, stop, target = bracket(trader)
    assert venue.brackets == [(entry, stop, target)] and venue.sent == []
    assert journal.kinds() == ["intent", "intent", "intent"] and journal.batches == 1
    assert {status(kernel, c) for c in (entry, stop, target)} == {OrderStatus.SUBMITTED}
    # The venue resizes and cancels the children itself: the engine only records what it says.
    venue.fill(entry, "10", "4800.25")
    venue.fill(stop, "10", "4790.00")
    assert status(kernel, target) is OrderStatus.SUBMITTED and not any(s[0] == "cancel" for s in venue.sent)


def test_a_plain_oca_group_shrinks_the_others_on_a_partial_fill_and_cancels_them_when_one_is_done() -> None:
    kernel, venue, trader = kernel_with()
    a = trader.ctx.submit(IID, OrderSide.BUY, D(4), D("4790.00"), oca_group="G")
    b = trader.ctx.submit(IID, OrderSide.BUY, D(4), D("4785.00"), oca_group="G")
    venue.fill(a, "1", "4790.00")
    assert venue.sent[-1] == ("modify", b, D(3))
    venue.fill(a, "3", "4790.00")
    assert venue.sent[-1][:2] == ("cancel", b) and status(kernel, b) is OrderStatus.CANCELED


# --- a crash between a fill and its consequence ---------------------------------------------------------
class Killed(BaseException):
    """The process dies here (like kill -9: nothing after this point happens)."""


class DyingSink(StoreSink):
    """The node's store sink, killed before it records the first event `dies_at` picks."""

    def __init__(self, *args: Any, dies_at: Any = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.dies_at = dies_at

    def record_order_event(self, event: OrderEvent) -> bool:
        if self.dies_at is not None and self.dies_at(event):
            raise Killed
        return super().record_order_event(event)


def node(url: str, *, dies_at: Any = None) -> tuple[Kernel, Venue_, Trader, Any]:
    store = open_store(url)
    sink = DyingSink(store, dies_at=dies_at)
    kernel, venue, trader = kernel_with(journal=sink, sinks=[sink])
    store.save_instrument(INST, ts_ns=kernel.clock.now_ns())
    return kernel, venue, trader, store


def restart(url: str) -> tuple[Kernel, Venue_, list[str]]:
    kernel, venue, _, store = node(url)
    restore(kernel, store.load_state(), lambda order: None, logging.getLogger("test"))
    done = kernel.contingent.resume(lambda since: store.load_state(orders_since_ns=since).orders)
    return kernel, venue, done


def test_a_crash_after_the_entry_fill_before_the_release_releases_the_children_at_the_restart(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    kernel, venue, trader, store = node(url, dies_at=lambda e: type(e).__name__ == "OrderSubmitted")
    entry, stop, target = bracket(trader)
    with pytest.raises(Killed):
        venue.fill(entry, "10", "4800.25")  # recorded; the release of the stop never happens
    store.close()
    kernel, venue, done = restart(url)
    assert kernel.portfolio.position(INST).quantity == 10
    assert venue.sent == [("submit", stop, D(10)), ("submit", target, D(10))]
    assert done == [f"bracket {entry}: 2 children released, 0 resized, 0 cancelled"]


def test_a_crash_after_a_child_fill_before_the_sibling_cancel_cancels_the_sibling_at_the_restart(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    kernel, venue, trader, store = node(url, dies_at=lambda e: type(e).__name__ == "OrderPendingCancel")
    entry, stop, target = bracket(trader)
    venue.fill(entry, "10", "4800.25")
    with pytest.raises(Killed):
        venue.fill(stop, "10", "4790.00")  # recorded; the target's cancel never happens
    store.close()
    kernel, venue, done = restart(url)
    assert kernel.portfolio.position(INST).quantity == 0
    assert venue.sent == [("cancel", target, D(10))] and status(kernel, target) is OrderStatus.CANCELED
    assert done == [f"bracket {entry}: 0 children released, 0 resized, 1 cancelled"]


def test_the_stored_children_keep_their_parent_and_group(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    _kernel, _venue, trader, store = node(url)
    entry, stop, target = bracket(trader)
    orders = store.load_state(orders_since_ns=0).orders
    store.close()
    assert orders[ClientOrderId(stop)].status is OrderStatus.INITIALIZED
    assert (
        orders[ClientOrderId(stop)].parent_order_id == entry == orders[ClientOrderId(target)].parent_order_id
    )
    assert orders[ClientOrderId(stop)].oca_group == orders[ClientOrderId(target)].oca_group == f"OCA-{entry}"


def test_make_bracket_is_what_ctx_submit_bracket_sends() -> None:
    kernel, _venue, trader = kernel_with()
    entry, stop, target = bracket(trader)
    ours = make_bracket(
        SubmitOrder(client_order_id=ClientOrderId(entry), strategy_id=StrategyId("DAY"), instrument_id=InstrumentId.parse(str(IID)),
                    side=OrderSide.BUY, order_type=OrderType.MARKET, quantity=D(10), ts_init=0),
        stop_id=ClientOrderId(stop), stop_price=D("4790.00"), target_id=ClientOrderId(target), target_price=D("4820.00"),
    )  # fmt: skip
    sent = kernel.orders.get(ClientOrderId(stop))
    assert sent is not None and (sent.trigger_price, sent.oca_group) == (
        ours.stop.trigger_price,
        ours.stop.oca_group,
    )
