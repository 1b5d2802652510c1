"""The Bitget family: v2 spot on the shared CCXT base, and the registry's module API."""

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
from tradewright.venues.bitget.config import BitgetConfig
from tradewright.venues.bitget.data import BitgetData
from tradewright.venues.bitget.execution import BitgetExecution
from tradewright.venues.bitget.parsing import BITGET, instrument_from_symbol

__all__ = [
    "CAPABILITIES",
    "CONFIG_TYPES",
    "FAMILY",
    "BitgetFamily",
    "connect",
    "connect_market_data",
    "credentials",
    "list_markets",
]

CAPABILITIES = VenueCapabilities(
    modify=False, post_only=True, query_by_client_order_id=True, user_stream=True, max_client_order_id_len=40,
    order_types=frozenset({OrderType.LIMIT}), time_in_force=frozenset({TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK}),
    batch_submit=50, batch_cancel=50, cancel_all=True,
)  # fmt: skip


class BitgetFamily(BitgetData, BitgetExecution):
    name = "bitget"
    venue = BITGET
    ccxt_id = "bitget"
    capabilities = CAPABILITIES
    env: ClassVar[Mapping[str, str]] = {
        "api_key": "api_key_env",
        "secret": "api_secret_env",
        "passphrase": "passphrase_env",
    }
    # documented per-UID spot limits: place/cancel 10 per second, queries 20 per second
    rates: ClassVar[Mapping[str, RateSpec]] = {
        "orders": RateSpec(10, 1.0),
        "cancels": RateSpec(10, 1.0),
        "queries": RateSpec(20, 1.0),
    }
    default_market = "spot"
    markets_allowed = ("spot",)

    def options(self, config: CcxtVenueConfig) -> dict[str, Any]:
        # a classic account (CCXT would otherwise probe /api/v3/account/settings); our checksum check, not CCXT's
        return {"defaultType": "spot", "fetchMarkets": {"types": ["spot"]}, "uta": False,
                "watchOrderBook": {"checksum": False}}  # fmt: skip

    def instrument(self, market: Mapping[str, Any], config: CcxtVenueConfig) -> Instrument:
        return instrument_from_symbol(
            market["info"], self.instrument_id(market), maker_fee=config.maker_fee, taker_fee=config.taker_fee
        )

    def market_info(self, market: Mapping[str, Any]) -> MarketInfo:
        info = market["info"]
        return MarketInfo(
            symbol=str(market["id"]), kind="spot", base=str(info["baseCoin"]), quote=str(info["quoteCoin"]),
            tick_size=Decimal(1).scaleb(-int(info["pricePrecision"])), lot_size=Decimal(1).scaleb(-int(info["quantityPrecision"])),
            min_size=Decimal(str(info.get("minTradeAmount") or 0)), min_notional=Decimal(str(info.get("minTradeUSDT") or 0)),
            maker_fee=Decimal(str(info.get("makerFeeRate") or 0)), taker_fee=Decimal(str(info.get("takerFeeRate") or 0)),
            active=info.get("status") == "online",
        )  # fmt: skip


FAMILY = BitgetFamily()
CONFIG_TYPES: tuple[type[Any], ...] = (BitgetConfig,)


def credentials(config: BitgetConfig, environ: Mapping[str, str] | None = None) -> Credentials:
    return base.check_keys(FAMILY, config, FAMILY.credentials(config, environ))


async def connect(config: BitgetConfig, creds: Credentials, hooks: VenueHooks) -> base.CcxtVenue:
    return await base.connect(FAMILY, config, creds, hooks)


async def list_markets(config: BitgetConfig, search: str | None = None) -> list[MarketInfo]:
    return await base.list_markets(FAMILY, config, search)


async def connect_market_data(config: BitgetConfig, hooks: VenueHooks) -> base.MarketDataSession:
    """Public market data only (no keys): what `tradewright record` records."""
    return await base.connect_market_data(FAMILY, config, hooks)
