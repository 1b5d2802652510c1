"""Capital budgets per (strategy, market), drawn from one portfolio budget, in stages.

`BudgetedRiskEngine` is the risk engine with one more pre-trade check: a strategy's order may not
take the notional of that strategy's own position on its market, plus its open orders on the same
side, plus the order, beyond its share of the budget. An order that only reduces the strategy's
position always passes. Shares are `stage budget x weight / sum of the weights still running`: when a
strategy stops (`retire`), the others share its part at once.

Everything else (limits, portfolio caps, breakers, the daily tripwire, the kill switch) is the
`RiskEngine`'s, across every venue and strategy of the node.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from tradewright.config.run import RiskConfig
from tradewright.core.ids import ClientOrderId, InstrumentId
from tradewright.model.commands import Command, SubmitOrder
from tradewright.model.enums import OrderSide
from tradewright.model.events import Event, OrderFilled, OrderSubmitted
from tradewright.model.orders import Order
from tradewright.risk.checks import Denial
from tradewright.risk.engine import RiskEngine

__all__ = ["BudgetedRiskEngine"]

_ZERO = Decimal(0)


class BudgetedRiskEngine(RiskEngine):
    """A `RiskEngine` that also holds each strategy within its share of `budget_quote`.

    `weights` maps each strategy id to its weight (strategies not in it are not budgeted).
    """

    def __init__(
        self,
        config: RiskConfig | None,
        budget_quote: Decimal,
        weights: dict[str, Decimal],
        *,
        log: logging.Logger | None = None,
    ) -> None:
        super().__init__(config, log=log)
        self.budget_quote = budget_quote
        self.weights = dict(weights)
        self.retired: set[str] = set()
        self._owner: dict[ClientOrderId, str] = {}
        self._net: dict[tuple[str, InstrumentId], Decimal] = {}

    def share(self, strategy_id: str) -> Decimal:
        """The notional this strategy may hold now (0 once it is retired)."""
        if strategy_id in self.retired or strategy_id not in self.weights:
            return _ZERO
        running = sum((w for sid, w in self.weights.items() if sid not in self.retired), _ZERO)
        return self.budget_quote * self.weights[strategy_id] / running if running > 0 else _ZERO

    def shares(self) -> dict[str, Decimal]:
        return {sid: self.share(sid) for sid in self.weights}

    def retire(self, strategy_id: str) -> None:
        """A strategy stopped: its share goes to the others."""
        if strategy_id in self.weights and strategy_id not in self.retired:
            self.retired.add(strategy_id)
            self.log.info(
                "budget: %s stopped; shares now %s",
                strategy_id,
                ", ".join(f"{s}={v:.2f}" for s, v in self.shares().items() if v > 0) or "none",
            )

    def net_position(self, strategy_id: str, instrument_id: InstrumentId) -> Decimal:
        """The strategy's own net position on a market (from its fills this session)."""
        return self._net.get((strategy_id, instrument_id), _ZERO)

    def check(self, command: Command, order: Order | None) -> Denial | None:
        if isinstance(command, SubmitOrder) and str(command.strategy_id) in self.weights:
            denial = self._check_budget(command)
            if denial is not None:
                self.denials[denial.reason] = self.denials.get(denial.reason, 0) + 1
                return denial
        return super().check(command, order)

    def on_event(self, event: Event) -> None:
        kind = type(event)
        if kind is OrderSubmitted:
            assert isinstance(event, OrderSubmitted)
            self._owner[event.client_order_id] = str(event.strategy_id)
        elif kind is OrderFilled:
            assert isinstance(event, OrderFilled)
            sid = self._owner.get(event.client_order_id)
            if sid is not None:
                key = (sid, event.instrument_id)
                signed = event.last_qty if event.side is OrderSide.BUY else -event.last_qty
                self._net[key] = self._net.get(key, _ZERO) + signed
        super().on_event(event)

    def _check_budget(self, cmd: SubmitOrder) -> Denial | None:
        sid = str(cmd.strategy_id)
        host = self.host
        inst = host.instruments.get(cmd.instrument_id)
        if inst is None:
            return None  # the engine's own check names the unknown instrument
        net = self.net_position(sid, cmd.instrument_id)
        same_side = sum(
            (
                o.leaves_qty
                for o in host.orders.open_orders(cmd.instrument_id)
                if str(o.strategy_id) == sid and o.side is cmd.side
            ),
            _ZERO,
        )
        direction = 1 if cmd.side is OrderSide.BUY else -1
        worst = net + direction * (same_side + cmd.quantity)
        if abs(worst) <= abs(net) and (net == 0 or (net > 0) == (worst >= 0)):
            return None  # it (with its side's open orders) only reduces the strategy's position
        price = cmd.price if cmd.price is not None else host.mark(cmd.instrument_id)
        if price is None:
            return Denial("budget", f"{sid}: no price to value the order against its budget (no market yet)")
        notional = abs(host.portfolio.exposure_value(inst, worst, price))
        share = self.share(sid)
        if notional <= share:
            return None
        return Denial(
            "budget",
            f"{sid}: {cmd.side} {cmd.quantity} {cmd.instrument_id} would take its exposure to {notional:.2f} "
            f"{inst.quote}, over its budget share of {share:.2f}",
        )
