"""The shared base every venue package builds on: the ports a live venue implements (`LiveVenue`,
`VenueExecution`, `MarketFeed`), its capabilities, credentials read from the environment, reconnect
backoff, client-side rate buckets and market-data health counters."""

from tradewright.venues._common.backoff import Backoff
from tradewright.venues._common.capabilities import VenueCapabilities
from tradewright.venues._common.credentials import Credentials
from tradewright.venues._common.feed import FeedStats, InstrumentFeedStats
from tradewright.venues._common.markets import MarketInfo
from tradewright.venues._common.ports import (
    BarCallback,
    BarFeed,
    BookCallback,
    BookLevels,
    BracketExecution,
    DeltasCallback,
    LiveVenue,
    MarketFeed,
    QuoteCallback,
    RecordableFeed,
    ResyncCallback,
    TradeCallback,
    VenueConnector,
    VenueExecution,
    VenueHealth,
    VenueHooks,
    VenueStatus,
)
from tradewright.venues._common.ratelimit import RateLimited, TokenBucket

__all__ = [
    "Backoff",
    "BarCallback",
    "BarFeed",
    "BookCallback",
    "BookLevels",
    "BracketExecution",
    "Credentials",
    "DeltasCallback",
    "FeedStats",
    "InstrumentFeedStats",
    "LiveVenue",
    "MarketFeed",
    "MarketInfo",
    "QuoteCallback",
    "RateLimited",
    "RecordableFeed",
    "ResyncCallback",
    "TokenBucket",
    "TradeCallback",
    "VenueCapabilities",
    "VenueConnector",
    "VenueExecution",
    "VenueHealth",
    "VenueHooks",
    "VenueStatus",
]
