"""Modify where the venue cannot amend: the engine cancels the order and, once the venue has confirmed
the cancel, places its replacement — so a strategy never sees a modify refused for asking something the
venue cannot do (`VenueCapabilities.modify` is False: Bitget spot, Polymarket, Turbine).

How it goes, for a `ModifyOrder` of order A (price p, total size q):

1. A's cancel is requested through the kernel (recorded first, like every cancel; the audit shows the
   `ModifyOrder` and then a `CancelOrder` by "<actor>:replace"). A shows PENDING_CANCEL meanwhile, so
   a quote manager leaves it alone.
2. When A ends, before its strategy hears of it: if A was cancelled, the replacement B (same side, type,
   time in force, post-only and reduce-only flags; price p; size q minus what A filled) is submitted
   through the kernel — its intent committed before it is sent, risk-checked like any order. If A filled
   completely or had filled q or more (as Binance cancels an amendment to a size not above what filled),
   there is nothing to replace. If the venue refused the cancel, A works on unchanged.
3. The strategy follows its order through `StrategyContext.current_order_id(A)`, which answers B from the
   moment B exists (the quote manager does this on every refresh).

Never two orders at once: B is sent only after the venue confirmed A's end, and with A's fills deducted.
After a crash between the two steps, the store holds A's cancel and no B: the restart reconciles A with
the venue and sends nothing; the modify is then carried out as a cancel alone, and the strategy (which
sees A ended) quotes anew.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import TYPE_CHECKING

from tradewright.core.ids import ClientOrderId
from tradewright.model.commands import CancelOrder, ModifyOrder, SubmitOrder
from tradewright.model.enums import OrderStatus
from tradewright.model.events import OrderCancelRejected, OrderEvent
from tradewright.model.orders import Order

if TYPE_CHECKING:
    from tradewright.engine.kernel import Kernel
    from tradewright.strategy.base import Strategy

__all__ = ["CancelReplace"]

_REPLACE_ACTOR = ":replace"


class CancelReplace:
    """The kernel's cancel-then-replace for venues without native amend (see the module docstring)."""

    def __init__(self, kernel: Kernel, log: logging.Logger | None = None) -> None:
        self._kernel = kernel
        self._log = log or logging.getLogger("tradewright.engine.replace")
        self.waiting: dict[ClientOrderId, ModifyOrder] = {}  # order being cancelled -> the modify it carries
        self._successor: dict[ClientOrderId, ClientOrderId] = {}
        self.replaced = 0  # replacements sent
        self.dropped = 0  # modifies that ended without a replacement (filled first, cancel refused, denied)

    def start(self, command: ModifyOrder, order: Order) -> bool:
        """Cancel `order` to replace it as `command` says; False if the cancel was not sent."""
        cancel = CancelOrder(
            client_order_id=order.client_order_id,
            instrument_id=order.instrument_id,
            ts_init=command.ts_init,
            actor=f"{command.actor}{_REPLACE_ACTOR}",
        )
        self.waiting[order.client_order_id] = command
        if not self._kernel.cancel(cancel):
            del self.waiting[order.client_order_id]
            return False
        return True

    def current_order_id(self, client_order_id: ClientOrderId) -> ClientOrderId:
        """The order that now carries this order's intent: itself, or the last of its replacements."""
        cid = client_order_id
        seen = 0
        while cid in self._successor and seen < 10_000:
            cid = self._successor[cid]
            seen += 1
        return cid

    def on_order_event(self, event: OrderEvent) -> None:
        """Called by the kernel for every applied order event, before the owner strategy hears it."""
        cid = event.client_order_id
        command = self.waiting.get(cid)
        if command is None:
            return
        order = self._kernel.orders.get(cid)
        if order is None:
            del self.waiting[cid]
            return
        if not order.is_closed:
            if type(event) is OrderCancelRejected:
                del self.waiting[cid]
                self.dropped += 1
                self._log.info(
                    "modify of %s dropped: the venue refused its cancel; it works on unchanged", cid
                )
            return
        del self.waiting[cid]
        total = command.quantity if command.quantity is not None else order.quantity
        leaves = total - order.filled_qty
        strategy = next((s for s in self._kernel.strategies if s.id == order.strategy_id), None)
        if strategy is not None and self._kernel.is_stopped(strategy):
            self.dropped += 1  # stopping (shutdown cancels everything): a replacement would outlive it
            self._log.info("modify of %s: not replaced, strategy %s has stopped", cid, strategy.id)
            return
        if order.status is not OrderStatus.CANCELED or leaves <= 0:
            self.dropped += 1
            self._log.info(
                "modify of %s: nothing to replace (the order is %s with %s of %s filled)",
                cid, order.status.value, order.filled_qty, total,
            )  # fmt: skip
            return
        self._replace(order, command, leaves, strategy)

    def _replace(
        self, order: Order, command: ModifyOrder, leaves: Decimal, strategy: Strategy | None
    ) -> None:
        kernel = self._kernel
        new_cid = kernel.orders.next_id(order.strategy_id)
        replacement = SubmitOrder(
            client_order_id=new_cid,
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            side=order.side,
            order_type=order.order_type,
            quantity=leaves,
            price=command.price if command.price is not None else order.price,
            trigger_price=order.trigger_price,
            time_in_force=order.time_in_force,
            expire_ns=order.expire_ns,
            post_only=order.post_only,
            reduce_only=order.reduce_only,
            oca_group=order.oca_group,
            ts_init=kernel.clock.now_ns(),
            actor=f"{command.actor}{_REPLACE_ACTOR} {order.client_order_id}",
        )
        # Followed from now on (a denial ends B, and the strategy then sees B ended, not A lost).
        self._successor[order.client_order_id] = new_cid
        kernel.submit(replacement, strategy)
        self.replaced += 1
