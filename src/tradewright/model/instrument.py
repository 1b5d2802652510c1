"""Instruments and their exact price/size grid.

Prices and sizes are `Decimal` at the edges and integers inside the engine: a price is a count of ticks,
a size a count of lots. Conversion is exact or it raises `GridError`; rounding happens only where a
caller asks for it by name (`round_price_down`, `round_price_up`, `round_size_down`).
"""

from __future__ import annotations

import enum
from datetime import datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, DecimalException, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from tradewright.core.errors import GridError
from tradewright.core.ids import InstrumentId

__all__ = ["Instrument", "InstrumentKind", "TradingSession", "to_decimal"]


class InstrumentKind(enum.StrEnum):
    SPOT = "spot"
    PERPETUAL = "perpetual"
    FUTURE = "future"
    BINARY_OUTCOME = "binary_outcome"


def to_decimal(value: object, *, what: str = "value") -> Decimal:
    """Convert a str/int/Decimal exactly; floats go through their shortest repr (so 0.1 -> Decimal('0.1'))."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise GridError(f"{what} must be a number, got {value!r}")
    elif isinstance(value, int | str):
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise GridError(f"{what} {value!r} is not a number") from None
    elif isinstance(value, float):
        result = Decimal(repr(value))
    else:
        raise GridError(f"{what} must be a number, got {type(value).__name__}")
    if not result.is_finite():
        raise GridError(f"{what} must be finite, got {value!r}")
    return result


_NS = 1_000_000_000
_INT64 = 2**63  # ticks and lots live in int64 arrays inside the engine

# Exact grid conversions, remembered: a backtest converts the same few thousand prices and sizes again and
# again (each order is checked when submitted and converted again by the simulated venue), and the checked
# conversion (Decimal divmod, range check, int()) costs microseconds. Keyed by (grid step, value): the
# answer depends on nothing else, and equal Decimals (4810.25 and 4810.250) hash alike and convert alike.
# Only Decimals that converted successfully are kept (prices and sizes apart: a negative size is refused
# where a negative price is not); a memo is emptied when it reaches its bound.
_MEMO_MAX = 1 << 16
_TICKS_MEMO: dict[tuple[Decimal, Decimal], int] = {}
_LOTS_MEMO: dict[tuple[Decimal, Decimal], int] = {}


def _clock_time(text: str, what: str) -> time:
    hours, colon, minutes = text.partition(":")
    if not (colon and hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise ValueError(f"{what} must be HH:MM (24-hour), got {text!r}")
    return time(int(hours), int(minutes))


class TradingSession(msgspec.Struct, frozen=True, kw_only=True):
    """A daily trading session in a venue's local time: `open` to `close` ("HH:MM"), in `tz` (IANA name).

    A close at or before the open means the session runs past midnight (CME Globex: 17:00 to 16:00
    America/Chicago, i.e. it opens the evening before the trading day it belongs to). Daylight saving
    is the time zone's: the session opens at 17:00 Chicago time in winter and in summer. Only the
    days with data matter, so weekends and holidays need no calendar here.
    """

    name: str
    tz: str
    open: str
    close: str

    def __post_init__(self) -> None:
        _clock_time(self.open, f"session {self.name!r}: open")
        _clock_time(self.close, f"session {self.name!r}: close")
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"session {self.name!r}: unknown time zone {self.tz!r}") from None

    @classmethod
    def parse(cls, name: str, text: str) -> TradingSession:
        """Parse ``"HH:MM-HH:MM Area/City"``, e.g. ``"08:30-15:15 America/Chicago"`` (tz defaults to UTC)."""
        hours, _, tz = text.strip().partition(" ")
        open_, dash, close = hours.partition("-")
        if not dash:
            raise ValueError(f"session {name!r}: expected 'HH:MM-HH:MM Area/City', got {text!r}")
        return cls(name=name, tz=tz.strip() or "UTC", open=open_, close=close)

    def start_ns(self, ts_ns: int) -> int:
        """The latest session open at or before `ts_ns` (UTC ns)."""
        zone = ZoneInfo(self.tz)
        local = datetime.fromtimestamp(ts_ns // _NS, zone)
        opens = _clock_time(self.open, "open")
        start = datetime.combine(local.date(), opens, tzinfo=zone)
        if start > local:
            start = datetime.combine(local.date() - timedelta(days=1), opens, tzinfo=zone)
        return int(start.timestamp()) * _NS

    def end_ns(self, start_ns: int) -> int:
        """The close of the session that opened at `start_ns`."""
        zone = ZoneInfo(self.tz)
        opened = datetime.fromtimestamp(start_ns // _NS, zone)
        opens, closes = _clock_time(self.open, "open"), _clock_time(self.close, "close")
        day = opened.date() + timedelta(days=1 if closes <= opens else 0)
        return int(datetime.combine(day, closes, tzinfo=zone).timestamp()) * _NS

    def next_start_ns(self, start_ns: int) -> int:
        """The open of the next calendar day's session after the one that opened at `start_ns`."""
        zone = ZoneInfo(self.tz)
        opened = datetime.fromtimestamp(start_ns // _NS, zone)
        day = opened.date() + timedelta(days=1)
        return int(datetime.combine(day, _clock_time(self.open, "open"), tzinfo=zone).timestamp()) * _NS

    def contains(self, ts_ns: int) -> bool:
        """True when `ts_ns` falls inside a session (between an open and its close)."""
        return ts_ns < self.end_ns(self.start_ns(ts_ns))

    def __str__(self) -> str:
        return f"{self.open}-{self.close} {self.tz}"


class Instrument(msgspec.Struct, frozen=True, kw_only=True):
    """A tradable instrument: its grid, limits, fees and contract terms.

    `multiplier` converts price x size into quote currency (1 for spot and linear perps; 50 for ES;
    for inverse contracts set `inverse=True`, and value = size x multiplier / price).
    Fees are rates (0.0002 = 2 bps); a negative maker fee is a rebate.
    `sessions` are the venue's daily trading sessions, the main one first (futures: the electronic
    trading day, then regular trading hours); empty for markets that trade around the clock.
    """

    id: InstrumentId
    kind: InstrumentKind
    base: str
    quote: str
    settle: str
    tick_size: Decimal
    lot_size: Decimal
    min_size: Decimal = Decimal(0)
    max_size: Decimal | None = None
    min_notional: Decimal = Decimal(0)
    maker_fee: Decimal = Decimal(0)
    taker_fee: Decimal = Decimal(0)
    multiplier: Decimal = Decimal(1)
    inverse: bool = False
    expiry_ns: int | None = None
    outcome: str | None = None
    sessions: tuple[TradingSession, ...] = ()

    def __post_init__(self) -> None:
        if self.tick_size <= 0:
            raise GridError(f"{self.id}: tick_size must be > 0, got {self.tick_size}")
        if self.lot_size <= 0:
            raise GridError(f"{self.id}: lot_size must be > 0, got {self.lot_size}")
        if self.multiplier <= 0:
            raise GridError(f"{self.id}: multiplier must be > 0, got {self.multiplier}")

    def session(self, name: str = "") -> TradingSession | None:
        """The named trading session, or the main one when `name` is empty; None if there is none."""
        if not name:
            return self.sessions[0] if self.sessions else None
        for session in self.sessions:
            if session.name == name:
                return session
        return None

    # --- price grid -------------------------------------------------------------------------
    def price_to_ticks(self, price: object) -> int:
        """Return the price as a whole number of ticks; raise `GridError` if it is off the grid."""
        if type(price) is Decimal and price.is_finite():
            key = (self.tick_size, price)
            hit = _TICKS_MEMO.get(key)
            if hit is None:
                hit = _remember(_TICKS_MEMO, key, self._price_to_ticks(price))
            return hit
        return self._price_to_ticks(price)

    def _price_to_ticks(self, price: object) -> int:
        px = to_decimal(price, what="price")
        try:
            ticks, rem = divmod(px, self.tick_size)
        except DecimalException:  # more digits than the decimal context holds: no instrument trades there
            raise GridError(f"{self.id}: price {px} is out of range") from None
        if rem != 0:
            raise GridError(f"{self.id}: price {px} is not on the tick grid of {self.tick_size}")
        n = int(ticks)  # exact (the remainder is 0); comparing ints is cheaper than comparing Decimals
        if not -_INT64 <= n < _INT64:
            raise GridError(f"{self.id}: price {px} is out of range ({ticks} ticks do not fit 64 bits)")
        return n

    def ticks_to_price(self, ticks: int) -> Decimal:
        return self.tick_size * ticks

    def make_price(self, price: object) -> Decimal:
        """Return the price if it is on the grid, else raise `GridError` naming it."""
        return self.ticks_to_price(self.price_to_ticks(price))

    def round_price_down(self, price: object) -> Decimal:
        px = to_decimal(price, what="price")
        return self.tick_size * (px / self.tick_size).to_integral_value(rounding=ROUND_FLOOR)

    def round_price_up(self, price: object) -> Decimal:
        px = to_decimal(price, what="price")
        return self.tick_size * (px / self.tick_size).to_integral_value(rounding=ROUND_CEILING)

    # --- size grid --------------------------------------------------------------------------
    def size_to_lots(self, size: object) -> int:
        """Return the size as a whole number of lots; raise `GridError` if off-grid or negative."""
        if type(size) is Decimal and size.is_finite():
            key = (self.lot_size, size)
            hit = _LOTS_MEMO.get(key)
            if hit is None:
                hit = _remember(_LOTS_MEMO, key, self._size_to_lots(size))
            return hit
        return self._size_to_lots(size)

    def _size_to_lots(self, size: object) -> int:
        qty = to_decimal(size, what="size")
        if qty < 0:
            raise GridError(f"{self.id}: size must not be negative, got {qty}")
        try:
            lots, rem = divmod(qty, self.lot_size)
        except DecimalException:
            raise GridError(f"{self.id}: size {qty} is out of range") from None
        if rem != 0:
            raise GridError(f"{self.id}: size {qty} is not a multiple of the lot size {self.lot_size}")
        n = int(lots)
        if n >= _INT64:
            raise GridError(f"{self.id}: size {qty} is out of range ({lots} lots do not fit 64 bits)")
        return n

    def lots_to_size(self, lots: int) -> Decimal:
        return self.lot_size * lots

    def make_size(self, size: object) -> Decimal:
        return self.lots_to_size(self.size_to_lots(size))

    def round_size_down(self, size: object) -> Decimal:
        qty = to_decimal(size, what="size")
        return self.lot_size * (qty / self.lot_size).to_integral_value(rounding=ROUND_FLOOR)

    # --- value ------------------------------------------------------------------------------
    def notional(self, price: Decimal, size: Decimal) -> Decimal:
        """Value in the settlement currency of `size` at `price` (exact)."""
        if self.inverse:
            if price == 0:
                raise GridError(f"{self.id}: inverse notional needs a non-zero price")
            return size * self.multiplier / price
        return price * size * self.multiplier

    def validate_order(self, price: Decimal | None, size: Decimal) -> None:
        """Raise `GridError` naming the first rule the order breaks (grid, min/max size, min notional)."""
        self.size_to_lots(size)
        if size <= 0:
            raise GridError(f"{self.id}: order size must be > 0, got {size}")
        if size < self.min_size:
            raise GridError(f"{self.id}: size {size} is below the minimum {self.min_size}")
        if self.max_size is not None and size > self.max_size:
            raise GridError(f"{self.id}: size {size} is above the maximum {self.max_size}")
        if price is not None:
            self.price_to_ticks(price)
            if price <= 0 and self.kind is not InstrumentKind.FUTURE:
                raise GridError(f"{self.id}: price must be > 0, got {price}")
            if self.kind is InstrumentKind.BINARY_OUTCOME and price >= 1:
                raise GridError(f"{self.id}: an outcome token's price must be below 1, got {price}")
            if self.min_notional and self.notional(price, size) < self.min_notional:
                raise GridError(
                    f"{self.id}: notional {self.notional(price, size)} is below the minimum {self.min_notional}"
                )


def _remember(memo: dict[tuple[Decimal, Decimal], int], key: tuple[Decimal, Decimal], value: int) -> int:
    """Keep one successful grid conversion (see `_TICKS_MEMO`)."""
    if len(memo) >= _MEMO_MAX:
        memo.clear()
    memo[key] = value
    return value
