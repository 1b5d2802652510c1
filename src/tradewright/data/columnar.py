"""Re-export of the columnar stream types (defined in `tradewright.model.columnar`, below every user)."""

from tradewright.model.columnar import (
    COLUMNS,
    F_LAST,
    KIND_CLEAR,
    KIND_DELTA,
    KIND_QUOTE,
    KIND_TRADE,
    MarketStream,
    StreamBuilder,
)

__all__ = [
    "COLUMNS",
    "F_LAST",
    "KIND_CLEAR",
    "KIND_DELTA",
    "KIND_QUOTE",
    "KIND_TRADE",
    "MarketStream",
    "StreamBuilder",
]
