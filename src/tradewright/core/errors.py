"""The one exception tree. Catch `TradewrightError` at task boundaries; raise the most specific class."""

from __future__ import annotations

__all__ = [
    "BookError",
    "ChecksumMismatch",
    "ConfigError",
    "DataError",
    "GridError",
    "InvalidOrderError",
    "InvalidStateTransition",
    "SequenceGap",
    "StoreError",
    "StrategyError",
    "TradewrightError",
    "VenueError",
]


class TradewrightError(Exception):
    """Base of every error tradewright raises on purpose."""


class ConfigError(TradewrightError):
    """A configuration file or value is invalid; the message names the key."""


class DataError(TradewrightError):
    """Recorded or received data is malformed; the message names the source and the line."""

    def __init__(self, message: str, *, source: str = "", line: int | None = None) -> None:
        where = source if line is None else f"{source}:{line}"
        super().__init__(f"{where}: {message}" if where else message)
        self.source = source
        self.line = line


class GridError(TradewrightError, ValueError):
    """A price or size is not on the instrument's tick/lot grid, or is out of range."""


class InvalidOrderError(TradewrightError, ValueError):
    """An order is malformed (negative size, missing price, inconsistent flags)."""


class InvalidStateTransition(TradewrightError):
    """An order event is not legal in the order's current state."""


class BookError(TradewrightError):
    """The order book cannot be trusted and must be resynchronised."""


class SequenceGap(BookError):
    """Updates were missed: the book needs a fresh snapshot."""


class ChecksumMismatch(BookError):
    """The venue's checksum disagrees with our rebuilt book."""


class VenueError(TradewrightError):
    """A venue refused or failed a request."""


class StoreError(TradewrightError):
    """The state store cannot commit; trading must stop."""


class StrategyError(TradewrightError):
    """A strategy hook raised; the message names the strategy and the hook."""
