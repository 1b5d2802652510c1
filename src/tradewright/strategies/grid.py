"""Grid (B3): resting orders at evenly spaced levels around a centre that trails the price.

Below the centre each level is a slot that buys at its price; when that buy fills the slot re-arms as
a sell one spacing higher (taking the profit of one spacing), and when that fills it re-arms the buy.
Above the centre the slots sell first and buy back one spacing lower. Spacing is `spacing_ticks`
(``spacing = "fixed"``) or `atr_multiple` ATRs rounded to ticks (``"atr"``, fixed at each re-centring).
When the close moves `trail_levels` spacings away from the centre the window follows it: flat slots
are cancelled and rebuilt around the new centre; slots holding inventory keep their exit order and are
dropped once it fills. Entries wait while the position and the working entries on their side would
exceed `max_inventory` (default: one window's worth), so a trend cannot pile up inventory without end.

The slots live in `GridSlots` (each slot: home price, side, price, state, order id). Its state is
what `snapshot_state` saves, and `GridSlots.rebuild` derives the same slots from the grid's centre and
spacing plus a snapshot of the open orders and the fills, so a restarted grid picks up where it was.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

from tradewright.core.ids import ClientOrderId, InstrumentId
from tradewright.indicators import ATR
from tradewright.model.bar_view import BarView
from tradewright.model.enums import OrderSide
from tradewright.model.events import OrderEvent, OrderFilled
from tradewright.strategy.base import Strategy

__all__ = ["Grid", "GridConfig", "GridSlots", "OrderSnapshot", "Slot", "SlotState", "SlotView"]


class GridConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Levels per side; spacing in ticks or ATRs; `order_size` in the base asset (contracts)."""

    order_size: Decimal
    levels: Annotated[int, msgspec.Meta(ge=1, le=100)] = 5
    spacing: Literal["fixed", "atr"] = "fixed"
    spacing_ticks: Annotated[int, msgspec.Meta(ge=1)] = 10
    atr_period: Annotated[int, msgspec.Meta(ge=1)] = 14
    atr_multiple: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    trail_levels: Annotated[int, msgspec.Meta(ge=1)] = 2
    max_inventory: Decimal | None = None  # base units either side; default: one window, levels x order_size

    def __post_init__(self) -> None:
        if not self.order_size.is_finite() or self.order_size <= 0:
            raise ValueError(f"`order_size` must be a number > 0, got {self.order_size}")
        if self.max_inventory is not None and (not self.max_inventory.is_finite() or self.max_inventory <= 0):
            raise ValueError(f"`max_inventory` must be a number > 0, got {self.max_inventory}")

    @property
    def inventory_limit(self) -> Decimal:
        return self.levels * self.order_size if self.max_inventory is None else self.max_inventory


class SlotState(enum.StrEnum):
    EMPTY = "empty"  # wants an order (armed but not yet sent, or its order ended)
    WORKING = "working"  # its order is at the venue


@dataclass(slots=True)
class Slot:
    """One grid level. `home` is the level's price (ticks); `entry` the side it opens with there."""

    home: int
    entry: OrderSide
    side: OrderSide
    price: int
    state: SlotState = SlotState.EMPTY
    order_id: str | None = None

    @property
    def holding(self) -> bool:
        """Its entry filled: it holds inventory and works the exit."""
        return self.side is not self.entry


class SlotView(msgspec.Struct, frozen=True, kw_only=True):
    """One slot as an operator sees it (`Grid.slot_views`): the level's price, the side and price it works
    now, its state, its order, whether it holds inventory and whether it leaves once its exit fills."""

    home_price: Decimal
    entry: OrderSide
    side: OrderSide
    price: Decimal
    state: SlotState
    order_id: str | None
    holding: bool
    retiring: bool


class OrderSnapshot(msgspec.Struct, frozen=True):
    """An order as a restart sees it: id, side and price in ticks."""

    order_id: str
    side: OrderSide
    price: int


