"""The Gate family: USDT perpetual futures on the shared CCXT base, and the registry's module API."""

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
from tradewright.venues.gate.config import GateConfig
from tradewright.venues.gate.data import GateData
from tradewright.venues.gate.execution import GateExecution
from tradewright.venues.gate.parsing import GATE, instrument_from_contract

__all__ = ["CAPABILITIES", "CONFIG_TYPES", "FAMILY", "GateFamily", "connect", "credentials", "list_markets"]

CAPABILITIES = VenueCapabilities(
    modify=True, post_only=True, query_by_client_order_id=True, user_stream=True, max_client_order_id_len=28,
    order_types=frozenset({OrderType.LIMIT, OrderType.MARKET}),
    time_in_force=frozenset({TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK}), reduce_only=True,
    batch_submit=20, batch_cancel=20, cancel_all=True, client_order_id_chars="0-9A-Za-z_.-",
)  # fmt: skip


class GateFamily(GateData, GateExecution):
    name = "gate"
    venue = GATE
    ccxt_id = "gate"
    capabilities = CAPABILITIES
    env: ClassVar[Mapping[str, str]] = {
        "api_key": "api_key_env",
        "secret": "api_secret_env",
        "uid": "uid_env",
    }
    # documented: futures orders 100 requests per second, cancels 200 per second, other private 200 per 10 s
    rates: ClassVar[Mapping[str, RateSpec]] = {
        "orders": RateSpec(100, 1.0),
        "cancels": RateSpec(200, 1.0),
        "queries": RateSpec(200, 10.0),
    }
    default_market = "swap"
    markets_allowed = ("swap",)
    private_url_marker = "/v4/ws/usdt"  # public and private channels share Gate's futures socket

    def ccxt_keys(self, creds: Credentials | None) -> dict[str, str]:
        keys = super().ccxt_keys(creds)
        if creds is not None and creds.has("uid"):
            keys["uid"] = creds.get("uid")
        return keys

    def check_credentials(self, config: Any, creds: Credentials) -> None:
        if not creds.get("uid").isdigit():
            raise ConfigError(
                f"malformed GATE credentials: {config.uid_env} must be the account's numeric user id"
            )

    def options(self, config: CcxtVenueConfig) -> dict[str, Any]:
        # a classic futures account (CCXT would otherwise ask /account/detail whether it is unified)
        return {"defaultType": "swap", "fetchMarkets": {"types": ["swap"]}, "unifiedAccount": False}

    def instrument(self, market: Mapping[str, Any], config: CcxtVenueConfig) -> Instrument:
        return instrument_from_contract(
            market["info"], self.instrument_id(market), maker_fee=config.maker_fee, taker_fee=config.taker_fee
        )

    def market_info(self, market: Mapping[str, Any]) -> MarketInfo:
        info = market["info"]
        return MarketInfo(
            symbol=str(market["id"]), kind="swap", base=str(market.get("base", "")), quote=str(market.get("quote", "")),
            tick_size=Decimal(str(info["order_price_round"])), lot_size=Decimal(1), min_size=Decimal(str(info.get("order_size_min", 1))),
            maker_fee=Decimal(str(info.get("maker_fee_rate", 0))), taker_fee=Decimal(str(info.get("taker_fee_rate", 0))),
            active=not info.get("in_delisting", False), extra={"contract_value": str(info.get("quanto_multiplier", ""))},
        )  # fmt: skip


FAMILY = GateFamily()
CONFIG_TYPES: tuple[type[Any], ...] = (GateConfig,)


def credentials(config: GateConfig, environ: Mapping[str, str] | None = None) -> Credentials:
    return base.check_keys(FAMILY, config, FAMILY.credentials(config, environ))


async def connect(config: GateConfig, creds: Credentials, hooks: VenueHooks) -> base.CcxtVenue:
    return await base.connect(FAMILY, config, creds, hooks)


async def list_markets(config: GateConfig, search: str | None = None) -> list[MarketInfo]:
    return await base.list_markets(FAMILY, config, search)
