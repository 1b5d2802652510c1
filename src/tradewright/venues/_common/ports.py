"""The ports a live venue implements, so that the live node drives every venue the same way.

A venue package (`venues/<family>/`) exposes a `connect(config, credentials, hooks)` coroutine that
returns a connected `LiveVenue`: its instruments (exact tick/lot grid and fees, from the venue), an
execution side (the kernel's `ExecutionClient` plus the `VenueStatePort` reconciliation reads) and a
market-data side. Everything the venue reports comes back through the hooks: order events to the
kernel, its health to the node (a venue that is degraded or down stops new orders for it).

Book integrity is the adapter's job, whatever its client library does: `MarketFeed.run_book` calls
`on_book` only with a book it has verified (checksum or sequence chain), and rebuilds it after a gap,
counting each rebuild in `FeedStats`.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from tradewright.core.clock import Clock
from tradewright.core.ids import InstrumentId, Venue
from tradewright.engine.ports import ExecutionClient
from tradewright.engine.venue_state import VenueOrder, VenueStatePort
from tradewright.model.data import Bar, BookDeltas, QuoteTick, TradeTick
from tradewright.model.events import Event
from tradewright.model.instrument import Instrument
from tradewright.model.orders import Order
from tradewright.venues._common.capabilities import VenueCapabilities
from tradewright.venues._common.credentials import Credentials
from tradewright.venues._common.feed import FeedStats

__all__ = [
    "BarCallback",
    "BarFeed",
    "BookCallback",
    "BookLevels",
    "BracketExecution",
    "DeltasCallback",
    "LiveVenue",
    "MarketFeed",
    "QuoteCallback",
    "RecordableFeed",
    "ResyncCallback",
    "TradeCallback",
    "VenueConnector",
    "VenueExecution",
    "VenueHealth",
    "VenueHooks",
    "VenueStatus",
]

BookLevels = list[tuple[int, int]]
"""One side of a book as (price in ticks, size in lots), best first."""

BookCallback = Callable[[InstrumentId, BookLevels, BookLevels], None]
"""Called with (instrument, bids, asks) — the top levels after each verified update."""

TradeCallback = Callable[[TradeTick], None]
BarCallback = Callable[[Bar], None]
QuoteCallback = Callable[[QuoteTick], None]
DeltasCallback = Callable[[BookDeltas], None]
"""Called with each verified book message as the venue sent it (a snapshot, or level changes)."""
ResyncCallback = Callable[[InstrumentId, str], None]
"""Called with (instrument, reason) when a book was found untrusted and is being rebuilt."""


class VenueHealth(enum.StrEnum):
    UP = "UP"
    DEGRADED = "DEGRADED"  # reachable but impaired (a stream reconnecting, throttled): no new orders
    DOWN = "DOWN"  # unreachable: no new orders; cancels are still attempted


@dataclass(frozen=True, slots=True)
class VenueStatus:
    """A change in one venue's health, with the reason in words (shown to operators)."""

    venue: Venue
    health: VenueHealth
    reason: str
    ts_ns: int


@dataclass(frozen=True, slots=True)
class VenueHooks:
    """What a venue adapter is given to report back.

    `emit` takes order events (to the kernel, which drops repeats) and venue-originated events such as
    `MarketResolved`. `after_send` is called once a request has left (the crash tests hook it).
    `on_instrument` is called when the venue changes an instrument's terms while it trades (a
    prediction market's tick size, a new lot or minimum size): the node replaces the instrument, and
    resting orders off the new grid must be re-priced or cancelled.
    """

    clock: Clock
    emit: Callable[[Event], None]
    on_status: Callable[[VenueStatus], None] = lambda status: None
    on_instrument: Callable[[Instrument], None] = lambda instrument: None
    after_send: Callable[[Order], None] | None = None
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("tradewright.venues"))


class MarketFeed(Protocol):
    """Public market data of one venue, for any of its instruments."""

    @property
    def stats(self) -> FeedStats: ...

    async def run_book(self, instrument_id: InstrumentId, on_book: BookCallback) -> None:
        """Keep one instrument's verified book and call `on_book` after every update; reconnect,
        resubscribe and rebuild on failure. Runs until cancelled."""
        ...

    async def run_trades(self, instrument_id: InstrumentId, on_trade: TradeCallback) -> None:
        """Deliver public trades of one instrument. Runs until cancelled."""
        ...