class GridSlots:
    """The slot manager: arms, flips and trails slots; knows which slot an order belongs to."""

    def __init__(self, center: int, spacing: int, levels: int) -> None:
        self.center = center
        self.spacing = spacing
        self.levels = levels
        self.slots: dict[int, Slot] = {}
        self.retiring: set[int] = set()  # homes outside the window, kept until their exit fills
        for home, entry in self.layout(center, spacing, levels):
            self.slots[home] = Slot(home=home, entry=entry, side=entry, price=home)

    @staticmethod
    def layout(center: int, spacing: int, levels: int) -> list[tuple[int, OrderSide]]:
        """The homes of a window: `levels` buys below the centre and `levels` sells above it."""
        buys = [(center - i * spacing, OrderSide.BUY) for i in range(1, levels + 1)]
        sells = [(center + i * spacing, OrderSide.SELL) for i in range(1, levels + 1)]
        return buys + sells

    def exit_price(self, slot: Slot) -> int:
        return slot.home + self.spacing if slot.entry is OrderSide.BUY else slot.home - self.spacing

    def slot_of(self, order_id: str) -> Slot | None:
        for slot in self.slots.values():
            if slot.order_id == order_id:
                return slot
        return None

    def filled(self, slot: Slot) -> bool:
        """Flip a slot whose order filled; return False if the slot is retired instead."""
        if slot.holding:
            if slot.home in self.retiring:
                del self.slots[slot.home]
                self.retiring.discard(slot.home)
                return False
            slot.side, slot.price = slot.entry, slot.home
        else:
            slot.side, slot.price = slot.entry.opposite, self.exit_price(slot)
        slot.state, slot.order_id = SlotState.EMPTY, None
        return True

    def recenter(self, center: int, spacing: int) -> list[Slot]:
        """Move the window; return the flat slots dropped (their orders must be cancelled)."""
        self.center, self.spacing = center, spacing
        homes = dict(self.layout(center, spacing, self.levels))
        dropped = []
        for home, slot in list(self.slots.items()):
            if slot.holding:
                if home not in homes or homes[home] is not slot.entry:
                    self.retiring.add(home)
                continue
            del self.slots[home]
            dropped.append(slot)
        for home, entry in homes.items():
            if home not in self.slots:
                self.slots[home] = Slot(home=home, entry=entry, side=entry, price=home)
        return dropped

    def snapshot(self) -> dict[str, Any]:
        return {
            "center": self.center,
            "spacing": self.spacing,
            "levels": self.levels,
            "retiring": sorted(self.retiring),
            "slots": [
                {**asdict(s), "entry": s.entry.value, "side": s.side.value, "state": s.state.value}
                for s in sorted(self.slots.values(), key=lambda s: s.home)
            ],
        }

    @classmethod
    def from_snapshot(cls, state: dict[str, Any]) -> GridSlots:
        grid = cls(int(state["center"]), int(state["spacing"]), int(state["levels"]))
        grid.slots = {}
        for raw in state["slots"]:
            slot = Slot(
                home=int(raw["home"]),
                entry=OrderSide(raw["entry"]),
                side=OrderSide(raw["side"]),
                price=int(raw["price"]),
                state=SlotState(raw["state"]),
                order_id=raw["order_id"],
            )
            grid.slots[slot.home] = slot
        grid.retiring = {int(h) for h in state.get("retiring", [])}
        return grid

    @classmethod
    def rebuild(
        cls,
        center: int,
        spacing: int,
        levels: int,
        open_orders: Iterable[OrderSnapshot],
        fills: Iterable[OrderSnapshot],
    ) -> GridSlots:
        """Derive the slots from the window, the fills so far (in order) and the orders still open.

        A fill at a slot's entry (side and home) means it holds inventory; one at its exit means it
        is flat again. An open order at the price and side the slot works next is its order.
        """
        grid = cls(center, spacing, levels)
        for fill in fills:
            for slot in grid.slots.values():
                if fill.side is slot.side and fill.price == slot.price:
                    grid.filled(slot)
                    break
        for order in open_orders:
            for slot in grid.slots.values():
                if slot.state is SlotState.EMPTY and order.side is slot.side and order.price == slot.price:
                    slot.state, slot.order_id = SlotState.WORKING, order.order_id
                    break
        return grid


