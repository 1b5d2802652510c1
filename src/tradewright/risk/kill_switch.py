"""The kill switch (C6): cancel every open order, close every position, then halt the node.

Positions are closed with reduce-only limit orders priced at the edge of what the price band allows
(the reference price ∓ min(price_band_bps, flatten_max_slippage_bps)): marketable while the book is
within the band, never a fat-finger. Every `flatten_retry_ms` the switch looks again: orders it placed
that are still working are cancelled, and what remains of a position is offered again at a fresh
price, up to `flatten_max_attempts`. `FlattenStarted` and `FlattenFinished` record it, with the reason.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from tradewright.core.ids import ClientOrderId, StrategyId
from tradewright.model.commands import CancelOrder, SubmitOrder
from tradewright.model.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from tradewright.model.events import FlattenFinished, FlattenStarted, TradingState
from tradewright.model.instrument import Instrument, InstrumentKind
from tradewright.model.orders import Order
from tradewright.risk.exposure import reference_price
from tradewright.risk.host import TradingHost
from tradewright.risk.state import NODE

if TYPE_CHECKING:
    from tradewright.risk.engine import RiskEngine

__all__ = ["KILL_SWITCH", "RISK_STRATEGY_ID", "KillSwitch", "cancel_orders"]

KILL_SWITCH = "kill_switch"
RISK_STRATEGY_ID = StrategyId("RISK")
_BPS = Decimal(10_000)
_MS = 1_000_000


def cancel_orders(host: TradingHost, orders: list[Order], actor: str) -> None:
    """Ask for the cancel of each order, as `actor` (the risk engine's own cancels always pass)."""
    for order in orders:
        host.cancel(
            CancelOrder(
                client_order_id=order.client_order_id,
                instrument_id=order.instrument_id,
                ts_init=host.clock.now_ns(),
                actor=actor,
            )
        )


class KillSwitch:
    """Flatten everything; keep at it until flat or out of attempts."""

    def __init__(self, engine: RiskEngine) -> None:
        self._engine = engine
        self._own: set[ClientOrderId] = set()
        self._gen = 0
        self.active = False
        self.reason = ""
        self.attempts = 0

    def owns(self, cid: ClientOrderId) -> bool:
        """True for the closing orders the kill switch placed itself."""
        return cid in self._own

    def start(self, reason: str, actor: str) -> None:
        engine = self._engine
        host = engine.host
        positions = {str(p.instrument.id): p.quantity for p in host.portfolio.positions if p.quantity != 0}
        to_cancel = self._cancellable(own=None)
        engine.emit(
            FlattenStarted(
                reason=reason,
                actor=actor,
                orders_canceled=len(to_cancel),
                positions=positions,
                ts_event=host.clock.now_ns(),
                ts_init=host.clock.now_ns(),
            )
        )
        self._gen += 1
        self.active = True
        self.reason = reason
        self.attempts = 1
        self._cancel(to_cancel, f"risk:{KILL_SWITCH}")
        self._close_positions()
        engine.hold(NODE, KILL_SWITCH, TradingState.HALTED, f"kill switch ({actor}): {reason}")
        if not self.check_done():
            self._schedule_retry()

    def check_done(self) -> bool:
        """Finish (complete) when every position is flat and no order is open; return whether finished."""
        if not self.active:
            return True
        host = self._engine.host
        if any(p.quantity != 0 for p in host.portfolio.positions) or host.orders.open_orders():
            return False
        self._finish(complete=True)
        return True

    # --- internals --------------------------------------------------------------------------
    def _schedule_retry(self) -> None:
        host = self._engine.host
        host.schedule(host.clock.now_ns() + self._engine.cfg.flatten_retry_ms * _MS, self._retry, self._gen)

    def _retry(self, gen: int) -> None:
        if gen != self._gen or self.check_done():
            return
        if self.attempts >= self._engine.cfg.flatten_max_attempts:
            self._finish(complete=False)
            return
        self.attempts += 1
        self._cancel(self._cancellable(own=False), f"risk:{KILL_SWITCH}")
        stale = self._cancellable(own=True)
        if stale:
            self._cancel(stale, f"risk:{KILL_SWITCH}:reprice")  # offered again at a fresh price next time
        elif not any(self.owns(o.client_order_id) for o in self._engine.host.orders.open_orders()):
            self._close_positions()
        self._schedule_retry()

    def _finish(self, *, complete: bool) -> None:
        host = self._engine.host
        self.active = False
        residual = {str(p.instrument.id): p.quantity for p in host.portfolio.positions if p.quantity != 0}
        now = host.clock.now_ns()
        self._engine.emit(
            FlattenFinished(
                reason=self.reason,
                complete=complete,
                attempts=self.attempts,
                residual=residual,
                open_orders=len(host.orders.open_orders()),
                ts_event=now,
                ts_init=now,
            )
        )

    def _cancellable(self, *, own: bool | None) -> list[Order]:
        """Open orders not already being cancelled: all (own None), only ours, or only the others."""
        out = []
        for order in self._engine.host.orders.open_orders():
            if order.status is OrderStatus.PENDING_CANCEL:
                continue
            if own is None or self.owns(order.client_order_id) == own:
                out.append(order)
        return out

    def _cancel(self, orders: list[Order], actor: str) -> None:
        cancel_orders(self._engine.host, orders, actor)

    def _close_positions(self) -> None:
        host = self._engine.host
        for pos in host.portfolio.positions:
            inst = pos.instrument
            if pos.quantity == 0 or inst.id not in host.instruments:
                continue
            price = self.closing_price(inst, OrderSide.SELL if pos.quantity > 0 else OrderSide.BUY)
            if price is None:  # an empty book: nothing to price against; the next attempt looks again
                self._engine.log.warning("kill switch: %s has no reference price; retrying later", inst.id)
                continue
            side = OrderSide.SELL if pos.quantity > 0 else OrderSide.BUY
            for size in self._chunks(inst, abs(pos.quantity)):
                cid = host.orders.next_id(RISK_STRATEGY_ID)
                self._own.add(cid)
                host.submit(
                    SubmitOrder(
                        client_order_id=cid,
                        strategy_id=RISK_STRATEGY_ID,
                        instrument_id=inst.id,
                        side=side,
                        order_type=OrderType.LIMIT,
                        quantity=size,
                        price=price,
                        time_in_force=TimeInForce.GTC,
                        reduce_only=True,
                        ts_init=host.clock.now_ns(),
                        actor=f"risk:{KILL_SWITCH}",
                    ),
                    None,
                )

    def closing_price(self, inst: Instrument, side: OrderSide) -> Decimal | None:
        """The most aggressive price inside the band: reference ∓ the allowed slippage, on the grid."""
        ref = reference_price(self._engine.host, inst.id)
        if ref is None:
            return None
        cfg = self._engine.cfg
        band = self._engine.limits_for(inst.id).price_band_bps
        bps = cfg.flatten_max_slippage_bps if band is None else min(band, cfg.flatten_max_slippage_bps)
        if side is OrderSide.SELL:
            price = inst.round_price_up(ref * (1 - bps / _BPS))
            return max(price, inst.tick_size)
        price = inst.round_price_down(ref * (1 + bps / _BPS))
        if inst.kind is InstrumentKind.BINARY_OUTCOME:
            price = min(price, 1 - inst.tick_size)
        return price

    def _chunks(self, inst: Instrument, size: Decimal) -> list[Decimal]:
        """Split `size` into orders no larger than `max_order_size_base` (on the lot grid)."""
        cap = self._engine.limits_for(inst.id).max_order_size_base
        if cap is None:
            return [size]
        step = inst.round_size_down(cap)
        if step <= 0:
            return [size]
        out = []
        while size > step:
            out.append(step)
            size -= step
        out.append(size)
        return out
