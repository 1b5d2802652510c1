"""The OKX family: capabilities, documented rate limits, instruments from OKX's instrument rows, and the
module-level API the venue registry expects (`CONFIG_TYPES`, `credentials`, `connect`, `list_markets`)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from tradewright.model.enums import OrderType, TimeInForce
from tradewright.model.instrument import Instrument
from tradewright.venues._ccxt import factory as base
from tradewright.venues._ccxt.config import CcxtVenueConfig
from tradewright.venues._ccxt.family import RateSpec
from tradewright.venues._common.capabilities import VenueCapabilities
from tradewright.venues._common.credentials import Credentials
from tradewright.venues._common.markets import MarketInfo
from tradewright.venues._common.ports import VenueHooks
from tradewright.venues.okx.config import OkxConfig
from tradewright.venues.okx.data import OkxData
from tradewright.venues.okx.execution import OkxExecution
from tradewright.venues.okx.parsing import OKX, instrument_from_row

__all__ = ["CAPABILITIES", "CONFIG_TYPES", "FAMILY", "OkxFamily", "connect", "credentials", "list_markets"]

CAPABILITIES = VenueCapabilities(
    modify=True,
    post_only=True,
    query_by_client_order_id=True,
    user_stream=True,
    max_client_order_id_len=32,
    order_types=frozenset({OrderType.LIMIT, OrderType.MARKET}),
    time_in_force=frozenset({TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK}),
    reduce_only=True,
    batch_submit=20,
    batch_cancel=20,
    cancel_all=True,
    client_order_id_chars="A-Za-z0-9",
)
# OKX's regular-user (Lv1) rates, used when the config names none (https://www.okx.com/fees)
_FEES = {"SPOT": (Decimal("0.0008"), Decimal("0.001")), "SWAP": (Decimal("0.0002"), Decimal("0.0005")),
         "FUTURES": (Decimal("0.0002"), Decimal("0.0005"))}  # fmt: skip


class OkxFamily(OkxData, OkxExecution):
    name = "okx"
    venue = OKX
    ccxt_id = "okx"
    capabilities = CAPABILITIES
    env: ClassVar[Mapping[str, str]] = {
        "api_key": "api_key_env",
        "secret": "api_secret_env",
        "passphrase": "passphrase_env",
    }
    # documented per-account limits (place/cancel/amend 60 per 2 s, queries 60 per 2 s; balance 10 per 2 s)
    rates: ClassVar[Mapping[str, RateSpec]] = {
        "orders": RateSpec(60, 2.0),
        "cancels": RateSpec(60, 2.0),
        "queries": RateSpec(20, 2.0),
    }
    default_market = "spot"
    markets_allowed = ("spot", "swap")

    def options(self, config: CcxtVenueConfig) -> dict[str, Any]:
        return {"fetchMarkets": {"types": ["spot", "future", "swap", "option"]}}

    def select_market(
        self, markets: Mapping[str, Any], symbol: str, config: CcxtVenueConfig
    ) -> dict[str, Any]:
        for market in markets.values():  # OKX ids are unique across market types
            if market.get("id") == symbol or market.get("symbol") == symbol:
                return dict(market)
        return super().select_market(markets, symbol, config)

    def instrument(self, market: Mapping[str, Any], config: CcxtVenueConfig) -> Instrument:
        info = market["info"]
        maker, taker = _FEES.get(str(info.get("instType")), _FEES["SWAP"])
        return instrument_from_row(
            info, self.instrument_id(market),
            maker_fee=maker if config.maker_fee is None else config.maker_fee,
            taker_fee=taker if config.taker_fee is None else config.taker_fee,
        )  # fmt: skip

    def market_info(self, market: Mapping[str, Any]) -> MarketInfo:
        info = market["info"]
        maker, taker = _FEES.get(str(info.get("instType")), _FEES["SWAP"])
        exp = str(info.get("expTime") or "")
        return MarketInfo(
            symbol=str(market["id"]), kind=str(info.get("instType", "")).lower(), base=str(market.get("base", "")),
            quote=str(market.get("quote", "")), tick_size=Decimal(str(info["tickSz"])), lot_size=Decimal(str(info["lotSz"])),
            min_size=Decimal(str(info.get("minSz") or 0)), maker_fee=maker, taker_fee=taker,
            active=info.get("state") == "live", end_ns=int(exp) * 1_000_000 if exp else None,
            extra={"contract_value": str(info.get("ctVal") or "")} if info.get("ctVal") else {},
        )  # fmt: skip


FAMILY = OkxFamily()
CONFIG_TYPES: tuple[type[Any], ...] = (OkxConfig,)


def credentials(config: OkxConfig, environ: Mapping[str, str] | None = None) -> Credentials:
    """The API key, secret and passphrase from the variables the config names; refuses, naming them,
    when one is missing or malformed."""
    return base.check_keys(FAMILY, config, FAMILY.credentials(config, environ))


async def connect(config: OkxConfig, creds: Credentials, hooks: VenueHooks) -> base.CcxtVenue:
    return await base.connect(FAMILY, config, creds, hooks)


async def list_markets(config: OkxConfig, search: str | None = None) -> list[MarketInfo]:
    return await base.list_markets(FAMILY, config, search)
