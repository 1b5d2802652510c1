"""The Kraken family: spot on the shared CCXT base, and the registry's module API."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from tradewright.core.errors import ConfigError
from tradewright.model.enums import OrderType, TimeInForce
from tradewright.model.instrument import Instrument
from tradewright.venues._ccxt import factory as base
from tradewright.venues._ccxt.config import CcxtVenueConfig
from tradewright.venues._ccxt.family import RateSpec
from tradewright.venues._common.capabilities import VenueCapabilities
from tradewright.venues._common.credentials import Credentials
from tradewright.venues._common.markets import MarketInfo
from tradewright.venues._common.ports import VenueHooks
from tradewright.venues.kraken.config import KrakenConfig
from tradewright.venues.kraken.data import KrakenData
from tradewright.venues.kraken.execution import KrakenExecution
from tradewright.venues.kraken.parsing import KRAKEN, instrument_from_pair

__all__ = [
    "CAPABILITIES",
    "CONFIG_TYPES",
    "FAMILY",
    "KrakenFamily",
    "connect",
    "connect_market_data",
    "credentials",
    "list_markets",
]

CAPABILITIES = VenueCapabilities(
    modify=True, post_only=True, query_by_client_order_id=True, user_stream=True, max_client_order_id_len=36,
    order_types=frozenset({OrderType.LIMIT, OrderType.MARKET}), time_in_force=frozenset({TimeInForce.GTC, TimeInForce.IOC}),
    batch_submit=15, batch_cancel=50, cancel_all=True, client_order_id_chars="A-Za-z0-9 (or a UUID)",
)  # fmt: skip


class KrakenFamily(KrakenData, KrakenExecution):
    name = "kraken"
    venue = KRAKEN
    ccxt_id = "kraken"
    capabilities = CAPABILITIES
    env: ClassVar[Mapping[str, str]] = {"api_key": "api_key_env", "secret": "api_secret_env"}
    # documented: a counter of 15 decaying 0.33/s for queries; order placement is limited per pair
    rates: ClassVar[Mapping[str, RateSpec]] = {
        "orders": RateSpec(60, 60.0),
        "cancels": RateSpec(60, 60.0),
        "queries": RateSpec(15, 45.0),
    }
    default_market = "spot"
    markets_allowed = ("spot",)

    def select_market(
        self, markets: Mapping[str, Any], symbol: str, config: CcxtVenueConfig
    ) -> dict[str, Any]:
        for market in markets.values():
            info = market.get("info") or {}
            if symbol in (market.get("id"), market.get("symbol"), info.get("altname"), info.get("wsname")):
                return dict(market)
        raise ConfigError(f"`symbols`: {symbol} is not a Kraken spot pair")

    def instrument_id(self, market: Mapping[str, Any]) -> Any:
        from tradewright.core.ids import InstrumentId

        return InstrumentId(str(market["info"]["altname"]), self.venue)

    def instrument(self, market: Mapping[str, Any], config: CcxtVenueConfig) -> Instrument:
        return instrument_from_pair(
            market["info"], self.instrument_id(market), maker_fee=config.maker_fee, taker_fee=config.taker_fee
        )

    def market_info(self, market: Mapping[str, Any]) -> MarketInfo:
        info = market["info"]
        fees, makers = info.get("fees") or [[0, 0]], info.get("fees_maker") or info.get("fees") or [[0, 0]]
        return MarketInfo(
            symbol=str(info.get("altname", market["id"])), kind="spot", base=str(market.get("base", "")),
            quote=str(market.get("quote", "")), tick_size=Decimal(1).scaleb(-int(info["pair_decimals"])),
            lot_size=Decimal(1).scaleb(-int(info["lot_decimals"])), min_size=Decimal(str(info.get("ordermin", 0))),
            min_notional=Decimal(str(info.get("costmin") or 0)), maker_fee=Decimal(str(makers[0][1])) / 100,
            taker_fee=Decimal(str(fees[0][1])) / 100, extra={"wsname": str(info.get("wsname", ""))},
        )  # fmt: skip


FAMILY = KrakenFamily()
CONFIG_TYPES: tuple[type[Any], ...] = (KrakenConfig,)


def credentials(config: KrakenConfig, environ: Mapping[str, str] | None = None) -> Credentials:
    return base.check_keys(FAMILY, config, FAMILY.credentials(config, environ))


async def connect(config: KrakenConfig, creds: Credentials, hooks: VenueHooks) -> base.CcxtVenue:
    return await base.connect(FAMILY, config, creds, hooks)


async def list_markets(config: KrakenConfig, search: str | None = None) -> list[MarketInfo]:
    return await base.list_markets(FAMILY, config, search)


async def connect_market_data(config: KrakenConfig, hooks: VenueHooks) -> base.MarketDataSession:
    """Public market data only (no keys): what `tradewright record` records."""
    return await base.connect_market_data(FAMILY, config, hooks)
