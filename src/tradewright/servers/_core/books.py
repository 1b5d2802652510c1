"""The server's own view of a replayed book: every level as the exact strings the venue sent.

A venue server needs it to answer what the recording does not hold verbatim: the snapshot a client gets
when it subscribes mid-stream (or again after a resync), a REST order-book snapshot at the current
update id, and checksums recomputed after a transcoding. Levels are keyed by their exact decimal value
and kept sorted, so the top N of a side is a slice.
"""

from __future__ import annotations

import bisect
from decimal import Decimal, InvalidOperation

from tradewright.core.errors import DataError

__all__ = ["StringBook"]


class StringBook:
    """Price levels of one instrument: side +1 (bids) / -1 (asks) -> price -> the level's fields as the
    venue sent them: (price text, size text, *extra) — OKX adds its order counts, for example."""

    __slots__ = ("_keys", "_levels", "seq", "synced", "ts_ms")

    def __init__(self) -> None:
        self._levels: dict[int, dict[Decimal, tuple[str, ...]]] = {1: {}, -1: {}}
        self._keys: dict[int, list[Decimal]] = {1: [], -1: []}  # ascending prices
        self.synced = False  # a snapshot has been applied
        self.seq = 0  # the venue's update id of the last applied message (where it has one)
        self.ts_ms = 0

    def clear(self) -> None:
        for side in (1, -1):
            self._levels[side].clear()
            self._keys[side].clear()
        self.synced = False

    def set(self, side: int, price: str, size: str, *extra: str) -> None:
        """Set one level from the venue's text; a size of zero deletes it."""
        try:
            px, sz = Decimal(price), Decimal(size)
        except InvalidOperation:
            raise DataError(f"book level {price!r} x {size!r} is not a number") from None
        levels, keys = self._levels[side], self._keys[side]
        if sz == 0:
            if levels.pop(px, None) is not None:
                del keys[bisect.bisect_left(keys, px)]
            return
        if px not in levels:
            bisect.insort(keys, px)
        levels[px] = (price, size, *extra)

    def top(self, side: int, n: int | None = None) -> list[tuple[str, ...]]:
        """Up to `n` levels (all when None) from the touch outwards, as the venue's strings."""
        keys = self._keys[side]
        levels = self._levels[side]
        if side > 0:
            chosen = keys[::-1] if n is None else keys[: -n - 1 : -1] if n else []
        else:
            chosen = keys if n is None else keys[:n]
        return [levels[k] for k in chosen]

    def best(self, side: int) -> Decimal | None:
        keys = self._keys[side]
        if not keys:
            return None
        return keys[-1] if side > 0 else keys[0]

    def size_at(self, side: int, price: Decimal) -> str | None:
        level = self._levels[side].get(price)
        return None if level is None else level[1]

    def pairs(self, side: int, n: int | None = None) -> list[tuple[str, str]]:
        """`top` as (price, size) pairs only (what checksums hash)."""
        return [(level[0], level[1]) for level in self.top(side, n)]

    def depth(self, side: int) -> int:
        return len(self._keys[side])
