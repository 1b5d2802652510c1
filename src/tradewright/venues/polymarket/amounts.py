"""Order amounts in integer micro-units, computed exactly (Decimal) with Polymarket's rounding rules.

A limit BUY of `size` shares at `price` offers ``size × price`` collateral (maker amount) for `size`
shares (taker amount); a SELL offers `size` shares for ``size × price``. Sizes are cut to 2 decimals,
products that carry more decimals than the tick allows are rounded as the official clients do, and
both amounts are scaled by 10^6 (collateral and outcome tokens have 6 decimals). With prices on the
tick grid and sizes on the 0.01 grid no rounding ever happens — which is how the adapter sends them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from tradewright.core.errors import GridError

__all__ = ["RoundConfig", "limit_amounts", "market_amounts", "round_config"]

_MICRO = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class RoundConfig:
    """Decimal places of the price, the size and the collateral amount for one tick size."""

    price: int
    size: int
    amount: int


# The official clients' table (clob-client-v2 adds 0.005 and 0.0025, July 2026).
_TABLE = {
    Decimal("0.1"): RoundConfig(1, 2, 3),
    Decimal("0.01"): RoundConfig(2, 2, 4),
    Decimal("0.005"): RoundConfig(3, 2, 5),
    Decimal("0.0025"): RoundConfig(4, 2, 6),
    Decimal("0.001"): RoundConfig(3, 2, 5),
    Decimal("0.0001"): RoundConfig(4, 2, 6),
}


def round_config(tick_size: Decimal) -> RoundConfig:
    """The rounding of a tick size; a tick the table does not know yet gets the same rule (price
    places = the tick's places, amount = price + 2, capped at the tokens' 6 decimals)."""
    known = _TABLE.get(tick_size.normalize())
    if known is not None:
        return known
    places = max(0, -tick_size.normalize().as_tuple().exponent)  # type: ignore[operator]
    if places > 4:
        raise GridError(f"tick size {tick_size} is finer than Polymarket's amounts can carry")
    return RoundConfig(places, 2, min(places + 2, 6))


def _places(x: Decimal) -> int:
    return max(0, -x.normalize().as_tuple().exponent)  # type: ignore[operator]


def _down(x: Decimal, places: int) -> Decimal:
    return x.quantize(Decimal(1).scaleb(-places), rounding=ROUND_FLOOR)


def _up(x: Decimal, places: int) -> Decimal:
    return x.quantize(Decimal(1).scaleb(-places), rounding=ROUND_CEILING)


def _fit(amount: Decimal, places: int) -> Decimal:
    if _places(amount) > places:
        amount = _up(amount, places + 4)
        if _places(amount) > places:
            amount = _down(amount, places)
    return amount


def _micro(x: Decimal) -> int:
    return int((x * _MICRO).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def limit_amounts(side: int, price: Decimal, size: Decimal, tick_size: Decimal) -> tuple[int, int]:
    """(maker amount, taker amount) in micro-units of a limit order; side 0 = BUY, 1 = SELL."""
    rc = round_config(tick_size)
    px = price.quantize(Decimal(1).scaleb(-rc.price), rounding=ROUND_HALF_EVEN)
    shares = _down(size, rc.size)
    if shares <= 0:
        raise GridError(f"order size {size} is below 0.01 share")
    collateral = _fit(shares * px, rc.amount)
    if side == 0:
        return _micro(collateral), _micro(shares)
    if side == 1:
        return _micro(shares), _micro(collateral)
    raise GridError(f"side must be 0 (BUY) or 1 (SELL), got {side}")


def market_amounts(side: int, amount: Decimal, price: Decimal, tick_size: Decimal) -> tuple[int, int]:
    """(maker amount, taker amount) of a marketable order: a BUY spends `amount` collateral at worst
    `price`; a SELL sells `amount` shares at worst `price` (V2 rounds that price down)."""
    rc = round_config(tick_size)
    px = _down(price, rc.price)
    if px <= 0:
        raise GridError(f"price {price} rounds to zero at tick {tick_size}")
    maker = _down(amount, rc.size)
    if side == 0:
        return _micro(maker), _micro(_fit(maker / px, rc.amount))
    if side == 1:
        return _micro(maker), _micro(_fit(maker * px, rc.amount))
    raise GridError(f"side must be 0 (BUY) or 1 (SELL), got {side}")
