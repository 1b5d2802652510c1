"""Connect to Polymarket for the live node: credentials (deriving an API key from the wallet when none
is configured), the order version, the configured markets with their grids and fees, a funding and
allowance check that refuses to start an unfunded or unapproved wallet, then the clients.

`list_markets` is Gamma discovery for `tradewright markets` (no credentials needed).
"""

from __future__ import annotations

import logging
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
from tradewright.venues.polymarket.catalog import Catalog
from tradewright.venues.polymarket.config import PolymarketConfig
from tradewright.venues.polymarket.config import credentials as read_credentials
from tradewright.venues.polymarket.data import PolymarketMarketData
from tradewright.venues.polymarket.execution import CAPABILITIES, PolymarketExecution
from tradewright.venues.polymarket.gamma import Discovery, GammaFilter, market_info
from tradewright.venues.polymarket.http import ApiCreds, ClobHttp, PolymarketApiError
from tradewright.venues.polymarket.orders import OrderFactory
from tradewright.venues.polymarket.parsing import VENUE, decode, market_from_clob
from tradewright.venues.polymarket.schemas import ApiKeyAnswer, ClobMarket, ClobMarketDetails
from tradewright.venues.polymarket.signing import address_of, contracts
from tradewright.venues.polymarket.user import UserChannel

__all__ = ["CONFIG_TYPES", "PolymarketVenue", "connect", "credentials", "derive_api_creds", "list_markets"]

CONFIG_TYPES: tuple[type[Any], ...] = (PolymarketConfig,)
log = logging.getLogger("tradewright.venues.polymarket")


def credentials(config: PolymarketConfig, environ: Mapping[str, str] | None = None) -> Credentials:
    return read_credentials(config, environ)


@dataclass
class PolymarketVenue:
    """A connected Polymarket: the `LiveVenue` the node drives."""

    session: aiohttp.ClientSession
    catalog: Catalog
    execution: PolymarketExecution
    market_data: PolymarketMarketData
    user: UserChannel
    creds: ApiCreds
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def venue(self) -> Venue:
        return VENUE

    @property
    def capabilities(self) -> VenueCapabilities:
        return CAPABILITIES

    @property
    def instruments(self) -> Mapping[InstrumentId, Instrument]:
        return self.catalog.instruments

    async def close(self) -> None:
        await self.market_data.close()
        await self.execution.close()
        await self.session.close()


async def derive_api_creds(http: ClobHttp) -> ApiCreds:
    """The wallet's API key set: derived (deterministic per nonce), or created when none exists yet."""
    try:
        raw = await http.request("GET", "/auth/derive-api-key", auth="l1")
    except PolymarketApiError as exc:
        if exc.status not in (400, 404):
            raise
        raw = await http.request("POST", "/auth/api-key", auth="l1")
    answer = decode(ApiKeyAnswer, raw, "api key answer")
    return ApiCreds(answer.apiKey, answer.secret, answer.passphrase)


async def load_market(http: ClobHttp, condition_id: str, collateral: str) -> tuple[BinaryMarket, int]:
    """One market from the CLOB (legacy object for tokens and dates, V2 parameters for grid and fees);
    also its V1 base fee in bps (what a version-1 order must sign)."""
    raw = await http.request("GET", f"/markets/{condition_id}")
    market = decode(ClobMarket, raw, f"market {condition_id}")
    details: ClobMarketDetails | None = None
    try:
        details = decode(
            ClobMarketDetails, await http.request("GET", f"/clob-markets/{condition_id}"), "clob market"
        )
    except PolymarketApiError as exc:
        if exc.status != 404:
            raise
    return market_from_clob(market, details, collateral=collateral), int(market.taker_base_fee)


