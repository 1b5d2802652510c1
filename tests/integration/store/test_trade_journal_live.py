"""A live node writes the store's trade journal: one line per fill, an entry when it opens or adds to
its strategy's position, an exit when it reduces or closes it, tagged with the run — read back through
the store on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

from tradewright.core.clock import SimClock
from tradewright.core.ids import ClientOrderId, StrategyId, TradeId, VenueOrderId
from tradewright.engine.kernel import Kernel
from tradewright.live.multi import DryRunExecution
from tradewright.live.trade_journal import TradeJournalSink
from tradewright.model.commands import SubmitOrder
from tradewright.model.enums import LiquiditySide, OrderSide, OrderType
from tradewright.model.events import OrderAccepted, OrderFilled
from tradewright.store.records import JournalKind, RunRecord
from tradewright.store.sql_store import SqlStateStore
from tradewright.testkit.builders import btc_perp

D = Decimal
INST = btc_perp()


def test_each_fill_is_journalled_as_an_entry_or_an_exit(store: SqlStateStore) -> None:
    store.start_run(RunRecord(run_id="live-1", mode="live", config_hash="x", started_ns=1))
    journal = TradeJournalSink(store, "live-1")
    kernel = Kernel(SimClock(1), sinks=[journal])
    kernel.add_instrument(INST)
    kernel.add_execution_client(DryRunExecution(INST.id.venue))
    for n, (sid, side, qty) in enumerate(
        [
            ("A", OrderSide.BUY, "0.002"),
            ("B", OrderSide.SELL, "0.001"),
            ("A", OrderSide.BUY, "0.001"),
            ("A", OrderSide.SELL, "0.003"),
        ]
    ):
        order = kernel.submit(
            SubmitOrder(
                ts_init=n, client_order_id=ClientOrderId(f"T-{n}"), strategy_id=StrategyId(sid),
                instrument_id=INST.id, side=side, order_type=OrderType.LIMIT, quantity=D(qty), price=D("60000"),
            ),
            None,
        )  # fmt: skip
        common = {
            "client_order_id": order.client_order_id,
            "instrument_id": INST.id,
            "ts_event": 10 + n,
            "ts_init": 10 + n,
        }
        kernel.on_venue_event(OrderAccepted(venue_order_id=VenueOrderId(str(n)), **common))
        kernel.on_venue_event(
            OrderFilled(
                venue_order_id=VenueOrderId(str(n)), trade_id=TradeId(f"t{n}"), side=side, last_px=D("60000"),
                last_qty=D(qty), liquidity=LiquiditySide.MAKER, fee=D(0), fee_currency="USDT", **common,
            )
        )  # fmt: skip
    rows = store.read_journal()
    assert [(str(r.strategy_id), r.kind, r.side, r.quantity) for r in rows] == [
        ("A", JournalKind.ENTRY, OrderSide.BUY, D("0.002")),
        ("B", JournalKind.ENTRY, OrderSide.SELL, D("0.001")),  # B's own position: A's long does not count
        ("A", JournalKind.ENTRY, OrderSide.BUY, D("0.001")),
        ("A", JournalKind.EXIT, OrderSide.SELL, D("0.003")),
    ]
    assert rows[-1].reason.startswith("closed the position (maker fill, position 0.003 -> 0.000)")
    assert {r.run_id for r in rows} == {"live-1"} and journal.written == 4
