"""Numbers from venues, exactly on the instrument's grid."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from tradewright.core.errors import VenueError

__all__ = ["on_grid"]


def on_grid(raw: str, step: Decimal, what: str, venue: str) -> Decimal:
    """The decimal text `raw` as a multiple of `step`, written on the grid (``3.0`` lots of 1 -> ``3``,
    ``1.1072`` at 0.00005 -> ``1.10720``); `VenueError` naming the venue, the field and the value when it
    is not a number or not on the grid."""
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise VenueError(f"{venue} sent {what} {raw!r}, which is not a number") from None
    if not number.is_finite() or number % step != 0:
        raise VenueError(f"{venue} sent {what} {raw}, which is not on the grid of {step}")
    return step * int(number / step)
