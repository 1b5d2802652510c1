"""A strategy's bracket through the engine to Alpaca: `ctx.submit_bracket` on a kernel whose journal is the
state store goes to the local Alpaca as one `order_class = "bracket"` order (Alpaca holds the legs), the
three intents recorded first; the entry fills, the stop fills, Alpaca cancels the target, and the kernel,
its portfolio and the store agree with Alpaca's account to the cent."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.venues.alpaca.harness import KEY, SECRET, alpaca, config
from tests.venues.kit import until
from tradewright.core.clock import LiveClock
from tradewright.engine.kernel import Kernel
from tradewright.live.store_sink import StoreSink
from tradewright.model.enums import OrderSide, OrderStatus
from tradewright.model.events import OrderEvent
from tradewright.portfolio.portfolio import Portfolio
from tradewright.store.sql_store import open_store
from tradewright.strategy.base import Strategy
from tradewright.venues._common.credentials import Credentials
from tradewright.venues._common.ports import VenueHooks
from tradewright.venues.alpaca import connect

D = Decimal


class Trader(Strategy):
    def __init__(self, iid: Any) -> None:
        super().__init__("BRK", [iid])
        self.heard: list[OrderEvent] = []

    def on_order(self, event: OrderEvent, **kw: Any) -> None:
        self.heard.append(event)


def test_a_bracket_from_the_engine_is_one_alpaca_bracket_order_and_alpaca_cancels_the_other_leg(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"

    async def scenario() -> None:
        async with alpaca() as server:
            store = open_store(url)
            sink = StoreSink(store)
            kernel = Kernel(LiveClock(), portfolio=Portfolio({"USD": D(100_000)}), journal=sink, sinks=[sink])
            hooks = VenueHooks(clock=kernel.clock, emit=lambda e: kernel.on_venue_event(e))  # type: ignore[arg-type]
            v = await connect(
                config(server), Credentials("Alpaca", {"api_key": KEY, "secret": SECRET}), hooks
            )
            stream = asyncio.create_task(v.execution.run_user_stream())
            try:
                assert await v.execution.wait_user_stream(10)
                (iid,) = v.instruments
                inst = v.instruments[iid]
                kernel.add_instrument(inst)
                store.save_instrument(inst, ts_ns=kernel.clock.now_ns())
                kernel.add_execution_client(v.execution)
                trader = Trader(iid)
                kernel.add_strategy(trader)
                await server.step(2, "bars:NVDA")  # a quote to trade against

                entry, stop, target = trader.ctx.submit_bracket(
                    iid, OrderSide.BUY, D(10), stop_price=D("10.00"), target_price=D("30.00")
                )
                assert target is not None
                # One order at Alpaca, a bracket with its two legs (held until the entry is complete).
                await until(
                    lambda: len(list(server.protocol.book.orders.values())) == 3,
                    timeout_s=10,
                    what="the bracket",
                )  # type: ignore[attr-defined]
                sent = list(server.protocol.book.orders.values())  # type: ignore[attr-defined]
                parent = next(o for o in sent if o.client_order_id == entry)
                assert parent.order_class == "bracket"
                await until(
                    lambda: kernel.portfolio.position(inst).quantity == 10,
                    timeout_s=10,
                    what="the entry fill",
                )
                # The stop fills at Alpaca: Alpaca cancels the target (one cancels the other).
                leg = next(o for o in sent if o.type == "stop")
                server.protocol.book.fill_at_quote(leg)  # type: ignore[attr-defined]
                orders = kernel.orders
                await until(
                    lambda: orders.get(target).status is OrderStatus.CANCELED  # type: ignore[union-attr]
                    and orders.get(stop).status is OrderStatus.FILLED,  # type: ignore[union-attr]
                    timeout_s=10, what="the stop's fill and the target's cancel",
                )  # fmt: skip
                assert kernel.portfolio.position(inst).quantity == 0 and not kernel.orders.open_orders()
                snapshot = await v.execution.account([iid])
                assert snapshot.balances["USD"] == kernel.portfolio.balance("USD")
                state = store.load_state(orders_since_ns=0)
                assert {cid: state.orders[cid].status for cid in (entry, stop, target)} == {
                    entry: OrderStatus.FILLED,
                    stop: OrderStatus.FILLED,
                    target: OrderStatus.CANCELED,
                }
                assert state.orders[stop].parent_order_id == entry == state.orders[target].parent_order_id
                assert state.balances["USD"] == snapshot.balances["USD"]
            finally:
                stream.cancel()
                await asyncio.gather(stream, return_exceptions=True)
                await v.close()
                store.close()

    asyncio.run(scenario())
