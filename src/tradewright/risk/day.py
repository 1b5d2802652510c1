"""The trading day: UTC midnight by default, a start time at a fixed UTC offset, or a start time in an
exchange's time zone (daylight saving included), so that daily limits follow the session.

CME's trading day starts at 17:00 Chicago time all year: at 22:00 UTC in winter and 21:00 UTC in
summer. A fixed offset gets one of the two wrong for half the year; `TradingDay.in_zone("17:00",
"America/Chicago")` does not.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tradewright.core.clock import ns_to_iso

__all__ = ["DAY_NS", "TradingDay"]

DAY_NS = 86_400_000_000_000
_NS = 1_000_000_000


class TradingDay:
    """Numbers trading days; `index(ts)` is the day a timestamp belongs to, `start_ns(index)` its start.

    With a fixed offset, day n starts at n × 24 h + `offset_ns` after the epoch (UTC). In a zone, day n
    is the local date with ordinal n, starting at `start` local time (so a day can last 23 or 25 hours
    when the clocks change).
    """

    __slots__ = ("_hi", "_index", "_lo", "_start", "_zone", "offset_ns")

    def __init__(self, offset_ns: int = 0) -> None:
        self.offset_ns = offset_ns % DAY_NS
        self._zone: ZoneInfo | None = None
        self._start = time(0, 0)
        self._lo = self._hi = 0  # [lo, hi): the span of the last day looked up (zone days only)
        self._index = 0

    @classmethod
    def in_zone(cls, start: str, tz: str) -> TradingDay:
        """Days that start at `start` ("HH:MM") local time in the IANA zone `tz`."""
        day = cls()
        hours, _, minutes = start.partition(":")
        day._start = time(int(hours), int(minutes))
        day._zone = ZoneInfo(tz)
        return day

    @property
    def zone(self) -> str:
        return "" if self._zone is None else str(self._zone)

    def index(self, ts_ns: int) -> int:
        if self._zone is None:
            return (ts_ns - self.offset_ns) // DAY_NS
        if self._lo <= ts_ns < self._hi:  # the common case: the same day as the last look-up
            return self._index
        local = datetime.fromtimestamp(ts_ns // _NS, self._zone)
        day = local.date() if local.time() >= self._start else local.date() - timedelta(days=1)
        index = day.toordinal()
        self._index, self._lo, self._hi = index, self.start_ns(index), self.start_ns(index + 1)
        return index

    def start_ns(self, index: int) -> int:
        if self._zone is None:
            return index * DAY_NS + self.offset_ns
        begin = datetime.combine(date.fromordinal(index), self._start, tzinfo=self._zone)
        return int(begin.timestamp()) * _NS

    def label(self, index: int) -> str:
        """The day's start as ISO-8601 UTC, e.g. '2024-08-08T00:00:00.000000Z'."""
        return ns_to_iso(self.start_ns(index))
