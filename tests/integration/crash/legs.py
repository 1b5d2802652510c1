"""The strategy the live workflow crash tests run: it hands the node one plan of marketable IOC legs, leg i
on the i-th instrument (the node's own first, then `instruments`) on side `sides[i]`.

`start_plans` is how many plans this process may start: the tests give 1 to the node they crash and 0 to
the node that restarts, so the restarted node only carries on the workflow it finds in the store.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import msgspec

from tradewright.core.ids import InstrumentId
from tradewright.model.book import OrderBook
from tradewright.model.enums import OrderSide, TimeInForce
from tradewright.model.events import WorkflowEvent, WorkflowFinished
from tradewright.model.multileg import ExecutionPolicy, LegSpec, Plan
from tradewright.strategy.base import BookTrigger, Strategy


class LegsConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    size: Decimal
    sides: list[OrderSide]  # leg i trades the i-th instrument (the node's own first) on sides[i]
    instruments: list[str] = []  # more instruments, for a node that trades several
    start_plans: Annotated[int, msgspec.Meta(ge=0)] = 1
    through_ticks: Annotated[int, msgspec.Meta(ge=0)] = 50  # how far through the touch each leg is priced
    leg_timeout_ms: Annotated[int, msgspec.Meta(ge=1)] = 5_000


class LegsTrader(Strategy):
    Config = LegsConfig
    book_trigger = BookTrigger.TOP_PRICE

    def __init__(self, strategy_id: str, instruments: list[InstrumentId], config: LegsConfig) -> None:
        listed = [InstrumentId.parse(text) for text in config.instruments]
        super().__init__(strategy_id, list(dict.fromkeys([*instruments, *listed])), config)
        self.cfg = config
        self.started = 0
        self.active: str | None = None

    def on_book(self, book: OrderBook, **kw: Any) -> None:
        if self.active is not None or self.started >= self.cfg.start_plans:
            return
        legs = []
        for iid, side in zip(self.instruments, self.cfg.sides, strict=False):
            inst = self.ctx.instrument(iid)
            top = self.ctx.book(iid)
            touch = top.best_ask_tick if side is OrderSide.BUY else top.best_bid_tick
            if touch is None:
                return
            price = inst.ticks_to_price(touch + side.sign * self.cfg.through_ticks)
            legs.append(
                LegSpec(
                    instrument_id=iid,
                    side=side,
                    quantity=self.cfg.size,
                    limit_price=price,
                    time_in_force=TimeInForce.IOC,
                )
            )
        self.started += 1
        policy = ExecutionPolicy(leg_timeout_ms=self.cfg.leg_timeout_ms)
        self.active = self.ctx.execute(Plan(legs=tuple(legs), policy=policy))

    def on_workflow(self, event: WorkflowEvent, **kw: Any) -> None:
        if isinstance(event, WorkflowFinished) and event.workflow_id == self.active:
            self.ctx.log.info("workflow %s finished %s", event.workflow_id, event.status)
            self.active = None
