"""The Bybit family: v5 linear perpetuals on the shared CCXT base, and the registry's module API."""

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
from tradewright.venues.bybit.config import BybitConfig
from tradewright.venues.bybit.data import BybitData
from tradewright.venues.bybit.execution import BybitExecution
from tradewright.venues.bybit.parsing import BYBIT, instrument_from_row

__all__ = [
    "CAPABILITIES",
    "CONFIG_TYPES",
    "FAMILY",
    "BybitFamily",
    "connect",
    "connect_market_data",
    "credentials",
    "list_markets",
]

CAPABILITIES = VenueCapabilities(
    modify=True, post_only=True, query_by_client_order_id=True, user_stream=True, max_client_order_id_len=36,
    order_types=frozenset({OrderType.LIMIT, OrderType.MARKET}),
    time_in_force=frozenset({TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK}), reduce_only=True,
    batch_submit=10, batch_cancel=10, cancel_all=True,
)  # fmt: skip
# Bybit's non-VIP linear rates, used when the config names none
_FEES = (Decimal("0.0002"), Decimal("0.00055"))


class BybitFamily(BybitData, BybitExecution):
    name = "bybit"
    venue = BYBIT
    ccxt_id = "bybit"
    capabilities = CAPABILITIES
    env: ClassVar[Mapping[str, str]] = {"api_key": "api_key_env", "secret": "api_secret_env"}
    # documented per-UID limits: create/amend/cancel 10 per second (linear); other private 50 per second
    rates: ClassVar[Mapping[str, RateSpec]] = {
        "orders": RateSpec(10, 1.0),
        "cancels": RateSpec(10, 1.0),
        "queries": RateSpec(50, 1.0),
    }
    default_market = "swap"
    markets_allowed = ("swap",)

    def options(self, config: CcxtVenueConfig) -> dict[str, Any]:
        # a unified trading account (set, so CCXT does not ask /v5/user/query-api and /v5/account/info)
        return {"defaultType": "swap", "defaultSubType": "linear", "fetchMarkets": {"types": ["linear"]},
                "enableUnifiedMargin": False, "enableUnifiedAccount": True, "unifiedMarginStatus": 6}  # fmt: skip

    def instrument(self, market: Mapping[str, Any], config: CcxtVenueConfig) -> Instrument:
        return instrument_from_row(
            market["info"], self.instrument_id(market),
            maker_fee=_FEES[0] if config.maker_fee is None else config.maker_fee,
            taker_fee=_FEES[1] if config.taker_fee is None else config.taker_fee,
        )  # fmt: skip

    def market_info(self, market: Mapping[str, Any]) -> MarketInfo:
        info = market["info"]
        lot = info["lotSizeFilter"]
        return MarketInfo(
            symbol=str(market["id"]), kind="swap", base=str(info["baseCoin"]), quote=str(info["quoteCoin"]),
            tick_size=Decimal(str(info["priceFilter"]["tickSize"])), lot_size=Decimal(str(lot["qtyStep"])),
            min_size=Decimal(str(lot["minOrderQty"])), min_notional=Decimal(str(lot.get("minNotionalValue") or 0)),
            maker_fee=_FEES[0], taker_fee=_FEES[1], active=info.get("status") == "Trading",
        )  # fmt: skip


FAMILY = BybitFamily()
CONFIG_TYPES: tuple[type[Any], ...] = (BybitConfig,)


def credentials(config: BybitConfig, environ: Mapping[str, str] | None = None) -> Credentials:
    return base.check_keys(FAMILY, config, FAMILY.credentials(config, environ))


async def connect(config: BybitConfig, creds: Credentials, hooks: VenueHooks) -> base.CcxtVenue:
    return await base.connect(FAMILY, config, creds, hooks)


async def list_markets(config: BybitConfig, search: str | None = None) -> list[MarketInfo]:
    return await base.list_markets(FAMILY, config, search)


async def connect_market_data(config: BybitConfig, hooks: VenueHooks) -> base.MarketDataSession:
    """Public market data only (no keys): what `tradewright record` records."""
    return await base.connect_market_data(FAMILY, config, hooks)
