"""Session-anchored volume-weighted average price."""

from __future__ import annotations

import math

import msgspec

from tradewright.core.errors import ConfigError
from tradewright.indicators._config import check_int

__all__ = ["VWAP", "VWAPConfig"]

_NAN = math.nan
_DAY_NS = 86_400_000_000_000


class VWAPConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where sessions start: at ``session_offset_ns + k * session_length_ns`` for every integer k.

    The default is the UTC day. A CME Globex day (17:00 Chicago, 23:00 UTC in winter) is
    ``session_offset_ns=23 * 3_600_000_000_000``; a weekly anchor is ``session_length_ns=7 * 86_400_000_000_000``
    plus the offset of its first boundary from the epoch (a Thursday).
    """

    session_length_ns: int = _DAY_NS
    session_offset_ns: int = 0

    def __post_init__(self) -> None:
        check_int("VWAPConfig", "session_length_ns", self.session_length_ns, minimum=1)
        check_int("VWAPConfig", "session_offset_ns", self.session_offset_ns, minimum=0)
        if self.session_offset_ns >= self.session_length_ns:
            raise ConfigError(
                f"VWAPConfig.session_offset_ns must be in [0, session_length_ns={self.session_length_ns}), "
                f"got {self.session_offset_ns}"
            )


class VWAP:
    """Volume-weighted average price since the start of the current session.

    ``value = sum(price * volume) / sum(volume)`` over the updates whose timestamp falls in the
    current session; the first update in a new session starts the sums afresh. For bars, pass the
    bar's open time (so a bar belongs to the session it opened in) and use `update_bar`, which
    weights the typical price ``(high + low + close) / 3``. Ready once the session has volume.
    Timestamps must not go backwards.
    """

    __slots__ = ("_length", "_offset", "_pv", "_session", "_value", "_volume", "config")

    def __init__(self, session_length_ns: int = _DAY_NS, session_offset_ns: int = 0) -> None:
        self.config = VWAPConfig(session_length_ns=session_length_ns, session_offset_ns=session_offset_ns)
        self._length = session_length_ns
        self._offset = session_offset_ns
        self._session: int | None = None
        self.reset()

    @classmethod
    def from_config(cls, config: VWAPConfig) -> VWAP:
        return cls(config.session_length_ns, config.session_offset_ns)

    @property
    def value(self) -> float:
        """The session's VWAP; NaN until the session has volume."""
        return self._value

    @property
    def ready(self) -> bool:
        return self._volume > 0.0

    @property
    def session_start_ns(self) -> int | None:
        """Start of the current session (None before the first update)."""
        if self._session is None:
            return None
        return self._session * self._length + self._offset

    def update(self, ts_ns: int, price: float, volume: float) -> None:
        """Add a trade or bar at `ts_ns` (UTC ns) with its price and volume."""
        session = (ts_ns - self._offset) // self._length
        if session != self._session:
            self._session = session
            self._pv = 0.0
            self._volume = 0.0
            self._value = _NAN
        self._pv += price * volume
        self._volume += volume
        if self._volume > 0.0:
            self._value = self._pv / self._volume

    def update_bar(self, ts_ns: int, high: float, low: float, close: float, volume: float) -> None:
        """Add a bar opened at `ts_ns`, weighting its typical price (high + low + close) / 3."""
        self.update(ts_ns, (high + low + close) / 3.0, volume)

    def reset(self) -> None:
        self._session = None
        self._pv = 0.0
        self._volume = 0.0
        self._value = _NAN
