"""Position sizing in units of risk: every trade risks the same money, R, whatever the volatility.

With a stop `stop_atr` average true ranges from the entry, one contract loses
``stop distance x multiplier`` if stopped out, so the size that loses R is
``R / (stop distance x multiplier)``, rounded down to the lot. When volatility (ATR) doubles, the
stop is twice as far and the size halves: the money at risk stays R.
"""

from __future__ import annotations

import math
from decimal import Decimal

from tradewright.model.instrument import Instrument

__all__ = ["atr_position_size", "stop_distance_ticks"]


def stop_distance_ticks(atr: float, stop_atr: float, instrument: Instrument) -> int:
    """`stop_atr` x `atr` as a whole number of ticks, rounded up (never closer than one tick).

    Rounding up keeps the risk of a trade at or below R. `atr` is in price units (a float signal).
    """
    if not (math.isfinite(atr) and atr >= 0.0):
        raise ValueError(f"ATR must be a finite number >= 0, got {atr}")
    ticks = math.ceil(atr * stop_atr / float(instrument.tick_size) - 1e-9)
    return max(1, ticks)


def atr_position_size(risk_quote: Decimal, distance_ticks: int, instrument: Instrument) -> Decimal:
    """The size that loses `risk_quote` (1 R) over a stop `distance_ticks` away, rounded down to the lot.

    Exact: ``R / (ticks x tick size x multiplier)`` in Decimal, then `round_size_down`. May be 0
    when R does not pay for one lot.
    """
    if distance_ticks <= 0:
        raise ValueError(f"stop distance must be at least one tick, got {distance_ticks}")
    per_unit = instrument.ticks_to_price(distance_ticks) * instrument.multiplier
    return instrument.round_size_down(risk_quote / per_unit)
