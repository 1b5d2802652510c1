"""Built-in strategies, one small file each. Each has a frozen `Config` (unknown keys and out-of-range
values are refused, naming the field) and an example config under examples/; docs/strategies.md
describes them.

Market making on L2 data: `AvellanedaStoikov` (B1) and `SpreadQuoter` (B2), both on the quote manager.
Prediction markets: `DutchBook` (B4), exact Dutch-book arbitrage on binary and neg-risk markets;
`QuickMarketMaker`, inventory-skewed quoting that rotates through Turbine's quick markets.
Arbitrage: `CrossVenueArb` (B5), the same asset on several venues, through the multi-leg executor, with
its pure edge function `best_opportunity`.
Bars: `Grid` (B3); `SmaCross`, `VwapPullback`, `OpeningRangeRetest`, `MeanReversion` (B6) on
`BracketStrategy` (ATR sizing in R, a stop and a target, trade tags), with the `RegimeDetector`; and
`DayTrader`, the futures day-trading stack that runs the last three with the regime choosing.
"""

from tradewright.strategies.arb_edge import Opportunity, VenueQuote, best_opportunity
from tradewright.strategies.avellaneda_stoikov import AvellanedaStoikov, AvellanedaStoikovConfig, as_quotes
from tradewright.strategies.bracket import BracketConfig, BracketStrategy
from tradewright.strategies.cross_venue_arb import CrossVenueArb, CrossVenueArbConfig
from tradewright.strategies.day_trader import DayTrader, DayTraderConfig
from tradewright.strategies.dutch_book import DutchBook, DutchBookConfig, DutchBookGroup, group_from_event
from tradewright.strategies.grid import Grid, GridConfig, GridSlots
from tradewright.strategies.mean_reversion import MeanReversion, MeanReversionConfig
from tradewright.strategies.orb import OpeningRangeRetest, OpeningRangeRetestConfig
from tradewright.strategies.quick_market_maker import QuickMarketMaker, QuickMarketMakerConfig, skewed_quotes
from tradewright.strategies.regime import Regime, RegimeConfig, RegimeDetector
from tradewright.strategies.sizing import atr_position_size, stop_distance_ticks
from tradewright.strategies.sma_cross import SmaCross, SmaCrossConfig
from tradewright.strategies.spread_quoter import SpreadQuoter, SpreadQuoterConfig, ladder_quotes
from tradewright.strategies.vwap_pullback import VwapPullback, VwapPullbackConfig

__all__ = [
    "AvellanedaStoikov",
    "AvellanedaStoikovConfig",
    "BracketConfig",
    "BracketStrategy",
    "CrossVenueArb",
    "CrossVenueArbConfig",
    "DayTrader",
    "DayTraderConfig",
    "DutchBook",
    "DutchBookConfig",
    "DutchBookGroup",
    "Grid",
    "GridConfig",
    "GridSlots",
    "MeanReversion",
    "MeanReversionConfig",
    "OpeningRangeRetest",
    "OpeningRangeRetestConfig",
    "Opportunity",
    "QuickMarketMaker",
    "QuickMarketMakerConfig",
    "Regime",
    "RegimeConfig",
    "RegimeDetector",
    "SmaCross",
    "SmaCrossConfig",
    "SpreadQuoter",
    "SpreadQuoterConfig",
    "VenueQuote",
    "VwapPullback",
    "VwapPullbackConfig",
    "as_quotes",
    "atr_position_size",
    "best_opportunity",
    "group_from_event",
    "ladder_quotes",
    "skewed_quotes",
    "stop_distance_ticks",
]