class Grid(Strategy):
    Config = GridConfig

    def __init__(self, strategy_id: str, instruments: list[InstrumentId], config: GridConfig) -> None:
        super().__init__(strategy_id, instruments, config)
        self.cfg = config
        self.iid = instruments[0]
        self.atr = ATR(config.atr_period)
        self.grid: GridSlots | None = None

    def spacing_ticks(self) -> int | None:
        """The spacing for a new window (None while the ATR warms up)."""
        if self.cfg.spacing == "fixed":
            return self.cfg.spacing_ticks
        if not self.atr.ready:
            return None
        tick = float(self.ctx.instrument(self.iid).tick_size)
        return max(1, round(self.atr.value * self.cfg.atr_multiple / tick))

    def on_bar(self, bar: BarView, **kw: Any) -> None:
        self.atr.update(bar.high, bar.low, bar.close)
        close = bar.close_ticks
        grid = self.grid
        if grid is None:
            spacing = self.spacing_ticks()
            if spacing is None:
                return
            self.grid = GridSlots(close, spacing, self.cfg.levels)
        elif abs(close - grid.center) >= self.cfg.trail_levels * grid.spacing:
            spacing = self.spacing_ticks() or grid.spacing
            steps = math.floor((close - grid.center) / grid.spacing)
            for slot in grid.recenter(grid.center + steps * grid.spacing, spacing):
                if slot.order_id is not None:
                    self.ctx.cancel(ClientOrderId(slot.order_id))
        self.arm()

    def arm(self) -> None:
        """Send an order for every empty slot; an entry only while the inventory limit allows it.

        Exits always go out. An entry goes out when the slots holding inventory on its side plus the
        working entries on that side, plus this one, stay within `max_inventory` (a window can hold
        longs and shorts at once after it trails, so each side is bounded, and so is the position).
        """
        grid = self.grid
        assert grid is not None
        inst = self.ctx.instrument(self.iid)
        size = self.cfg.order_size
        exposure = {OrderSide.BUY: Decimal(0), OrderSide.SELL: Decimal(0)}
        for slot in grid.slots.values():
            if slot.holding or slot.state is SlotState.WORKING:
                exposure[slot.entry] += size
        limit = self.cfg.inventory_limit
        for slot in sorted(grid.slots.values(), key=lambda s: abs(s.price - grid.center)):
            if slot.state is not SlotState.EMPTY:
                continue
            if not slot.holding:
                if exposure[slot.side] + size > limit:
                    continue
                exposure[slot.side] += size
            cid = self.ctx.submit(self.iid, slot.side, size, inst.ticks_to_price(slot.price))
            slot.state, slot.order_id = SlotState.WORKING, cid

    def on_fill(self, fill: OrderFilled, **kw: Any) -> None:
        grid = self.grid
        order = self.ctx.order(fill.client_order_id)
        if grid is None or (order is not None and order.is_open):
            return
        slot = grid.slot_of(fill.client_order_id)
        if slot is not None and grid.filled(slot):
            self.arm()  # re-arm at once: the slot's next order goes out with this fill

    def on_order(self, event: OrderEvent, **kw: Any) -> None:
        grid = self.grid
        order = self.ctx.order(event.client_order_id)
        if grid is None or order is None or not order.is_closed or order.filled_qty > 0:
            return
        slot = grid.slot_of(event.client_order_id)
        if slot is not None:  # rejected or cancelled without a fill: send it again at the next bar
            slot.state, slot.order_id = SlotState.EMPTY, None

    def slot_views(self) -> list[SlotView]:
        """The slots, lowest price first (the read model for the API, the dashboard and `tradewright status`)."""
        grid = self.grid
        if grid is None:
            return []
        inst = self.ctx.instrument(self.iid)
        return [
            SlotView(
                home_price=inst.ticks_to_price(slot.home),
                entry=slot.entry,
                side=slot.side,
                price=inst.ticks_to_price(slot.price),
                state=slot.state,
                order_id=slot.order_id,
                holding=slot.holding,
                retiring=slot.home in grid.retiring,
            )
            for slot in sorted(grid.slots.values(), key=lambda s: s.home)
        ]

    def snapshot_state(self) -> dict[str, Any]:
        return {} if self.grid is None else {"grid": self.grid.snapshot()}

    def restore_state(self, state: dict[str, Any]) -> None:
        if "grid" in state:
            self.grid = GridSlots.from_snapshot(state["grid"])
