"""Our resting orders at the simulated venue, as arrays the compiled row handler can read and update."""

from __future__ import annotations

import numpy as np

from tradewright.sim._kernels import refresh_watch

__all__ = ["OwnOrders"]


class OwnOrders:
    """Parallel arrays, one slot per resting order (see `sim._kernels`)."""

    __slots__ = ("_free", "active", "cum_trade", "fill", "front", "leaves", "side", "tick", "watch")

    def __init__(self, capacity: int = 16) -> None:
        self.active = np.zeros(capacity, dtype=np.int8)
        self.side = np.zeros(capacity, dtype=np.int8)
        self.tick = np.zeros(capacity, dtype=np.int64)
        self.leaves = np.zeros(capacity, dtype=np.int64)
        self.front = np.zeros(capacity, dtype=np.float64)
        self.cum_trade = np.zeros(capacity, dtype=np.float64)
        self.fill = np.zeros(capacity, dtype=np.int64)
        self.watch = np.zeros(5, dtype=np.int64)
        self._free = list(range(capacity - 1, -1, -1))  # free slots, lowest index on top
        self.refresh()

    def add(self, side: int, tick: int, leaves: int, front: float) -> int:
        if not self._free:
            self._grow()
        j = self._free.pop()
        self.active[j] = 1
        self.side[j] = side
        self.tick[j] = tick
        self.leaves[j] = leaves
        self.front[j] = front
        self.cum_trade[j] = 0.0
        self.fill[j] = 0
        self.refresh()
        return j

    def remove(self, j: int) -> None:
        self.active[j] = 0
        self.fill[j] = 0
        self._free.append(j)
        self.refresh()

    def refresh(self) -> None:
        refresh_watch(self.active, self.side, self.tick, self.watch)

    def pending_fills(self) -> list[int]:
        return self.fill.nonzero()[0].tolist()  # type: ignore[no-any-return]

    def arrays(self) -> tuple[np.ndarray, ...]:
        return (
            self.active,
            self.side,
            self.tick,
            self.leaves,
            self.front,
            self.cum_trade,
            self.fill,
            self.watch,
        )

    def _grow(self) -> None:
        size = len(self.active)
        for name in ("active", "side", "tick", "leaves", "front", "cum_trade", "fill"):
            old = getattr(self, name)
            new = np.zeros(size * 2, dtype=old.dtype)
            new[:size] = old
            setattr(self, name, new)
        self._free = list(range(2 * size - 1, size - 1, -1))
