"""Connect a CCXT venue family: load its markets, define the instruments (exact grids, from the venue),
check the keys before anything else, and build the market-data and execution sides.

Authentication fails closed: missing keys stop in `credentials` (naming the variables), malformed ones
in `check_keys` (naming the variable and what is wrong), and keys the venue refuses stop `connect`
before any order, with the venue's own answer — never a key or secret in any message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ccxt

from tradewright.core.errors import ConfigError, VenueError
from tradewright.core.ids import InstrumentId, Venue
from tradewright.model.instrument import Instrument
from tradewright.venues._ccxt.config import CcxtVenueConfig
from tradewright.venues._ccxt.data import CcxtMarketFeed
from tradewright.venues._ccxt.exchange import RateGate, SecretFilter, make_exchange
from tradewright.venues._ccxt.execution import CcxtExecution
from tradewright.venues._ccxt.family import Family
from tradewright.venues._common.capabilities import VenueCapabilities
from tradewright.venues._common.credentials import Credentials
from tradewright.venues._common.markets import MarketInfo
from tradewright.venues._common.ports import VenueHooks

__all__ = ["CcxtVenue", "check_keys", "connect", "list_markets"]

_PRINTABLE = re.compile(r"[\x21-\x7e]+")


@dataclass
class CcxtVenue:
    """A connected venue (`LiveVenue`): its instruments, execution side and market-data side."""

    family: Family
    exchange: Any
    config: CcxtVenueConfig
    instruments: Mapping[InstrumentId, Instrument]
    execution: CcxtExecution
    market_data: CcxtMarketFeed
    symbols: Mapping[InstrumentId, str]
    redactor: SecretFilter | None = None

    @property
    def venue(self) -> Venue:
        return self.family.venue

    @property
    def capabilities(self) -> VenueCapabilities:
        return self.family.capabilities

    async def close(self) -> None:
        await self.execution.close()
        await self.exchange.close()
        if self.redactor is not None:
            self.redactor.remove()


def check_keys(family: Family, config: Any, creds: Credentials) -> Credentials:
    """Refuse credentials that cannot be right, naming the variable (never the value)."""
    for part, attr in family.env.items():
        if not creds.has(part):
            continue
        value = creds.get(part)
        if not _PRINTABLE.fullmatch(value):
            raise ConfigError(
                f"malformed {family.name.upper()} credentials: {getattr(config, attr)} contains spaces or "
                "characters that are not printable ASCII (a copy-paste accident?)"
            )
    family.check_credentials(config, creds)
    return creds


async def connect(
    family: Family, config: CcxtVenueConfig, creds: Credentials, hooks: VenueHooks
) -> CcxtVenue:
    """Load the configured markets, check the keys with a private read, and build the clients."""
    if not config.symbols:
        raise ConfigError(
            f"`symbols`: name at least one {family.name} market (see `tradewright markets --venue {family.name}`)"
        )
    check_keys(family, config, creds)
    taps: list[Any] = []

    def tap(client: Any, message: Any) -> None:
        for target in taps:
            target(client, message)

    redactor = SecretFilter(creds.secrets())
    exchange = make_exchange(family, config, creds, tap)
    try:
        markets = await exchange.load_markets()
        instruments: dict[InstrumentId, Instrument] = {}
        symbols: dict[InstrumentId, str] = {}
        market_ids: dict[InstrumentId, str] = {}
        for symbol in config.symbols:
            market = family.select_market(markets, symbol, config)
            inst = family.instrument(market, config)
            instruments[inst.id] = inst
            symbols[inst.id] = str(market["symbol"])
            market_ids[inst.id] = str(market["id"])
        await family.verify_keys(exchange)
    except ccxt.AuthenticationError as exc:
        await exchange.close()
        redactor.remove()
        names = " / ".join(getattr(config, attr) for attr in family.env.values())
        raise ConfigError(
            f"{family.name.upper()} refused the API credentials ({names}): {str(exc)[:200]}"
        ) from None
    except (ccxt.BaseError, VenueError) as exc:
        await exchange.close()
        redactor.remove()
        raise VenueError(f"cannot connect to {family.name}: {str(exc)[:300]}") from None
    except BaseException:
        await exchange.close()
        redactor.remove()
        raise
    gate = RateGate(family.rates, enabled=config.rate_limit, pause_s=config.rate_limited_pause_s)
    execution = CcxtExecution(family, exchange, gate, instruments, symbols, market_ids, hooks)
    feed = CcxtMarketFeed(family, exchange, config, instruments, symbols, market_ids, hooks)
    taps += [feed.on_raw, execution.on_raw]
    return CcxtVenue(family, exchange, config, instruments, execution, feed, symbols, redactor)


async def list_markets(
    family: Family, config: CcxtVenueConfig, search: str | None = None
) -> list[MarketInfo]:
    """The venue's markets (public data only, no keys), filtered by `search` (case-insensitive, any of
    symbol, base or quote)."""
    exchange = make_exchange(family, config, None, lambda client, message: None)
    try:
        markets = await exchange.load_markets()
    except ccxt.BaseError as exc:
        raise VenueError(f"cannot load {family.name} markets: {str(exc)[:300]}") from None
    finally:
        await exchange.close()
    out = []
    needle = (search or "").lower()
    for market in markets.values():
        info = family.market_info(market)
        if needle and not any(
            needle in text.lower()
            for text in (info.symbol, info.base, info.quote, str(market.get("symbol", "")))
        ):
            continue
        out.append(info)
    return sorted(out, key=lambda m: (m.kind, m.symbol))
