"""The strategy the drift tests run live: it buys a position once, then keeps one probe bid working far
below the market (replaced every `probe_every_s`), so a halt shows as refused probes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from tradewright.core.ids import ClientOrderId, InstrumentId
from tradewright.model.enums import OrderSide
from tradewright.model.events import TimerFired
from tradewright.strategy.base import Strategy


class HolderConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    size: Decimal
    probe_every_s: float = 0.5


class Holder(Strategy):
    Config = HolderConfig

    def __init__(self, strategy_id: str, instruments: list[InstrumentId], config: HolderConfig) -> None:
        super().__init__(strategy_id, instruments, config)
        self.cfg = config
        self.iid = instruments[0]
        self.bought = False
        self.probe: ClientOrderId | None = None

    def snapshot_state(self) -> dict[str, Any]:
        return {"bought": self.bought}

    def restore_state(self, state: dict[str, Any]) -> None:
        self.bought = bool(state["bought"])

    def on_start(self, **kw: Any) -> None:
        self.ctx.set_timer("probe", int(self.cfg.probe_every_s * 1e9))

    def on_timer(self, event: TimerFired, **kw: Any) -> None:
        book = self.ctx.book(self.iid)
        if book.best_bid_tick is None:
            return
        if not self.bought:
            self.bought = True
            self.ctx.submit(self.iid, OrderSide.BUY, self.cfg.size)  # market order: the position
            return
        if self.probe is not None:
            self.ctx.cancel(self.probe)
        inst = self.ctx.instrument(self.iid)
        price = inst.round_price_down(book.best_bid * Decimal("0.97"))  # type: ignore[operator]
        size = inst.round_size_down(inst.min_notional / price) + inst.lot_size  # just above the minimum
        self.probe = self.ctx.submit(self.iid, OrderSide.BUY, size, price, post_only=True)
