"""The shared base of the CCXT venue families: a tapped ccxt.pro client, books we verify ourselves,
orders that are never sent twice, token-bucket rate limits, fail-closed authentication."""

from tradewright.venues._ccxt.books import BookFrame, BookRule, Chain, VerifiedBook
from tradewright.venues._ccxt.config import CcxtVenueConfig
from tradewright.venues._ccxt.data import BookInvalid, CcxtMarketFeed
from tradewright.venues._ccxt.exchange import RateGate, make_exchange, point_urls
from tradewright.venues._ccxt.execution import CcxtExecution
from tradewright.venues._ccxt.factory import CcxtVenue, check_keys, connect, list_markets
from tradewright.venues._ccxt.family import (
    Failure,
    Family,
    OrderArgs,
    OrderView,
    PublicQuote,
    PublicTrade,
    RateSpec,
)

__all__ = [
    "BookFrame",
    "BookInvalid",
    "BookRule",
    "CcxtExecution",
    "CcxtMarketFeed",
    "CcxtVenue",
    "CcxtVenueConfig",
    "Chain",
    "Failure",
    "Family",
    "OrderArgs",
    "OrderView",
    "PublicQuote",
    "PublicTrade",
    "RateGate",
    "RateSpec",
    "VerifiedBook",
    "check_keys",
    "connect",
    "list_markets",
    "make_exchange",
    "point_urls",
]
