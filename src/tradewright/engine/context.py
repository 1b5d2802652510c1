"""The kernel's implementation of `StrategyContext`."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec

from tradewright.core.ids import ClientOrderId, InstrumentId
from tradewright.engine.executor import MultiLegExecutor, executor_for
from tradewright.model.book import OrderBook
from tradewright.model.bracket import Bracket, make_bracket
from tradewright.model.commands import CancelAllOrders, CancelOrder, ModifyOrder, SubmitOrder
from tradewright.model.enums import OrderSide, OrderType, TimeInForce
from tradewright.model.instrument import Instrument, to_decimal
from tradewright.model.multileg import Plan
from tradewright.model.orders import Order
from tradewright.model.position import Position
from tradewright.model.workflow import WorkflowState

if TYPE_CHECKING:
    from tradewright.engine.kernel import Kernel
    from tradewright.strategy.base import Strategy

__all__ = ["KernelContext"]


class KernelContext:
    """One strategy's handle on the kernel."""

    __slots__ = ("_kernel", "_log", "_strategy")

    def __init__(self, kernel: Kernel, strategy: Strategy) -> None:
        self._kernel = kernel
        self._strategy = strategy
        self._log = logging.getLogger(f"tradewright.strategy.{strategy.id}")

    @property
    def log(self) -> logging.Logger:
        return self._log

    def now_ns(self) -> int:
        return self._kernel.clock.now_ns()

    def instrument(self, instrument_id: InstrumentId) -> Instrument:
        return self._kernel.instrument(instrument_id)

    def book(self, instrument_id: InstrumentId) -> OrderBook:
        return self._kernel.books[instrument_id]

    def submit(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Decimal,
        price: Decimal | None = None,
        *,
        order_type: OrderType | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        post_only: bool = False,
        reduce_only: bool = False,
        expire_ns: int | None = None,
        trigger_price: Decimal | None = None,
        tag: str = "",
        oca_group: str = "",
    ) -> ClientOrderId:
        kernel = self._kernel
        inst = kernel.instrument(instrument_id)
        qty = to_decimal(quantity, what="quantity")
        px = None if price is None else to_decimal(price, what="price")
        inst.validate_order(px, qty)  # raises GridError naming the price or size
        if trigger_price is not None:
            inst.price_to_ticks(trigger_price)
        if order_type is None:
            order_type = OrderType.MARKET if px is None else OrderType.LIMIT
        cid = kernel.orders.next_id(self._strategy.id)
        command = SubmitOrder(
            client_order_id=cid,
            strategy_id=self._strategy.id,
            instrument_id=instrument_id,
            side=side,
            order_type=order_type,
            quantity=qty,
            price=px,
            trigger_price=trigger_price,
            time_in_force=time_in_force,
            expire_ns=expire_ns,
            post_only=post_only,
            reduce_only=reduce_only,
            oca_group=oca_group,
            ts_init=kernel.clock.now_ns(),
            actor=str(self._strategy.id) + (f":{tag}" if tag else ""),
        )
        if oca_group:
            kernel.contingent.submit_oca(command, self._strategy)
        else:
            kernel.submit(command, self._strategy)
        return cid

    def submit_bracket(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Decimal,
        *,
        stop_price: Decimal,
        target_price: Decimal | None = None,
        price: Decimal | None = None,
        stop_limit_price: Decimal | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        tag: str = "",
        stop_tag: str = "",
        target_tag: str = "",
    ) -> tuple[ClientOrderId, ClientOrderId, ClientOrderId | None]:
        kernel = self._kernel
        inst = kernel.instrument(instrument_id)
        qty = to_decimal(quantity, what="quantity")
        px = None if price is None else to_decimal(price, what="price")
        inst.validate_order(px, qty)
        for level in (stop_price, target_price, stop_limit_price):
            if level is not None:
                inst.price_to_ticks(level)
        sid = self._strategy.id
        now = kernel.clock.now_ns()
        entry = SubmitOrder(
            client_order_id=kernel.orders.next_id(sid),
            strategy_id=sid,
            instrument_id=instrument_id,
            side=side,
            order_type=OrderType.MARKET if px is None else OrderType.LIMIT,
            quantity=qty,
            price=px,
            time_in_force=time_in_force,
            ts_init=now,
            actor=str(sid) + (f":{tag}" if tag else ""),
        )
        stop_id = kernel.orders.next_id(sid)
        target_id = None if target_price is None else kernel.orders.next_id(sid)
        bracket = make_bracket(
            entry,
            stop_id=stop_id,
            stop_price=stop_price,
            target_id=target_id,
            target_price=target_price,
            stop_limit_price=stop_limit_price,
        )
        # Each child says why it exists in its own tag (the journal reads them).
        stop = msgspec.structs.replace(bracket.stop, actor=str(sid) + (f":{stop_tag}" if stop_tag else ""))
        target = bracket.target
        if target is not None:
            target = msgspec.structs.replace(
                target, actor=str(sid) + (f":{target_tag}" if target_tag else "")
            )
        kernel.contingent.submit_bracket(Bracket(entry, stop, target), self._strategy)
        return entry.client_order_id, stop_id, target_id

    def execute(self, plan: Plan) -> str:
        return executor_for(self._kernel).start(plan, self._strategy)

    def workflow(self, workflow_id: str) -> WorkflowState | None:
        executor = self._kernel.executor
        return executor.workflow(workflow_id) if isinstance(executor, MultiLegExecutor) else None

    def cancel(self, client_order_id: ClientOrderId) -> None:
        order = self._kernel.orders.get(client_order_id)
        if order is None:
            return
        self._kernel.cancel(
            CancelOrder(
                client_order_id=client_order_id,
                instrument_id=order.instrument_id,
                ts_init=self.now_ns(),
                actor=str(self._strategy.id),
            )
        )

    def modify(
        self, client_order_id: ClientOrderId, *, price: Decimal | None = None, quantity: Decimal | None = None
    ) -> None:
        order = self._kernel.orders.get(client_order_id)
        if order is None:
            return
        inst = self._kernel.instrument(order.instrument_id)
        if price is not None:
            inst.price_to_ticks(price)
        if quantity is not None:
            inst.size_to_lots(quantity)
        self._kernel.modify(
            ModifyOrder(
                client_order_id=client_order_id,
                instrument_id=order.instrument_id,
                price=price,
                quantity=quantity,
                ts_init=self.now_ns(),
                actor=str(self._strategy.id),
            )
        )

    def cancel_all(self, instrument_id: InstrumentId | None = None, side: OrderSide | None = None) -> None:
        kernel = self._kernel
        for sink in kernel.sinks:
            sink.on_command(
                CancelAllOrders(
                    instrument_id=instrument_id,
                    side=side,
                    ts_init=self.now_ns(),
                    actor=str(self._strategy.id),
                )
            )
        for order in self.open_orders(instrument_id):
            if side is None or order.side is side:
                self.cancel(order.client_order_id)

    def order(self, client_order_id: ClientOrderId) -> Order | None:
        return self._kernel.orders.get(client_order_id)

    def current_order_id(self, client_order_id: ClientOrderId) -> ClientOrderId:
        return self._kernel.replacements.current_order_id(client_order_id)

    def open_orders(self, instrument_id: InstrumentId | None = None) -> list[Order]:
        return [
            o for o in self._kernel.orders.open_orders(instrument_id) if o.strategy_id == self._strategy.id
        ]

    def position(self, instrument_id: InstrumentId) -> Position:
        return self._kernel.portfolio.position(self._kernel.instrument(instrument_id))

    def balance(self, currency: str) -> Decimal:
        return self._kernel.portfolio.balance(currency)

    def set_timer(
        self, name: str, interval_ns: int, *, start_ns: int | None = None, stop_ns: int | None = None
    ) -> None:
        self._kernel.set_timer(self._strategy, name, interval_ns, start_ns, stop_ns)

    def set_alarm(self, name: str, at_ns: int) -> None:
        self._kernel.set_alarm(self._strategy, name, at_ns)

    def cancel_timer(self, name: str) -> None:
        self._kernel.cancel_timer(self._strategy, name)
