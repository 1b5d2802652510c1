"""The symbol filters that depend on the market or the account, checked as Binance checks them.

`requests.parse_new_order` checks what a request says by itself (PRICE_FILTER, LOT_SIZE, NOTIONAL);
these need the venue's state:

* USD-M ``PERCENT_PRICE``: a limit price within [mark x multiplierDown, mark x multiplierUp]
  (0.95 .. 1.05), else -4016 "Limit price can't be higher than X." / -4024 "... lower than X.";
* spot ``PERCENT_PRICE_BY_SIDE``: a bid within [avg x bidMultiplierDown, avg x bidMultiplierUp], an ask
  within the ask multipliers (0.2 .. 5), else -1013 "Filter failure: PERCENT_PRICE_BY_SIDE";
* ``MAX_NUM_ORDERS``: at most 200 open orders per account and symbol (USD-M -2025, spot -1013).

The reference price is the book's mid (the emulator's mark price; Binance uses the mark price on USD-M
and a 5-minute average price on spot). Market orders are not subject to the price band.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from tradewright.emulator.errors import VenueErrors
from tradewright.emulator.requests import OrderRequest
from tradewright.emulator.spec import VenueSpec

__all__ = ["MAX_NUM_ORDERS", "SPOT_BAND", "USDM_BAND", "Band", "check_market_filters"]

MAX_NUM_ORDERS = 200


@dataclass(frozen=True, slots=True)
class Band:
    """Multipliers of the reference price a limit price must lie between (per side on spot)."""

    bid_down: Decimal
    bid_up: Decimal
    ask_down: Decimal
    ask_up: Decimal


USDM_BAND = Band(Decimal("0.95"), Decimal("1.05"), Decimal("0.95"), Decimal("1.05"))
SPOT_BAND = Band(Decimal("0.2"), Decimal(5), Decimal("0.2"), Decimal(5))


def band_of(spec: VenueSpec) -> Band:
    return USDM_BAND if spec.futures else SPOT_BAND


def check_market_filters(
    req: OrderRequest, spec: VenueSpec, errors: VenueErrors, *, reference: Decimal, open_orders: int
) -> None:
    """Raise the `BinanceError` of the first filter the order breaks (price band, then order count)."""
    if req.price is not None and req.type != "MARKET" and reference > 0:
        band = band_of(spec)
        down, up = (band.bid_down, band.bid_up) if req.side == "BUY" else (band.ask_down, band.ask_up)
        tick = spec.instrument.tick_size
        cap = (reference * up / tick).to_integral_value(rounding=ROUND_FLOOR) * tick
        floor = (reference * down / tick).to_integral_value(rounding=ROUND_CEILING) * tick
        if req.price > cap:
            raise errors.price_above_band(spec.price(cap))
        if req.price < floor:
            raise errors.price_below_band(spec.price(floor))
    if open_orders >= MAX_NUM_ORDERS:
        raise errors.too_many_open_orders()
