"""Connect to TWS / IB Gateway and build the venue: session, contracts, execution and market data."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass

from tradewright.core.errors import ConfigError
from tradewright.core.ids import InstrumentId, Venue
from tradewright.model.enums import OrderType, TimeInForce
from tradewright.model.instrument import Instrument
from tradewright.venues._common.capabilities import VenueCapabilities
from tradewright.venues._common.credentials import Credentials
from tradewright.venues._common.markets import MarketInfo
from tradewright.venues._common.ports import VenueHooks
from tradewright.venues.ib.config import IbConfig
from tradewright.venues.ib.contracts import Resolved, resolve, venue_date
from tradewright.venues.ib.data import BAR_SIZES, IbMarketData
from tradewright.venues.ib.execution import IbExecutionClient
from tradewright.venues.ib.session import IbSession

__all__ = ["CAPABILITIES", "IbVenue", "connect", "list_markets"]

CAPABILITIES = VenueCapabilities(
    modify=True,
    post_only=False,
    query_by_client_order_id=True,  # by orderRef, over open and completed orders
    user_stream=True,
    max_client_order_id_len=64,
    order_types=frozenset({OrderType.LIMIT, OrderType.MARKET, OrderType.STOP_MARKET, OrderType.STOP_LIMIT}),
    time_in_force=frozenset({TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.GTD}),
    reduce_only=False,  # IB has no reduce-only flag: the risk engine's check is the guard
    stop_orders=True,
    cancel_all=True,
    client_order_id_chars="A-Za-z0-9_:.-",
    brackets=True,
    oca_groups=True,
    bar_intervals_ns=frozenset(BAR_SIZES),
    market_data="l1",
)


@dataclass
class IbVenue:
    """A connected IB venue (`LiveVenue`)."""

    session: IbSession
    contracts: dict[InstrumentId, Resolved]
    execution: IbExecutionClient
    market_data: IbMarketData

    @property
    def venue(self) -> Venue:
        return self.session.venue

    @property
    def capabilities(self) -> VenueCapabilities:
        return CAPABILITIES

    @property
    def instruments(self) -> Mapping[InstrumentId, Instrument]:
        return {iid: r.instrument for iid, r in self.contracts.items()}

    async def close(self) -> None:
        await self.execution.close()
        await self.session.close()


async def connect(config: IbConfig, credentials: Credentials, hooks: VenueHooks) -> IbVenue:
    """Connect, check the account, resolve every configured contract (on the gateway's date) and build
    the clients. Failures stop here with a message naming what to fix."""
    if not config.instruments:
        raise ConfigError("the IB venue lists no `instruments`")
    account = credentials.get("account") if credentials.has("account") else ""
    session = IbSession(config, account, hooks)
    await session.connect()
    try:
        today = await venue_date(session)
        contracts: dict[InstrumentId, Resolved] = {}
        for wanted in config.instruments:
            resolved = await resolve(session, wanted, today)
            contracts[resolved.instrument.id] = resolved
    except BaseException:
        with contextlib.suppress(Exception):
            await session.close()
        raise
    execution = IbExecutionClient(session, contracts, hooks, CAPABILITIES)
    return IbVenue(session, contracts, execution, IbMarketData(session, contracts))


async def list_markets(config: IbConfig, search: str | None = None) -> list[MarketInfo]:
    """The configured contracts as IB describes them (IB has no public market list)."""
    from tradewright.core.clock import LiveClock

    hooks = VenueHooks(clock=LiveClock(), emit=lambda event: None)
    venue = await connect(config, Credentials("Interactive Brokers", {}), hooks)
    try:
        out = []
        for resolved in venue.contracts.values():
            inst, facts = resolved.instrument, resolved.facts
            if search and search.upper() not in f"{facts.symbol} {facts.local_symbol} {facts.long_name}".upper():
                continue
            out.append(
                MarketInfo(
                    symbol=facts.local_symbol,
                    kind=inst.kind.value,
                    base=inst.base,
                    quote=inst.quote,
                    tick_size=inst.tick_size,
                    lot_size=inst.lot_size,
                    end_ns=inst.expiry_ns,
                    extra={"conId": str(facts.con_id), "name": facts.long_name, "exchange": facts.exchange},
                )
            )
        return out
    finally:
        await venue.close()
