"""The trading day: UTC midnight by default, or a session start time at a fixed UTC offset."""

from __future__ import annotations

from tradewright.core.clock import ns_to_iso

__all__ = ["DAY_NS", "TradingDay"]

DAY_NS = 86_400_000_000_000


class TradingDay:
    """Numbers days so that day n starts at n × 24 h + `offset_ns` after the epoch (UTC)."""

    __slots__ = ("offset_ns",)

    def __init__(self, offset_ns: int = 0) -> None:
        self.offset_ns = offset_ns % DAY_NS

    def index(self, ts_ns: int) -> int:
        return (ts_ns - self.offset_ns) // DAY_NS

    def start_ns(self, index: int) -> int:
        return index * DAY_NS + self.offset_ns

    def label(self, index: int) -> str:
        """The day's start as ISO-8601 UTC, e.g. '2024-08-08T00:00:00.000000Z'."""
        return ns_to_iso(self.start_ns(index))
