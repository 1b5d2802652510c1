"""B3, the grid: slots re-arm after their fills, the window trails the price, and the slots can be rebuilt."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.unit.strategies.kit import MINUTE, MNQ, T0, make_bars, run_bars
from tradewright.model.bar_view import BarView
from tradewright.model.enums import OrderSide
from tradewright.model.events import OrderFilled
from tradewright.strategies.grid import Grid, GridConfig, GridSlots, OrderSnapshot, SlotState

D = Decimal
FLAT = (1000, 1001, 999, 1000)


class RecordingGrid(Grid):
    """The grid, plus a record of its orders and fills, and its slots and open orders after bar `look_at`."""

    def __init__(self, config: GridConfig, look_at: int = -1) -> None:
        super().__init__("GRID", [MNQ.id], config)
        self.look_at = look_at
        self.fills: list[OrderFilled] = []
        self.seen: dict[str, Any] = {}

    def on_fill(self, fill: OrderFilled, **kw: Any) -> None:
        self.fills.append(fill)
        super().on_fill(fill, **kw)

    def on_bar(self, bar: BarView, **kw: Any) -> None:
        super().on_bar(bar, **kw)
        if bar.index == self.look_at:
            assert self.grid is not None
            self.seen = {
                "slots": self.grid.snapshot(),
                "state": self.snapshot_state(),
                "open": [
                    OrderSnapshot(o.client_order_id, o.side, MNQ.price_to_ticks(o.price))
                    for o in self.ctx.open_orders(MNQ.id)
                    if o.price is not None
                ],
                "fills": [
                    OrderSnapshot(f.client_order_id, f.side, MNQ.price_to_ticks(f.last_px))
                    for f in self.fills
                ],
            }

    def submitted(self) -> list[tuple[str, int]]:
        kernel = self.ctx._kernel  # type: ignore[attr-defined]
        return [(o.side.value, MNQ.price_to_ticks(o.price)) for o in kernel.orders.all_orders]


def config(**kw: Any) -> GridConfig:
    base: dict[str, Any] = {"order_size": D(1), "levels": 2, "spacing_ticks": 10, "trail_levels": 5}
    return GridConfig(**{**base, **kw})


def test_a_slot_re_arms_on_the_other_side_after_its_fill_and_back_again_after_the_exit() -> None:
    # Centre 1000: buys at 990 and 980, sells at 1010 and 1020. Bar 1 trades through 990, bar 2 through 1000.
    bars = make_bars(MNQ, [FLAT, (1000, 1001, 985, 995), (995, 1005, 994, 1002), (1002, 1003, 985, 990)])
    grid = RecordingGrid(config())
    run_bars(bars, grid)
    assert [(f.side, MNQ.price_to_ticks(f.last_px)) for f in grid.fills] == [
        (OrderSide.BUY, 990),  # the 990 slot buys ...
        (OrderSide.SELL, 1000),  # ... its exit sells one spacing higher ...
        (OrderSide.BUY, 990),  # ... and the slot is armed to buy at 990 again
    ]
    assert grid.submitted()[4:] == [("SELL", 1000), ("BUY", 990), ("SELL", 1000)]


def test_the_slots_are_rebuilt_the_same_from_a_snapshot_of_open_orders_and_fills() -> None:
    ohlc = [
        FLAT,
        (1000, 1001, 975, 985),
        (985, 1012, 984, 1008),
        (1008, 1009, 988, 992),
        (992, 996, 990, 994),
    ]
    grid = RecordingGrid(config(), look_at=4)
    run_bars(make_bars(MNQ, ohlc), grid)
    seen = grid.seen
    assert any(
        slot["state"] == "working" and slot["side"] != slot["entry"] for slot in seen["slots"]["slots"]
    )
    rebuilt = GridSlots.rebuild(1000, 10, 2, seen["open"], seen["fills"])
    assert rebuilt.snapshot() == seen["slots"]
    restored = Grid("GRID", [MNQ.id], config())
    restored.restore_state(seen["state"])
    assert restored.grid is not None and restored.grid.snapshot() == seen["slots"]


def test_the_window_trails_the_price_and_flat_slots_move_with_it() -> None:
    up = [(1000 + 10 * i, 1001 + 10 * i, 999 + 10 * i, 1010 + 10 * i) for i in range(4)]
    grid = RecordingGrid(config(trail_levels=2), look_at=3)
    run_bars(make_bars(MNQ, [FLAT, *up]), grid)
    slots = grid.seen["slots"]
    center = slots["center"]
    assert center == 1020  # the close reached 1020, two spacings above the first centre
    flat = {(s["entry"], s["home"]) for s in slots["slots"] if s["side"] == s["entry"]}
    holding = [s["home"] for s in slots["slots"] if s["side"] != s["entry"]]
    # The new window, except where a slot still holds inventory (its exit keeps working until it fills).
    window = {("BUY", 1010), ("BUY", 1000), ("SELL", 1030), ("SELL", 1040)}
    assert flat | {(e, h) for e, h in window if h in holding} == window
    assert holding == [1010] and slots["retiring"] == [1010]  # sold at 1010, buys back at 1000
    kernel = grid.ctx._kernel  # type: ignore[attr-defined]
    first_buys = [o for o in kernel.orders.all_orders if o.side is OrderSide.BUY and o.ts_init == T0 + MINUTE]
    assert {MNQ.price_to_ticks(o.price) for o in first_buys} == {990, 980}
    assert all(any(type(e).__name__ == "OrderCanceled" for e in o.events) for o in first_buys)


def test_atr_spacing_is_the_atr_times_the_multiple_in_ticks() -> None:
    bars = make_bars(MNQ, [(1000, 1004, 996, 1000)] * 20)  # true range 8 ticks = 2.0
    grid = RecordingGrid(config(spacing="atr", atr_period=5, atr_multiple=1.5), look_at=19)
    run_bars(bars, grid)
    assert grid.seen["slots"]["spacing"] == 12  # 1.5 x 2.0 = 3.0 = 12 ticks of 0.25


def test_entries_wait_while_the_inventory_limit_is_used_up() -> None:
    # A fall through every buy level, twice as deep as the window: only `max_inventory` is bought.
    down = [(1000 - 10 * i, 1001 - 10 * i, 985 - 10 * i, 990 - 10 * i) for i in range(8)]
    grid = RecordingGrid(config(levels=3, trail_levels=1, max_inventory=D(2)))
    engine = run_bars(make_bars(MNQ, [FLAT, *down]), grid)
    assert engine.recorder is not None and engine.recorder.max_abs_position == D(2)
    assert grid.grid is not None
    working_entries = [s for s in grid.grid.slots.values() if s.state is SlotState.WORKING and not s.holding]
    assert working_entries == [] or all(s.entry is OrderSide.SELL for s in working_entries)


def test_the_slot_read_model_shows_each_levels_price_side_state_and_order() -> None:
    class Looking(RecordingGrid):
        def on_bar(self, bar: BarView, **kw: Any) -> None:
            super().on_bar(bar, **kw)
            if bar.index == 1:  # after the 990-tick buy filled and its exit went out
                self.seen["views"] = self.slot_views()
                self.seen["working"] = {o.client_order_id: (o.side, o.price) for o in self.ctx.open_orders()}

    grid = Looking(config())
    run_bars(make_bars(MNQ, [FLAT, (1000, 1001, 985, 995), FLAT]), grid)
    views = grid.seen["views"]
    assert [(v.home_price, v.entry, v.side, v.price, v.holding) for v in views] == [
        (D("245.00"), OrderSide.BUY, OrderSide.BUY, D("245.00"), False),
        (
            D("247.50"),
            OrderSide.BUY,
            OrderSide.SELL,
            D("250.00"),
            True,
        ),  # bought at 990 ticks: works its exit
        (D("252.50"), OrderSide.SELL, OrderSide.SELL, D("252.50"), False),
        (D("255.00"), OrderSide.SELL, OrderSide.SELL, D("255.00"), False),
    ]
    assert all(v.state is SlotState.WORKING and not v.retiring for v in views)
    assert {v.order_id: (v.side, v.price) for v in views} == grid.seen["working"]
