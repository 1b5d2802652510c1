"""L2 order book on the instrument's grid.

Prices are integer ticks and sizes integer lots inside (exact, fast); `Decimal` views are offered for
strategies and reports. Venue-specific rules live beside it: sequence tracking in
`tradewright.model.book_sync`, checksums (with the exact level strings they hash) in
`tradewright.model.checksum`. This class only holds levels and answers questions about them.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from tradewright.core.errors import BookError
from tradewright.model._ladder import KERNELS, OK
from tradewright.model.instrument import Instrument

__all__ = ["MAX_CAPACITY", "OrderBook"]

_INITIAL_CAPACITY = 1 << 16
MAX_CAPACITY = 1 << 23  # 8M ticks a side (64 MB each): far beyond any real book's useful range


class OrderBook:
    """A price-level book. Sides are +1 (bid) and -1 (ask)."""

    __slots__ = ("_asks", "_bids", "_st", "_stv", "instrument", "last_update_id", "ts_event")

    def __init__(self, instrument: Instrument, capacity: int = _INITIAL_CAPACITY) -> None:
        self.instrument = instrument
        self._bids = np.zeros(capacity, dtype=np.int64)
        self._asks = np.zeros(capacity, dtype=np.int64)
        self._st = np.array([0, -1, -1, capacity], dtype=np.int64)
        self._st[0] = -1  # unanchored until the first level arrives
        # The state read as plain ints: a memoryview index costs a fraction of a numpy scalar's (the top of
        # the book is read once per strategy call). `_st` is only ever changed in place, so it stays valid.
        self._stv = self._st.data
        self.last_update_id = 0
        self.ts_event = 0

    # --- arrays for compiled loops ----------------------------------------------------------
    @property
    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The (bids, asks, state) arrays, for compiled replay loops (see `_ladder`)."""
        return self._bids, self._asks, self._st

    # --- updates ----------------------------------------------------------------------------
    def clear(self) -> None:
        self._bids[:] = 0
        self._asks[:] = 0
        self._st[1] = -1
        self._st[2] = -1

    def set_level(self, side: int, tick: int, lots: int) -> None:
        """Set one level's total size in lots (0 deletes it)."""
        if lots < 0:
            raise BookError(f"{self.instrument.id}: negative size {lots} at tick {tick}")
        set_ = KERNELS.set
        if self._st[0] < 0 or set_(self._bids, self._asks, self._st, side, tick, lots) != OK:
            if lots == 0 and self._st[0] >= 0:
                return  # deleting a level we never held
            self.ensure_range(tick)
            set_(self._bids, self._asks, self._st, side, tick, lots)

    def set_levels(self, sides: np.ndarray, ticks: np.ndarray, lots: np.ndarray) -> None:
        """Apply many level updates in order (int64 arrays of equal length)."""
        n = len(ticks)
        k = 0
        while k < n:
            if self._st[0] < 0:
                self.ensure_range(int(ticks[k]))
            k = KERNELS.set_many(self._bids, self._asks, self._st, sides, ticks, lots, k, n)
            if k < n:
                if lots[k] == 0:
                    k += 1  # deleting an out-of-range level we never held
                    continue
                self.ensure_range(int(ticks[k]))

    def ensure_range(self, tick: int) -> None:
        """Grow or re-anchor the ladder so that `tick` fits."""
        st = self._st
        cap = int(st[3])
        # A negative base means "unanchored" (here and in the compiled loops that share `st`), so the
        # base is never allowed below 0; prices below zero cannot be held.
        if tick < 0:
            raise BookError(f"{self.instrument.id}: tick {tick} is negative; the book holds prices >= 0 only")
        if st[0] < 0:
            st[0] = max(0, tick - cap // 2)
            return
        base = int(st[0])
        if base <= tick < base + cap:
            return
        lo = min(base, tick)
        hi = max(base + cap, tick + 1)
        new_cap = cap
        while new_cap < (hi - lo) + cap // 2:
            new_cap *= 2
        if new_cap > MAX_CAPACITY:
            raise BookError(
                f"{self.instrument.id}: level at tick {tick} is {hi - lo} ticks from the rest of the book; "
                f"the book holds at most {MAX_CAPACITY} ticks a side"
            )
        new_base = max(0, lo - (new_cap - (hi - lo)) // 2)
        shift = base - new_base
        bids = np.zeros(new_cap, dtype=np.int64)
        asks = np.zeros(new_cap, dtype=np.int64)
        bids[shift : shift + cap] = self._bids
        asks[shift : shift + cap] = self._asks
        self._bids, self._asks = bids, asks
        st[0] = new_base
        st[1] = st[1] + shift if st[1] >= 0 else -1
        st[2] = st[2] + shift if st[2] >= 0 else -1
        st[3] = new_cap

    # --- questions in ticks/lots ------------------------------------------------------------
    @property
    def best_bid_tick(self) -> int | None:
        st = self._stv
        i = st[1]
        return None if i < 0 else st[0] + i

    @property
    def best_ask_tick(self) -> int | None:
        st = self._stv
        i = st[2]
        return None if i < 0 else st[0] + i

    def top_ticks(self) -> tuple[int | None, int | None]:
        """(best bid tick, best ask tick) in one call; None for an empty side."""
        st = self._stv
        base, bb, ba = st[0], st[1], st[2]
        return (None if bb < 0 else base + bb), (None if ba < 0 else base + ba)

    @property
    def best_bid_lots(self) -> int:
        i = self._stv[1]
        return 0 if i < 0 else int(self._bids[i])

    @property
    def best_ask_lots(self) -> int:
        i = self._stv[2]
        return 0 if i < 0 else int(self._asks[i])

    def lots_at(self, side: int, tick: int) -> int:
        st = self._stv
        base = st[0]
        i = tick - base
        if base < 0 or i < 0 or i >= st[3]:
            return 0
        return int(self._bids[i] if side > 0 else self._asks[i])

    def depth_ticks(self, side: int, n: int) -> list[tuple[int, int]]:
        """Up to `n` (tick, lots) levels from the touch outwards."""
        if self._st[0] < 0:
            return []
        t, q = KERNELS.depth(self._bids if side > 0 else self._asks, self._st, side, n)
        return list(zip(t.tolist(), q.tolist(), strict=True))

    def is_crossed(self) -> bool:
        bb, ba = self.best_bid_tick, self.best_ask_tick
        return bb is not None and ba is not None and bb >= ba

    # --- questions in prices ----------------------------------------------------------------
    @property
    def best_bid(self) -> Decimal | None:
        t = self.best_bid_tick
        return None if t is None else self.instrument.ticks_to_price(t)

    @property
    def best_ask(self) -> Decimal | None:
        t = self.best_ask_tick
        return None if t is None else self.instrument.ticks_to_price(t)

    @property
    def best_bid_size(self) -> Decimal:
        return self.instrument.lots_to_size(self.best_bid_lots)

    @property
    def best_ask_size(self) -> Decimal:
        return self.instrument.lots_to_size(self.best_ask_lots)

    @property
    def spread(self) -> Decimal | None:
        bb, ba = self.best_bid_tick, self.best_ask_tick
        return None if bb is None or ba is None else self.instrument.ticks_to_price(ba - bb)

    @property
    def mid(self) -> Decimal | None:
        bb, ba = self.best_bid_tick, self.best_ask_tick
        if bb is None or ba is None:
            return None
        return self.instrument.tick_size * (bb + ba) / 2

    @property
    def microprice(self) -> Decimal | None:
        """Size-weighted mid: leans towards the side with less size (where the price is likely to go)."""
        bb, ba = self.best_bid_tick, self.best_ask_tick
        if bb is None or ba is None:
            return None
        qb, qa = self.best_bid_lots, self.best_ask_lots
        tick = self.instrument.tick_size
        return tick * Decimal(bb * qa + ba * qb) / Decimal(qa + qb)

    def depth(self, side: int, n: int = 10) -> list[tuple[Decimal, Decimal]]:
        inst = self.instrument
        return [(inst.ticks_to_price(t), inst.lots_to_size(q)) for t, q in self.depth_ticks(side, n)]

    def cost_to_fill(self, side: int, size: Decimal) -> tuple[Decimal, Decimal, Decimal | None]:
        """Cost of taking `size` from the book: a buy (side +1) walks the asks.

        Return (filled size, quote notional before multiplier, average price or None if nothing).
        """
        inst = self.instrument
        lots = inst.size_to_lots(size)
        if self._st[0] < 0:
            return Decimal(0), Decimal(0), None
        levels = self._asks if side > 0 else self._bids
        filled, cost, _ = KERNELS.cost_to_fill(levels, self._st, -side, lots)
        if filled == 0:
            return Decimal(0), Decimal(0), None
        notional = inst.tick_size * inst.lot_size * cost
        return inst.lots_to_size(filled), notional, inst.tick_size * Decimal(cost) / Decimal(filled)

    def __repr__(self) -> str:
        return f"OrderBook({self.instrument.id} bid={self.best_bid}x{self.best_bid_size} ask={self.best_ask}x{self.best_ask_size})"
