"""Budgets per strategy drawn from one portfolio budget (risk/budget.py), in stages (live/multi_config.py):
an order beyond the strategy's share is denied, a reducing one always passes, and a stopped strategy's
share goes to the others."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradewright.core.clock import SimClock
from tradewright.core.errors import ConfigError
from tradewright.core.ids import ClientOrderId, StrategyId, TradeId, VenueOrderId
from tradewright.engine.kernel import Kernel
from tradewright.live.multi import DryRunExecution
from tradewright.live.multi_config import BudgetConfig
from tradewright.model.commands import SubmitOrder
from tradewright.model.enums import LiquiditySide, OrderSide, OrderStatus, OrderType
from tradewright.model.events import OrderAccepted, OrderDenied, OrderFilled
from tradewright.model.orders import Order
from tradewright.risk.budget import BudgetedRiskEngine
from tradewright.testkit.builders import btc_perp

D = Decimal
INST = btc_perp()


class _Events:
    def __init__(self) -> None:
        self.denied: list[OrderDenied] = []

    def on_event(self, event: object) -> None:
        if isinstance(event, OrderDenied):
            self.denied.append(event)

    def on_command(self, command: object) -> None:
        return None


def _kernel(budget: str = "1000") -> tuple[Kernel, BudgetedRiskEngine, _Events]:
    risk = BudgetedRiskEngine(None, D(budget), {"A": D(1), "B": D(1)})
    events = _Events()
    kernel = Kernel(SimClock(1), risk=risk, sinks=[events])
    kernel.add_instrument(INST)
    kernel.add_execution_client(DryRunExecution(INST.id.venue))
    return kernel, risk, events


_seq = [0]


def _submit(kernel: Kernel, sid: str, side: OrderSide, qty: str, price: str) -> Order:
    _seq[0] += 1
    cmd = SubmitOrder(
        ts_init=1,
        client_order_id=ClientOrderId(f"T-{sid}-{_seq[0]}"),
        strategy_id=StrategyId(sid),
        instrument_id=INST.id,
        side=side,
        order_type=OrderType.LIMIT,
        quantity=D(qty),
        price=D(price),
    )
    return kernel.submit(cmd, None)


def _fill(kernel: Kernel, order: Order) -> None:
    common = {"client_order_id": order.client_order_id, "instrument_id": INST.id, "ts_event": 2, "ts_init": 2}
    kernel.on_venue_event(OrderAccepted(venue_order_id=VenueOrderId("1"), **common))
    kernel.on_venue_event(
        OrderFilled(
            venue_order_id=VenueOrderId("1"),
            trade_id=TradeId(f"t{order.client_order_id}"),
            side=order.side,
            last_px=order.price or D(0),
            last_qty=order.quantity,
            liquidity=LiquiditySide.MAKER,
            fee=D(0),
            fee_currency="USDT",
            **common,
        )
    )


def test_budget_denies_an_order_beyond_the_strategy_share() -> None:
    kernel, risk, events = _kernel("1000")
    assert risk.shares() == {"A": D(500), "B": D(500)}
    first = _submit(kernel, "A", OrderSide.BUY, "0.005", "100000")  # 500: exactly its share
    second = _submit(kernel, "A", OrderSide.BUY, "0.001", "100000")  # with the first working: 600
    other = _submit(kernel, "B", OrderSide.BUY, "0.005", "100000")  # B's own share is untouched
    assert first.status is not OrderStatus.DENIED and other.status is not OrderStatus.DENIED
    assert second.status is OrderStatus.DENIED
    (denied,) = events.denied
    assert denied.reason == "budget" and "over its budget share of 500.00" in denied.message


def test_an_order_reducing_the_strategy_position_passes_beyond_its_share() -> None:
    kernel, risk, _ = _kernel("1000")
    _fill(kernel, _submit(kernel, "A", OrderSide.BUY, "0.004", "100000"))
    assert risk.net_position("A", INST.id) == D("0.004")
    risk.retire("A")  # its share is now 0
    assert _submit(kernel, "A", OrderSide.BUY, "0.001", "100000").status is OrderStatus.DENIED
    assert _submit(kernel, "A", OrderSide.SELL, "0.004", "100000").status is not OrderStatus.DENIED
    # ...but not one that would flip it short beyond its share.
    assert _submit(kernel, "A", OrderSide.SELL, "0.001", "100000").status is OrderStatus.DENIED


def test_a_stopped_strategy_share_goes_to_the_others() -> None:
    kernel, risk, _ = _kernel("1000")
    assert _submit(kernel, "B", OrderSide.BUY, "0.008", "100000").status is OrderStatus.DENIED  # 800 > 500
    risk.retire("A")
    assert risk.shares() == {"A": D(0), "B": D(1000)}
    assert _submit(kernel, "B", OrderSide.BUY, "0.008", "100000").status is not OrderStatus.DENIED


def test_stages_scale_the_portfolio_budget() -> None:
    assert BudgetConfig(total_quote=D(5000), stage="full").stage_quote == D(5000)
    assert BudgetConfig(total_quote=D(5000), stage="small", small_pct=D(10)).stage_quote == D(500)
    assert BudgetConfig(total_quote=D(5000), stage="paper").stage_quote == D(0)
    assert BudgetConfig().stage_quote is None
    with pytest.raises(ConfigError, match="small_pct"):
        BudgetConfig(total_quote=D(1), small_pct=D(0))
