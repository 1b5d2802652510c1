"""Which trading session a bar belongs to, with the boundaries computed only when a bar crosses one."""

from __future__ import annotations

from tradewright.model.instrument import Instrument, TradingSession

__all__ = ["SessionTracker"]

_DAY_NS = 86_400_000_000_000


class SessionTracker:
    """Follow one session of an instrument (by name; "" = its main one; none: the UTC day).

    `update(ts)` returns True on the first timestamp of a new session; `start_ns`/`end_ns` bound the
    session the last timestamp fell in (or the latest one that opened before it, when outside).
    """

    __slots__ = ("_hi", "_lo", "end_ns", "session", "start_ns")

    def __init__(self, instrument: Instrument, name: str = "") -> None:
        session = instrument.session(name)
        if session is None and name:
            session = instrument.session()
        self.session: TradingSession | None = session
        self.start_ns = -1
        self.end_ns = -1
        self._lo = 0  # [_lo, _hi): timestamps whose session is known to be start_ns
        self._hi = 0

    def update(self, ts_ns: int) -> bool:
        """Place `ts_ns`; True when it begins a session the tracker has not seen yet."""
        if self._lo <= ts_ns < self._hi:
            return False
        session = self.session
        if session is None:
            start = ts_ns - ts_ns % _DAY_NS
            end = self._hi = start + _DAY_NS
        else:
            start = session.start_ns(ts_ns)
            end = session.end_ns(start)
            self._hi = session.next_start_ns(start)  # until then `start` stays the latest open
        self._lo = start
        new = start != self.start_ns
        self.start_ns, self.end_ns = start, end
        return new

    def in_session(self, ts_ns: int) -> bool:
        return self.start_ns <= ts_ns < self.end_ns
