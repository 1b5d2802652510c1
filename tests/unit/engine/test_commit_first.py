"""Commit before acting: with a journal, the kernel records intents, order events and fills before
memory changes or anything is sent; when the journal fails, nothing more is sent or applied."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tradewright.core.clock import SimClock
from tradewright.core.ids import ClientOrderId, TradeId, Venue, VenueOrderId
from tradewright.engine.kernel import Kernel
from tradewright.model import LiquiditySide, OrderAccepted, OrderFilled, OrderSide
from tradewright.model.enums import OrderStatus
from tradewright.model.events import OrderCanceled, OrderDenied, OrderEvent
from tradewright.model.orders import Order
from tradewright.model.position import Position
from tradewright.portfolio.portfolio import Portfolio
from tradewright.strategy.base import Strategy
from tradewright.testkit import btc_perp
from tradewright.testkit.journal import InMemoryJournal, JournalRecord

INST = btc_perp()


class RecordingClient:
    def __init__(self) -> None:
        self.sent: list[tuple[str, ClientOrderId]] = []

    @property
    def venue(self) -> Venue:
        return INST.id.venue

    def submit(self, order: Order) -> None:
        self.sent.append(("submit", order.client_order_id))

    def cancel(self, order: Order) -> None:
        self.sent.append(("cancel", order.client_order_id))

    def modify(self, order: Order, price: Decimal | None, quantity: Decimal | None) -> None:
        self.sent.append(("modify", order.client_order_id))


class Watcher(Strategy):
    def __init__(self) -> None:
        super().__init__("S", [INST.id])
        self.events: list[OrderEvent] = []

    def on_order(self, event: OrderEvent, **kw: Any) -> None:
        self.events.append(event)


def make_kernel(journal: InMemoryJournal | None = None) -> tuple[Kernel, RecordingClient, Watcher]:
    kernel = Kernel(SimClock(1_000), portfolio=Portfolio({"USDT": Decimal(10_000)}), journal=journal)
    kernel.add_instrument(INST)
    client = RecordingClient()
    kernel.add_execution_client(client)
    strategy = Watcher()
    kernel.add_strategy(strategy)
    return kernel, client, strategy


def buy(strategy: Strategy, qty: str = "0.010", price: str = "100.0") -> ClientOrderId:
    return strategy.ctx.submit(INST.id, OrderSide.BUY, Decimal(qty), Decimal(price))


def ack(cid: str, venue_id: str = "7") -> OrderAccepted:
    return OrderAccepted(
        client_order_id=ClientOrderId(cid),
        instrument_id=INST.id,
        venue_order_id=VenueOrderId(venue_id),
        ts_event=2_000,
        ts_init=2_000,
    )


def fill(cid: str, trade: str, qty: str, px: str = "100.0", fee: str = "0.01") -> OrderFilled:
    return OrderFilled(
        client_order_id=ClientOrderId(cid),
        instrument_id=INST.id,
        venue_order_id=VenueOrderId("7"),
        trade_id=TradeId(trade),
        side=OrderSide.BUY,
        last_px=Decimal(px),
        last_qty=Decimal(qty),
        liquidity=LiquiditySide.MAKER,
        fee=Decimal(fee),
        fee_currency="USDT",
        ts_event=3_000,
        ts_init=3_000,
    )


def test_an_intent_is_recorded_before_the_order_is_sent_or_changes_in_memory() -> None:
    journal = InMemoryJournal()
    kernel, client, strategy = make_kernel(journal)
    seen: list[tuple[str, list[tuple[str, ClientOrderId]], OrderStatus | None]] = []

    def look(record: JournalRecord) -> None:
        event = record[1]
        assert isinstance(event, OrderEvent)
        order = kernel.orders.get(event.client_order_id)
        seen.append((record[0], list(client.sent), None if order is None else order.status))

    journal.on_write = look

    cid = buy(strategy)

    assert seen == [("intent", [], OrderStatus.INITIALIZED)]
    assert client.sent == [("submit", cid)]
    assert kernel.orders.get(cid).status is OrderStatus.SUBMITTED  # type: ignore[union-attr]


def test_a_fill_is_recorded_with_the_position_it_will_produce_before_the_portfolio_moves() -> None:
    journal = InMemoryJournal()
    kernel, _, strategy = make_kernel(journal)
    cid = buy(strategy)
    kernel.on_venue_event(ack(cid))
    at_write: list[tuple[Decimal, Decimal, OrderStatus]] = []

    def look(record: JournalRecord) -> None:
        if record[0] == "fill":
            pos = kernel.portfolio.find_position(INST.id)
            order = kernel.orders.get(cid)
            assert order is not None
            at_write.append((Decimal(0) if pos is None else pos.quantity, order.filled_qty, order.status))

    journal.on_write = look

    kernel.on_venue_event(fill(cid, "t1", "0.004", px="100.0"))

    assert at_write == [(Decimal(0), Decimal(0), OrderStatus.ACCEPTED)]  # memory untouched at commit
    (_, payload) = journal.records[-1]
    assert isinstance(payload, tuple)
    _, position_after, balances_after = payload
    held = kernel.portfolio.find_position(INST.id)
    assert held is not None
    assert (position_after.quantity, position_after.open_lots()) == (held.quantity, held.open_lots())
    assert balances_after == {"USDT": kernel.portfolio.balance("USDT")}
    assert kernel.portfolio.balance("USDT") == Decimal(10_000) - Decimal("0.4") - Decimal("0.01")


def test_only_events_the_order_manager_applies_are_recorded() -> None:
    journal = InMemoryJournal()
    kernel, _, strategy = make_kernel(journal)
    cid = buy(strategy)

    kernel.on_venue_event(fill(cid, "t1", "0.004"))  # a fill before its ack
    kernel.on_venue_event(ack(cid))
    kernel.on_venue_event(ack(cid))  # duplicate ack
    kernel.on_venue_event(fill(cid, "t1", "0.004"))  # duplicate fill
    kernel.on_venue_event(fill(cid, "t2", "0.006"))
    kernel.on_venue_event(OrderCanceled(client_order_id=cid, instrument_id=INST.id, ts_event=5, ts_init=5))
    kernel.on_venue_event(ack(cid))  # an ack after the order ended

    assert journal.kinds() == ["intent", "fill", "event", "fill"]
    assert kernel.orders.ignored_events == 4
    order = kernel.orders.get(cid)
    assert order is not None and order.status is OrderStatus.FILLED


def test_a_failed_intent_commit_sends_nothing_denies_the_order_and_halts_new_orders() -> None:
    journal = InMemoryJournal()
    kernel, client, strategy = make_kernel(journal)
    journal.fail = "disk full"

    first = buy(strategy)
    journal.fail = None  # even if the store came back, the node stays halted until a restart
    second = buy(strategy)

    assert client.sent == []
    assert journal.records == []
    for cid, reason in ((first, "store_failed"), (second, "halted")):
        order = kernel.orders.get(cid)
        assert order is not None and order.status is OrderStatus.DENIED
        denied = order.events[-1]
        assert isinstance(denied, OrderDenied) and denied.reason == reason
        assert "disk full" in denied.message and "restart" in denied.message.lower()
    assert kernel.store_failure is not None and "intent of order" in kernel.store_failure
    assert None in kernel.halts
    assert [type(e).__name__ for e in strategy.events] == ["OrderDenied", "OrderDenied"]


def test_after_a_journal_failure_cancels_still_go_out_and_nothing_more_is_applied() -> None:
    journal = InMemoryJournal()
    kernel, client, strategy = make_kernel(journal)
    cid = buy(strategy)
    kernel.on_venue_event(ack(cid))
    journal.fail = "terminating connection due to administrator command"

    kernel.on_venue_event(fill(cid, "t1", "0.004"))  # cannot be recorded: not applied
    sent = strategy.ctx.cancel(cid)

    assert sent is None and client.sent[-1] == ("cancel", cid)
    order = kernel.orders.get(cid)
    assert order is not None and order.status is OrderStatus.ACCEPTED and order.filled_qty == 0
    assert kernel.portfolio.find_position(INST.id) is None
    assert kernel.portfolio.balance("USDT") == Decimal(10_000)
    assert kernel.store_failure is not None and "OrderFilled of order" in kernel.store_failure


def test_a_modify_that_cannot_be_recorded_is_not_sent() -> None:
    journal = InMemoryJournal()
    kernel, client, strategy = make_kernel(journal)
    cid = buy(strategy)
    kernel.on_venue_event(ack(cid))
    journal.fail = "database is locked"

    strategy.ctx.modify(cid, price=Decimal("99.0"))

    assert client.sent == [("submit", cid)]
    order = kernel.orders.get(cid)
    assert order is not None and order.status is OrderStatus.ACCEPTED


def test_an_intent_the_journal_already_holds_is_never_sent_again() -> None:
    journal = InMemoryJournal()
    _, _, strategy = make_kernel(journal)
    first = buy(strategy)
    # A second node (or a restart that reused its id sequence) makes the same client order id.
    other, other_client, other_strategy = make_kernel(journal)

    second = buy(other_strategy)

    assert second == first and other_client.sent == []
    order = other.orders.get(second)
    assert order is not None and order.status is OrderStatus.DENIED
    denied = order.events[-1]
    assert isinstance(denied, OrderDenied) and denied.reason == "duplicate_client_order_id"
    assert other.store_failure is None and other.halts == {}


def test_a_fill_the_journal_already_holds_is_not_booked_twice() -> None:
    journal = InMemoryJournal()
    kernel, _, strategy = make_kernel(journal)
    cid = buy(strategy)
    kernel.on_venue_event(ack(cid))
    journal.record_fill(fill(cid, "t1", "0.004"), Position(INST), {})  # committed by an earlier life

    kernel.on_venue_event(fill(cid, "t1", "0.004"))

    assert kernel.portfolio.find_position(INST.id) is None
    order = kernel.orders.get(cid)
    assert order is not None and order.filled_qty == 0


def test_a_halted_instrument_denies_new_orders_with_the_reason_and_still_cancels() -> None:
    journal = InMemoryJournal()
    kernel, client, strategy = make_kernel(journal)
    working = buy(strategy)
    kernel.on_venue_event(ack(working))

    kernel.halt("position drift of +0.05 BTC exceeds 0.001", INST.id)
    refused = buy(strategy)
    strategy.ctx.cancel(working)
    kernel.resume(INST.id)
    accepted_again = buy(strategy)

    order = kernel.orders.get(refused)
    assert order is not None and order.status is OrderStatus.DENIED
    denied = order.events[-1]
    assert isinstance(denied, OrderDenied)
    assert (denied.reason, denied.message) == ("halted", "position drift of +0.05 BTC exceeds 0.001")
    assert client.sent == [("submit", working), ("cancel", working), ("submit", accepted_again)]
    assert journal.kinds() == ["intent", "event", "intent", "event", "intent"]  # the denial is recorded too


def test_the_journal_failure_halt_cannot_be_lifted_without_a_restart() -> None:
    journal = InMemoryJournal()
    kernel, _, strategy = make_kernel(journal)
    journal.fail = "disk full"
    buy(strategy)

    with pytest.raises(Exception, match="cannot resume"):
        kernel.resume()


def test_restored_orders_ignore_repeated_fills_and_report_to_their_strategy() -> None:
    journal = InMemoryJournal()
    before, _, strategy = make_kernel(journal)
    cid = buy(strategy)
    before.on_venue_event(ack(cid))
    before.on_venue_event(fill(cid, "t1", "0.004"))
    stored = before.orders.get(cid)
    assert stored is not None

    after, _, restarted = make_kernel(journal)
    after.restore_order(stored)
    after.on_venue_event(fill(cid, "t1", "0.004"))  # the venue repeats what we already have
    after.on_venue_event(fill(cid, "t2", "0.006"))

    assert [type(e).__name__ for e in restarted.events] == ["OrderFilled"]
    assert stored.status is OrderStatus.FILLED and after.orders.open_orders() == []
    assert after.orders.ignored_events == 1


def test_without_a_journal_events_apply_at_once_as_in_a_backtest() -> None:
    kernel, client, strategy = make_kernel(None)
    cid = buy(strategy)
    kernel.on_venue_event(ack(cid))
    kernel.on_venue_event(fill(cid, "t1", "0.010"))

    held = kernel.portfolio.find_position(INST.id)
    assert held is not None and held.quantity == Decimal("0.010")
    assert client.sent == [("submit", cid)]


def working_orders(kernel: Kernel, strategy: Watcher, n: int) -> list[ClientOrderId]:
    cids = [buy(strategy, price=f"{100 - i}.0") for i in range(n)]
    for i, cid in enumerate(cids):
        kernel.on_venue_event(ack(cid, str(i)))
    return cids


def test_cancel_all_records_every_cancel_in_one_commit_and_sends_them_only_after_it() -> None:
    journal = InMemoryJournal()
    kernel, client, strategy = make_kernel(journal)
    cids = working_orders(kernel, strategy, 3)
    batches_before = journal.batches
    sent_while_staging: list[int] = []
    journal.on_write = lambda record: sent_while_staging.append(len(client.sent))

    sent = kernel.cancel_all_orders(actor="shutdown")

    assert sent == 3 and journal.batches == batches_before + 1
    assert sent_while_staging == [3, 3, 3]  # only the three submits had gone out while staging
    assert client.sent[3:] == [("cancel", cid) for cid in cids]
    assert journal.kinds()[-3:] == ["event", "event", "event"]
    assert all(kernel.orders.get(c).status is OrderStatus.PENDING_CANCEL for c in cids)  # type: ignore[union-attr]


def test_cancel_all_sends_every_cancel_even_when_its_group_commit_fails() -> None:
    journal = InMemoryJournal()
    kernel, client, strategy = make_kernel(journal)
    cids = working_orders(kernel, strategy, 3)
    journal.fail = "disk full"

    sent = kernel.cancel_all_orders(actor="shutdown")

    assert sent == 3 and client.sent[3:] == [("cancel", cid) for cid in cids]
    assert all(kernel.orders.get(c).status is OrderStatus.ACCEPTED for c in cids)  # type: ignore[union-attr]
    assert kernel.store_failure is not None and "disk full" in kernel.store_failure
