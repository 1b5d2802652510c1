"""Connect to Alpaca (paper or live by config) and build the venue: REST, the trade stream, market data."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from tradewright.core.clock import LiveClock
from tradewright.core.errors import ConfigError, VenueError
from tradewright.core.ids import InstrumentId, Venue
from tradewright.model.enums import OrderType, TimeInForce
from tradewright.model.instrument import Instrument
from tradewright.venues._common.capabilities import VenueCapabilities
from tradewright.venues._common.credentials import Credentials
from tradewright.venues._common.markets import MarketInfo
from tradewright.venues._common.ports import VenueHooks
from tradewright.venues.alpaca.config import AlpacaConfig
from tradewright.venues.alpaca.data import BAR_INTERVALS, AlpacaMarketData
from tradewright.venues.alpaca.execution import AlpacaExecutionClient
from tradewright.venues.alpaca.parsing import instrument_of
from tradewright.venues.alpaca.rest import AlpacaHttpError, AlpacaRest, OutcomeUnknown
from tradewright.venues.alpaca.schemas import RawAccount, RawAsset, decode
from tradewright.venues.alpaca.streams import BridgedTradingStream, StreamThread

__all__ = ["CAPABILITIES", "AlpacaVenue", "connect", "list_markets"]

CAPABILITIES = VenueCapabilities(
    modify=True,  # Alpaca's replace: a new venue order id under the same client order id
    post_only=False,
    query_by_client_order_id=True,
    user_stream=True,
    max_client_order_id_len=128,
    order_types=frozenset({OrderType.LIMIT, OrderType.MARKET, OrderType.STOP_MARKET, OrderType.STOP_LIMIT}),
    time_in_force=frozenset({TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK}),
    reduce_only=False,
    stop_orders=True,
    cancel_all=True,
    client_order_id_chars="A-Za-z0-9_:.-",
    brackets=True,  # equities: order_class bracket (legs held until the entry has filled completely)
    oca_groups=False,
    bar_intervals_ns=frozenset(BAR_INTERVALS),
    market_data="l1",
)


@dataclass
class AlpacaVenue:
    """A connected Alpaca account (`LiveVenue`)."""

    config: AlpacaConfig
    rest: AlpacaRest
    symbols: dict[InstrumentId, tuple[str, Instrument]]
    execution: AlpacaExecutionClient
    market_data: AlpacaMarketData

    @property
    def venue(self) -> Venue:
        return Venue(self.config.venue)

    @property
    def capabilities(self) -> VenueCapabilities:
        return CAPABILITIES

    @property
    def instruments(self) -> Mapping[InstrumentId, Instrument]:
        return {iid: inst for iid, (_, inst) in self.symbols.items()}

    async def close(self) -> None:
        await self.execution.close()
        await self.market_data.close()


async def _check_account(config: AlpacaConfig, rest: AlpacaRest) -> RawAccount:
    try:
        account = decode(RawAccount, await rest.get("/account"), "account")
    except AlpacaHttpError as exc:
        if exc.status in (401, 403):
            raise ConfigError(
                f"Alpaca ({config.environment}) refused the API key at {config.rest_root}: check "
                f"{config.api_key_env} and {config.api_secret_env} (paper and live keys differ)"
            ) from None
        raise VenueError(f"Alpaca at {config.rest_root} answered {exc}") from None
    except OutcomeUnknown as exc:
        raise VenueError(f"cannot reach Alpaca at {config.rest_root}: {exc}") from None
    if account.trading_blocked or account.account_blocked or account.status != "ACTIVE":
        raise ConfigError(f"the Alpaca account is not open for trading (status {account.status})")
    return account


async def _assets(config: AlpacaConfig, rest: AlpacaRest) -> list[RawAsset]:
    out = []
    for symbol in config.symbols:
        try:
            asset = decode(RawAsset, await rest.get(f"/assets/{symbol}"), f"asset {symbol}")
        except AlpacaHttpError as exc:
            if exc.status == 404:
                raise ConfigError(f"Alpaca has no asset {symbol!r}: check `symbols`") from None
            raise
        if not asset.tradable or asset.status != "active":
            raise ConfigError(f"Alpaca asset {symbol} is not tradable ({asset.status})")
        out.append(asset)
    return out


async def connect(config: AlpacaConfig, credentials: Credentials, hooks: VenueHooks) -> AlpacaVenue:
    """Check the key and the account, define the instruments from Alpaca's assets, build the clients."""
    rest = AlpacaRest(config, credentials)
    await _check_account(config, rest)
    assets = await _assets(config, rest)
    symbols: dict[InstrumentId, tuple[str, Instrument]] = {}
    data_symbols: dict[InstrumentId, tuple[str, Instrument, bool]] = {}
    for asset in assets:
        inst = instrument_of(asset, config.venue)
        symbols[inst.id] = (asset.symbol, inst)
        data_symbols[inst.id] = (asset.symbol, inst, asset.asset_class == "crypto")
    stream = BridgedTradingStream(
        credentials.get("api_key"), credentials.get("secret"), paper=config.paper, raw_data=True,
        url_override=config.trade_stream,
    )
    thread = StreamThread(stream, "trade_updates", asyncio.get_running_loop())
    execution = AlpacaExecutionClient(rest, thread, symbols, hooks, CAPABILITIES, config.venue)
    data = AlpacaMarketData(config, credentials, data_symbols, hooks.clock.now_ns)
    return AlpacaVenue(config, rest, symbols, execution, data)


async def list_markets(config: AlpacaConfig, search: str | None = None) -> list[MarketInfo]:
    """The configured symbols as Alpaca describes them (needs the keys: Alpaca's asset list is private)."""
    from tradewright.venues.alpaca.config import credentials as read_credentials

    venue = await connect(config, read_credentials(config), VenueHooks(clock=LiveClock(), emit=lambda e: None))
    try:
        return [
            MarketInfo(symbol=symbol, kind=inst.kind.value, base=inst.base, quote=inst.quote, tick_size=inst.tick_size,
                       lot_size=inst.lot_size, min_size=inst.min_size)
            for symbol, inst in venue.symbols.values()
            if not search or search.upper() in symbol.upper()
        ]
    finally:
        await venue.close()
