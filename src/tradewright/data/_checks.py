"""What the recording loaders refuse at the decoding boundary, and why.

A message that breaks one of these rules is skipped, counted under ``rejected_<reason>`` in the stream's
stats (and in ``rejected``), and reported once as an `Issue` whose kind is the reason, naming the file,
the line and the start of the raw bytes. `tradewright data verify` fails on any of them.

The rules, with their tolerances:

* ``malformed``: not JSON, a field missing or of the wrong type, a number that is not a plain decimal.
* ``too_deep``: JSON nested deeper than the decoder recurses (Binance messages are 4 levels deep).
* ``out_of_range``: a timestamp, update id or trade id outside 0..2^63-1 (as ns for times), a price or
  size with more digits than an int64 count of ticks or lots holds.
* ``off_grid``: a price or size that is not a whole number of ticks or lots — refused one by one while
  they are rare; at `OFF_GRID_LIMIT_PCT` % of the priced messages the load fails instead (the
  instrument is not the recording's).
* ``non_positive``: a price <= 0 anywhere, a trade of size 0.
* ``update_ids``: a depth diff whose first update id ``U`` is above its last ``u``.
* ``time_backwards``: the venue's time going back by more than `TIME_TOLERANCE_MS` within one stream
  (depth, trade or bookTicker of one symbol); Binance's streams never go back in the recordings.
* ``duplicate_trade`` / ``trade_id_backwards``: a trade id equal to / below the last one of its stream
  (Binance's trade ids strictly increase per symbol).
* ``crossed_quote``: a bookTicker whose bid is at or above its ask.
* ``unknown_symbol``: a message of a symbol that has at most a hundredth of the main symbol's messages:
  a corrupted stream name, not a second instrument (which would need ``symbol=``).
* ``price_band``: a trade more than `PRICE_BAND_PCT` % away from the mid of the last bookTicker before it
  (or, before the first bookTicker, from the median trade price). The worst real print in the shared
  Binance recordings is 0.1 % from the mid, so the band leaves two orders of magnitude of room.

A zero-size level inside a snapshot is counted (``zero_size_levels``) but not refused: it deletes a
level that is not there, so it changes nothing, yet it is not what a venue sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import msgspec
import numpy as np

__all__ = [
    "INT64_MAX",
    "MAX_MS",
    "OFF_GRID_LIMIT_PCT",
    "PRICE_BAND_PCT",
    "REASONS",
    "TIME_TOLERANCE_MS",
    "Id",
    "Ms",
    "band_violations",
    "rejected_counts",
    "validation_reason",
]

INT64_MAX = 2**63 - 1
MAX_MS = INT64_MAX // 1_000_000  # a venue time in ms that still fits int64 once written in ns
TIME_TOLERANCE_MS = 1_000
PRICE_BAND_PCT = 10
OFF_GRID_LIMIT_PCT = 1

#: An update or trade id, and a venue time in ms: decoding refuses anything outside int64 (as ns).
Id = Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)]
Ms = Annotated[int, msgspec.Meta(ge=0, le=MAX_MS)]

REASONS: dict[str, str] = {
    "malformed": "not JSON, a missing or mistyped field, or a number that is not a decimal",
    "too_deep": "JSON nested deeper than the decoder allows",
    "out_of_range": "a time, id, price or size beyond 64-bit range",
    "off_grid": "a price or size off the instrument's grid (a few; many fail the load)",
    "non_positive": "a price <= 0 or a trade of size 0",
    "update_ids": "a depth diff with U > u",
    "time_backwards": f"venue time going back by more than {TIME_TOLERANCE_MS} ms within a stream",
    "duplicate_trade": "a trade id already seen in its stream",
    "trade_id_backwards": "a trade id below the last one of its stream",
    "crossed_quote": "a bookTicker with bid >= ask",
    "price_band": f"a trade more than {PRICE_BAND_PCT}% away from the book's mid",
    "unknown_symbol": "a stream of a symbol with almost no messages in the recording (a corrupted name)",
}


def validation_reason(message: str) -> str:
    """The reason for a msgspec validation error: a bound broken is ``out_of_range``, else ``malformed``."""
    return "out_of_range" if "` <= " in message or "` >= " in message else "malformed"


def rejected_counts(stats: Mapping[str, int]) -> dict[str, int]:
    """The ``rejected_<reason>`` counts of a stream's stats, by reason (only those that occurred)."""
    prefix = "rejected_"
    return {k[len(prefix) :]: v for k, v in stats.items() if k.startswith(prefix) and v}


def band_violations(
    trade_pos: np.ndarray,
    trade_tick: np.ndarray,
    quote_pos: np.ndarray,
    quote_mid2: np.ndarray,
    band_pct: int = PRICE_BAND_PCT,
) -> np.ndarray:
    """Which trades lie outside the band around the last quote mid before them (a boolean mask).

    `*_pos` are positions in one event order (both ascending); `quote_mid2` is bid + ask in ticks (twice
    the mid). Trades before the first quote are measured against the median trade; a trade without a
    positive reference is not judged. In float64: its rounding is 1e-16 relative, nothing next to a
    band of several percent.
    """
    if len(trade_tick) == 0:
        return np.zeros(0, dtype=bool)
    last_quote = np.searchsorted(quote_pos, trade_pos, side="left") - 1
    ref2 = np.full(len(trade_tick), 2.0 * float(np.median(trade_tick)))
    has_quote = last_quote >= 0
    if has_quote.any():
        ref2[has_quote] = quote_mid2[last_quote[has_quote]].astype(np.float64)
    deviation = np.abs(2.0 * trade_tick.astype(np.float64) - ref2) * 100.0
    result: np.ndarray = (ref2 > 0) & (deviation > band_pct * ref2)
    return result
