"""Book checksums as venues compute them, and the level store that keeps the strings they need.

Checksum venues hash the *text* of their top levels, so a book of integers is not enough: "30316" and
"30316.0" are the same tick but different checksums. `LevelStrings` pairs an `OrderBook` (which answers
"which levels are on top", fast) with the exact price and size strings the venue last sent for each
level (which the checksum hashes).

Rules (see ../shared/data/README.md):

* OKX v5 ``books`` and Bitget v1 ``books``: interleave the top 25 bids and asks as
  ``bid1px:bid1sz:ask1px:ask1sz:...`` (a side that runs out just stops contributing), CRC32, compare as a
  signed int32.
* Kraken WS v1 ``book``: the top 10 asks ascending then the top 10 bids descending; for each level drop
  the ``.`` from price and volume, strip leading zeros, concatenate; CRC32 compared unsigned.

A mismatch raises `ChecksumMismatch`: the caller discards the book and resynchronises from a snapshot.
"""

from __future__ import annotations

import enum
import heapq
import zlib

from tradewright.core.errors import BookError, ChecksumMismatch
from tradewright.model.book import OrderBook
from tradewright.model.instrument import Instrument

__all__ = [
    "ChecksumRule",
    "LevelStrings",
    "checksum",
    "crc32_signed",
    "kraken_checksum",
    "okx_checksum",
    "verify_checksum",
]


class ChecksumRule(enum.StrEnum):
    """Which venue's checksum rule applies."""

    OKX = "okx"
    BITGET = "bitget"
    KRAKEN = "kraken"


class LevelStrings:
    """An `OrderBook` plus, for every level, the exact (price, size) strings the venue sent.

    Update levels only through `set`, so the book and the strings never disagree. Sides are +1 (bid)
    and -1 (ask); a size that converts to zero lots deletes the level.

    A level too far from the rest of the book for the book's ladder (more than its capacity in ticks,
    e.g. an ask at 0.1 on a book trading at 0.00003 with tick 1e-8) is kept here only, as a "far" level:
    `top` still sees it (a thin book's top 25 can reach that far), `book` does not.
    """

    __slots__ = ("_far", "_strings", "book")

    def __init__(self, book: OrderBook) -> None:
        self.book = book
        self._strings: dict[int, dict[int, tuple[str, str]]] = {1: {}, -1: {}}
        self._far: dict[int, set[int]] = {1: set(), -1: set()}

    @property
    def instrument(self) -> Instrument:
        return self.book.instrument

    def clear(self) -> None:
        """Empty the book (before a snapshot, or to discard a book that failed its checksum)."""
        self.book.clear()
        for side in (1, -1):
            self._strings[side].clear()
            self._far[side].clear()

    def set(self, side: int, price: str, size: str) -> None:
        """Set one level from the venue's strings; raise `GridError` if either is off the grid."""
        inst = self.book.instrument
        tick = inst.price_to_ticks(price)
        lots = inst.size_to_lots(size)
        if tick < 0:
            raise BookError(f"{inst.id}: negative price {price}")
        far = self._far[side]
        try:
            self.book.set_level(side, tick, lots)
            far.discard(tick)
        except BookError:  # beyond the ladder's reach (the only BookError left for tick >= 0, lots >= 0)
            far.add(tick)
        if lots == 0:
            far.discard(tick)
            self._strings[side].pop(tick, None)
        else:
            self._strings[side][tick] = (price, size)

    def top(self, side: int, n: int) -> list[tuple[str, str]]:
        """The venue's strings for up to `n` levels from the touch outwards."""
        strings = self._strings[side]
        ticks = [tick for tick, _ in self.book.depth_ticks(side, n)]
        far = self._far[side]
        if far:
            ticks = sorted([*ticks, *far], reverse=side > 0)[:n]
        return [strings[tick] for tick in ticks]

    def level_count(self, side: int) -> int:
        return len(self._strings[side])

    def far_level_count(self) -> int:
        """Levels held only here because the book's ladder cannot reach them."""
        return len(self._far[1]) + len(self._far[-1])

    def truncate(self, depth: int) -> None:
        """Drop levels beyond `depth` a side (venues that publish a fixed depth stop updating them)."""
        for side in (1, -1):
            strings = self._strings[side]
            if len(strings) <= depth:
                continue
            excess = len(strings) - depth
            worst = heapq.nsmallest(excess, strings) if side > 0 else heapq.nlargest(excess, strings)
            for tick in worst:
                self.book.set_level(side, tick, 0)
                self._far[side].discard(tick)
                del strings[tick]


def crc32_signed(text: str) -> int:
    """CRC32 of the UTF-8 text as a signed 32-bit integer (how OKX and Bitget send it)."""
    value = zlib.crc32(text.encode())
    return value - (1 << 32) if value >= 1 << 31 else value


def okx_checksum(bids: list[tuple[str, str]], asks: list[tuple[str, str]], depth: int = 25) -> int:
    """OKX v5 / Bitget v1 checksum of the given levels (best first), as a signed int32."""
    parts: list[str] = []
    for i in range(depth):
        if i < len(bids):
            parts.extend(bids[i])
        if i < len(asks):
            parts.extend(asks[i])
    return crc32_signed(":".join(parts))


def kraken_checksum(asks: list[tuple[str, str]], bids: list[tuple[str, str]], depth: int = 10) -> int:
    """Kraken WS v1 checksum of the given levels (best first), as an unsigned int."""

    def digits(value: str) -> str:
        return value.replace(".", "").lstrip("0")

    text = "".join(digits(px) + digits(sz) for px, sz in asks[:depth] + bids[:depth])
    return zlib.crc32(text.encode())


def checksum(rule: ChecksumRule, store: LevelStrings) -> int:
    """The checksum the venue would send for the store's current book."""
    if rule is ChecksumRule.KRAKEN:
        return kraken_checksum(store.top(-1, 10), store.top(1, 10))
    return okx_checksum(store.top(1, 25), store.top(-1, 25))


def verify_checksum(rule: ChecksumRule, store: LevelStrings, expected: int) -> int:
    """Return the computed checksum, or raise `ChecksumMismatch` naming venue, instrument and both values."""
    computed = checksum(rule, store)
    if computed != expected:
        raise ChecksumMismatch(
            f"{rule.value} {store.instrument.id}: book checksum mismatch: venue sent {expected}, "
            f"our book gives {computed}; discard the book and resync from a snapshot"
        )
    return computed