@runtime_checkable
class BarFeed(Protocol):
    """Bars of one venue (brokers stream them; crypto venues have klines). A `MarketFeed` that also
    implements this advertises the lengths it can deliver in `VenueCapabilities.bar_intervals_ns`.

    `on_bar` gets each bar once, when it is complete, with `ts_event` at its close (UTC ns of the
    venue's clock) and exact prices on the instrument's grid; bars arrive in time order. After a
    reconnect the feed resubscribes and delivers the bars that completed meanwhile (none twice), so a
    strategy sees the same series as a backtest on the recorded bars would.
    """

    async def run_bars(self, instrument_id: InstrumentId, interval_ns: int, on_bar: BarCallback) -> None:
        """Deliver completed bars of `interval_ns` for one instrument until cancelled; raise
        `ConfigError` at once when the venue cannot give that length (see the capabilities)."""
        ...


@runtime_checkable
class BracketExecution(Protocol):
    """Send a bracket (`tradewright.model.bracket.Bracket`) as the venue's own contingent orders.

    The three orders were built from the bracket's linked `SubmitOrder`s (their `parent_order_id` and
    `oca_group`), passed risk as one proposal, and were recorded before this call. Each order's answers
    come back as its own events; the stop and the target report `OrderAccepted` once the venue holds
    them (held until the entry fills), and their quantities follow the entry's fills as the venue
    applies them (`OrderUpdated` when a child's working size changes).
    """

    def submit_bracket(self, entry: Order, stop: Order, target: Order | None) -> None: ...


class RecordableFeed(MarketFeed, Protocol):
    """A market feed that can also hand over what it verified message by message — what the live
    recorder writes (`tradewright record`). Optional: a venue whose feed offers it can be recorded."""

    async def run_book_deltas(
        self, instrument_id: InstrumentId, on_deltas: DeltasCallback, on_resync: ResyncCallback
    ) -> None:
        """Deliver each verified book message (snapshots included) and each resynchronisation."""
        ...

    async def run_quotes(self, instrument_id: InstrumentId, on_quote: QuoteCallback) -> None:
        """Deliver the venue's own best bid and offer (bookTicker / ticker). Runs until cancelled."""
        ...


class VenueExecution(ExecutionClient, VenueStatePort, Protocol):
    """Orders at one venue: the kernel's commands, the user stream, and what reconciliation reads.

    `submit`/`cancel`/`modify` return at once; answers come back as events through the hooks. A request
    whose outcome is unknown (timeout, connection lost, 5xx) is never repeated: the order is queried by
    its client order id until the venue says what became of it.
    """

    @property
    def capabilities(self) -> VenueCapabilities: ...

    def track(self, order: Order) -> None:
        """Know an order restored from the store (so its updates are recognised)."""
        ...

    def cancel_unknown(self, order: VenueOrder) -> None:
        """Cancel an order of ours that the store does not know (found by reconciliation)."""
        ...

    def cancel_all(self, instrument_id: InstrumentId) -> None:
        """Cancel every order of ours on one instrument (natively where the venue can)."""
        ...

    async def run_user_stream(self, on_reconnect: Callable[[], None] | None = None) -> None:
        """Run the private stream (orders, fills, balances) and whatever keeps it alive; call
        `on_reconnect` after a reconnect, since what it missed is only recovered by reconciling."""
        ...

    async def wait_user_stream(self, timeout_s: float) -> bool:
        """Wait until the private stream is live; False on timeout."""
        ...

    async def drain(self, timeout_s: float) -> bool:
        """Wait for requests in flight to be answered; False on timeout."""
        ...

    async def close(self) -> None: ...


class LiveVenue(Protocol):
    """A connected venue: what the live node needs of it."""

    @property
    def venue(self) -> Venue: ...

    @property
    def capabilities(self) -> VenueCapabilities: ...

    @property
    def instruments(self) -> Mapping[InstrumentId, Instrument]: ...

    @property
    def execution(self) -> VenueExecution: ...

    @property
    def market_data(self) -> MarketFeed: ...

    async def close(self) -> None: ...


class VenueConnector(Protocol):
    """A venue package's `connect`: load the configured instruments and build the clients."""

    async def __call__(self, config: Any, credentials: Credentials, hooks: VenueHooks) -> LiveVenue: ...