async def check_funding(
    execution: PolymarketExecution, config: PolymarketConfig, neg_risk: bool, wallet: str
) -> None:
    """Refuse to start (before any order) when the wallet holds too little collateral or has not
    approved the exchange contracts that will settle its orders."""
    ba = await execution.balance_allowance("COLLATERAL")
    if ba.balance < config.min_collateral:
        raise ConfigError(
            f"Polymarket wallet {wallet} holds {ba.balance} {config.collateral}, below `min_collateral` "
            f"{config.min_collateral}: fund it before trading live"
        )
    if config.signature_type != 0:
        return  # proxy and safe wallets are approved through Polymarket's relayer, not by us
    c = contracts(config.chain_id)
    version = execution.version
    spenders = [c.exchange_v2 if version == 2 else c.exchange_v1]
    if neg_risk:
        spenders += [c.neg_risk_exchange_v2 if version == 2 else c.neg_risk_exchange_v1, c.neg_risk_adapter]
    given = {k.lower(): v for k, v in ba.allowances.items()}
    missing = [s for s in spenders if given.get(s.lower(), Decimal(0)) <= 0]
    if missing:
        raise ConfigError(
            f"Polymarket wallet {wallet} has not approved {', '.join(missing)} to spend its {config.collateral}: "
            "run `tradewright polymarket approve` (it prints every transaction; add --execute to send them)"
        )


async def connect(config: PolymarketConfig, credentials: Credentials, hooks: VenueHooks) -> PolymarketVenue:
    """Build a connected venue; refuse (ConfigError) on bad credentials, an unfunded or unapproved wallet."""
    key = credentials.get("private_key")
    signer = address_of(key)
    session = aiohttp.ClientSession()
    try:
        http = ClobHttp(
            session, config.clob, private_key=key, chain_id=config.chain_id, address=signer,
            timeout_s=config.timeout_ms / 1000,
        )  # fmt: skip
        if config.use_server_time:
            await http.sync_clock()
        if credentials.has("api_key"):
            creds = ApiCreds(
                credentials.get("api_key"), credentials.get("secret"), credentials.get("passphrase")
            )
        else:
            creds = await derive_api_creds(http)
        http.creds = creds
        markets: list[BinaryMarket] = []
        fees: dict[str, int] = {}
        for cid in config.markets:
            market, fee_bps = await load_market(http, cid, config.collateral)
            markets.append(market)
            fees[market.market_id] = fee_bps
        catalog = Catalog(markets)
        factory = OrderFactory(
            key,
            config.chain_id,
            signature_type=config.signature_type,
            funder=config.funder,
            owner=creds.api_key,
        )
        execution = PolymarketExecution(
            http, catalog, factory, hooks, collateral=config.collateral,
            signature_type=config.signature_type, fee_rates_bps=fees,
        )  # fmt: skip
        if config.order_version == "auto":
            await execution.refresh_version()
        else:
            execution.version = int(config.order_version)
        if config.check_funding:
            await check_funding(execution, config, any(m.neg_risk for m in markets), config.funder or signer)
        user = UserChannel(
            session, config.ws_url, execution, creds, [m.market_id for m in markets], hooks,
            heartbeat_interval_s=config.heartbeat_interval_ms / 1000, ping_interval_s=config.ping_interval_ms / 1000,
        )  # fmt: skip
        execution.user_stream = user
        data = PolymarketMarketData(
            session, config.ws_url, http, catalog, hooks, depth=config.book_depth,
            ping_interval_s=config.ping_interval_ms / 1000,
        )  # fmt: skip
    except PolymarketApiError as exc:
        await session.close()
        if exc.status in (401, 403):
            raise ConfigError(f"Polymarket refused the credentials: {exc.error_text[:200]}") from None
        raise VenueError(f"cannot connect to Polymarket at {config.clob}: {exc}") from None
    except BaseException:
        await session.close()
        raise
    return PolymarketVenue(session, catalog, execution, data, user, creds)


async def list_markets(
    config: PolymarketConfig, search: str | None = None, *, active: bool = False
) -> list[MarketInfo]:
    """Markets on Gamma (every outcome token a row), optionally only those open for orders, or matching text."""
    async with aiohttp.ClientSession() as session:
        discovery = Discovery(
            ClobHttp(session, config.gamma, timeout_s=config.timeout_ms / 1000), config.collateral
        )
        rows: list[MarketInfo] = []
        if search:
            for event in await discovery.search(search, active=active):
                for market in event.markets:
                    rows += market_info(market, event.title)
            if rows:
                return rows
        for market in await discovery.markets(GammaFilter(active=active, search=search or "")):
            rows += market_info(market)
        return rows
