"""Fee models. Fees are exact: notional x rate, in the instrument's settlement currency."""

from __future__ import annotations

from decimal import Decimal

from tradewright.model.enums import LiquiditySide
from tradewright.model.instrument import Instrument

__all__ = ["FeeModel"]


class FeeModel:
    """Maker/taker rates, by default the instrument's own; a negative maker rate is a rebate."""

    def __init__(self, maker: Decimal | None = None, taker: Decimal | None = None) -> None:
        self.maker = maker
        self.taker = taker

    def fee(self, instrument: Instrument, price: Decimal, size: Decimal, liquidity: LiquiditySide) -> Decimal:
        if liquidity is LiquiditySide.MAKER:
            rate = instrument.maker_fee if self.maker is None else self.maker
        else:
            rate = instrument.taker_fee if self.taker is None else self.taker
        return abs(instrument.notional(price, size)) * rate
