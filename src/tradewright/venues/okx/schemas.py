"""OKX v5 payloads as typed records (only the fields we read; OKX sends more).

Prices, sizes and money are decimal strings on the wire and `Decimal` here; OKX writes "" for a field
that does not apply, which decodes as None. Field names are OKX's own, so the records read like its
documentation (https://www.okx.com/docs-v5/en/).
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

__all__ = ["OkxBalance", "OkxBalanceDetail", "OkxFill", "OkxInstrument", "OkxOrder", "OkxPosition"]


class OkxInstrument(msgspec.Struct, frozen=True):
    """A row of GET /api/v5/public/instruments."""

    instId: str
    instType: str
    tickSz: Decimal
    lotSz: Decimal
    minSz: Decimal
    state: str = "live"
    baseCcy: str = ""
    quoteCcy: str = ""
    settleCcy: str = ""
    ctVal: str = ""
    ctMult: str = ""
    ctType: str = ""
    uly: str = ""
    expTime: str = ""


class OkxOrder(msgspec.Struct, frozen=True):
    """An order as REST (order, orders-pending, orders-history) and the `orders` channel write it; on
    the channel `fillSz`/`fillPx`/`tradeId` describe the fill that caused the push."""

    instId: str
    ordId: str
    clOrdId: str
    side: str
    state: str
    sz: Decimal
    accFillSz: Decimal
    uTime: int
    px: str = ""
    ordType: str = "limit"
    fillSz: str = ""
    fillPx: str = ""
    tradeId: str = ""
    fillTime: str = ""
    fee: str = ""
    feeCcy: str = ""
    execType: str = ""


class OkxFill(msgspec.Struct, frozen=True):
    """A row of GET /api/v5/trade/fills(-history)."""

    instId: str
    tradeId: str
    ordId: str
    fillPx: Decimal
    fillSz: Decimal
    side: str
    execType: str
    fee: Decimal
    feeCcy: str
    ts: int
    clOrdId: str = ""


class OkxBalanceDetail(msgspec.Struct, frozen=True):
    ccy: str
    cashBal: Decimal
    uTime: int = 0


class OkxBalance(msgspec.Struct, frozen=True):
    """The data row of GET /api/v5/account/balance."""

    details: list[OkxBalanceDetail]
    uTime: int = 0


class OkxPosition(msgspec.Struct, frozen=True):
    """A row of GET /api/v5/account/positions (net mode)."""

    instId: str
    pos: Decimal
    avgPx: str = ""
    uTime: int = 0
    posSide: str = "net"
