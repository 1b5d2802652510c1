"""Connect to Turbine for the live node: credentials (registering an API key from the wallet when none
is configured), the current quick markets of the configured assets, a funding check that refuses to
start an unfunded wallet, the clients and the rotation scheduler.

`list_markets` lists quick markets (current and recent) and the venue's other markets, with no key.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import aiohttp

from tradewright.core.errors import ConfigError, VenueError
from tradewright.core.ids import InstrumentId, Venue
from tradewright.model.instrument import Instrument
from tradewright.model.prediction import BinaryMarket
from tradewright.venues._common.capabilities import VenueCapabilities
from tradewright.venues._common.credentials import Credentials
from tradewright.venues._common.markets import MarketInfo
from tradewright.venues._common.ports import VenueHooks
from tradewright.venues.turbine.client import ApiKey, TurbineApiError, TurbineHttp, register_api_key
from tradewright.venues.turbine.config import TurbineConfig
from tradewright.venues.turbine.config import credentials as read_credentials
from tradewright.venues.turbine.data import TurbineMarketData
from tradewright.venues.turbine.execution import CAPABILITIES, TurbineExecution, TurbineMarket
from tradewright.venues.turbine.parsing import VENUE, decode, market_of
from tradewright.venues.turbine.rotation import Rotation
from tradewright.venues.turbine.schemas import Market, QuickMarket, QuickMarketAnswer
from tradewright.venues.turbine.signing import chain

__all__ = ["CONFIG_TYPES", "TurbineVenue", "connect", "credentials", "discover", "list_markets"]

CONFIG_TYPES: tuple[type[Any], ...] = (TurbineConfig,)


def credentials(config: TurbineConfig, environ: Mapping[str, str] | None = None) -> Credentials:
    return read_credentials(config, environ)


@dataclass
class TurbineVenue:
    """A connected Turbine: the `LiveVenue`, plus the rotation and what rotation adds."""

    session: aiohttp.ClientSession
    config: TurbineConfig
    http: TurbineHttp
    execution: TurbineExecution
    market_data: TurbineMarketData
    rotation: Rotation
    markets: dict[str, BinaryMarket] = field(default_factory=dict)

    @property
    def venue(self) -> Venue:
        return VENUE

    @property
    def capabilities(self) -> VenueCapabilities:
        return CAPABILITIES

    @property
    def instruments(self) -> Mapping[InstrumentId, Instrument]:
        return {inst.id: inst for m in self.markets.values() for inst in m.instruments()}

    def add(self, q: QuickMarket) -> BinaryMarket:
        """Trade one more quick market (rotation found it)."""
        market = market_of(q, tick_size=self.config.tick_size, fee_rate=self.config.fee_rate)
        self.markets[market.market_id] = market
        settlement = q.settlementAddress or chain(self.config.chain_id).settlement
        self.execution.add_market(TurbineMarket(market, settlement, q.contractAddress))
        return market

    async def close(self) -> None:
        await self.market_data.close()
        await self.execution.close()
        await self.session.close()


async def discover(http: TurbineHttp, assets: list[str], interval_minutes: int) -> list[QuickMarket]:
    """The quick market now open for each asset (and the next one, where the venue already lists it)."""
    found: list[QuickMarket] = []
    for asset in assets:
        raw = await http.request(
            "GET", f"/api/v1/quick-markets/{asset}", params={"interval": str(interval_minutes)}
        )
        answer: QuickMarketAnswer = decode(QuickMarketAnswer, raw, "quick market")
        if answer.quickMarket is not None:
            found.append(answer.quickMarket)
        try:
            upcoming = await http.request(
                "GET", f"/api/v1/quick-markets/{asset}/all", params={"interval": str(interval_minutes)}
            )
        except TurbineApiError:
            continue
        rows = upcoming.get("quickMarkets", upcoming) if isinstance(upcoming, dict) else upcoming
        for row in rows or []:
            q = decode(QuickMarket, row, "quick market")
            if not q.resolved and all(f.marketId != q.marketId for f in found):
                found.append(q)
    return found


async def connect(config: TurbineConfig, credentials: Credentials, hooks: VenueHooks) -> TurbineVenue:
    """A connected venue; ConfigError on refused credentials or an unfunded wallet (before any order)."""
    key = credentials.get("private_key")
    cfg = chain(config.chain_id)
    session = aiohttp.ClientSession()
    try:
        http = TurbineHttp(session, config.rest_url, timeout_s=config.timeout_ms / 1000)
        if credentials.has("api_key"):
            http.api_key = ApiKey(credentials.get("api_key"), credentials.get("secret"))
        else:
            http.api_key = await register_api_key(http, key)
            hooks.log.warning(
                "turbine: registered API key %s for the wallet; save its private key: it is shown only once",
                http.api_key.key_id,
            )
        execution = TurbineExecution(
            http, key, cfg, hooks, permit=config.permit, permit_lifetime_s=config.permit_lifetime_s,
            order_lifetime_s=config.order_lifetime_s, poll_interval_s=config.poll_interval_ms / 1000,
        )  # fmt: skip
        if config.check_funding:
            balance = await execution.balance()
            if balance < config.min_collateral:
                raise ConfigError(
                    f"Turbine wallet {execution.trader} holds {balance} USDC on chain {config.chain_id}, below "
                    f"`min_collateral` {config.min_collateral}: fund it before trading live"
                )
        venue_box: list[TurbineVenue] = []
        data = TurbineMarketData(
            session, config.ws_url, http, hooks, lambda mid: venue_box[0].markets.get(mid)
        )
        venue = TurbineVenue(session, config, http, execution, data, Rotation(config.rotation))
        venue_box.append(venue)
        for q in await discover(http, config.assets, config.interval_minutes):
            venue.add(q)
    except TurbineApiError as exc:
        await session.close()
        if exc.status in (401, 403):
            raise ConfigError(f"Turbine refused the API key: {exc.error_text[:200]}") from None
        raise VenueError(f"cannot connect to Turbine at {config.rest_url}: {exc}") from None
    except BaseException:
        await session.close()
        raise
    return venue


def _rows(q: QuickMarket, config: TurbineConfig) -> list[MarketInfo]:
    market = market_of(q, tick_size=config.tick_size, fee_rate=config.fee_rate)
    return [
        MarketInfo(
            symbol=str(inst.id),
            kind="binary_outcome",
            base=inst.base,
            quote="USDC",
            tick_size=inst.tick_size,
            lot_size=inst.lot_size,
            min_notional=Decimal(1),
            taker_fee=config.fee_rate,
            active=market.active,
            end_ns=market.end_ns,
            extra={"question": market.question, "asset": q.asset, "interval": f"{q.intervalMinutes}m"},
        )
        for inst in market.instruments()
    ]


async def list_markets(
    config: TurbineConfig, search: str | None = None, *, active: bool = False
) -> list[MarketInfo]:
    """Quick markets of the configured assets (and intervals 15 and 60), then the venue's other markets."""
    async with aiohttp.ClientSession() as session:
        http = TurbineHttp(session, config.rest_url, timeout_s=config.timeout_ms / 1000)
        rows: list[MarketInfo] = []
        for interval in sorted({config.interval_minutes, 15, 60}):
            for q in await discover(http, config.assets, interval):
                rows += _rows(q, config)
        raw = await http.request("GET", "/api/v1/markets", params={"chain_id": str(config.chain_id)})
        listed = raw.get("markets", raw) if isinstance(raw, dict) else raw
        known = {r.symbol.rpartition("-")[0] for r in rows}
        now = int(time.time())
        for row in listed or []:
            m = decode(Market, row, "market")
            if m.id in known:
                continue
            for outcome in ("YES", "NO"):
                rows.append(
                    MarketInfo(
                        symbol=f"{m.id}-{outcome}.TURBINE", kind="binary_outcome", base=outcome.title(), quote="USDC",
                        tick_size=config.tick_size, lot_size=Decimal("0.000001"), min_notional=Decimal(1),
                        taker_fee=config.fee_rate, active=not m.resolved and (m.expiration == 0 or m.expiration > now),
                        end_ns=m.expiration * 1_000_000_000 if m.expiration else None,
                        extra={"question": m.question, "category": m.category},
                    )
                )  # fmt: skip
        if search:
            needle = search.lower()
            rows = [
                r for r in rows if needle in r.extra.get("question", "").lower() or needle in r.symbol.lower()
            ]
        if active:
            rows = [r for r in rows if r.active]
        return rows
