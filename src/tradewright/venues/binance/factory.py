"""Build a connected Binance USD-M venue (CCXT pointed at the configured URLs) for the live node."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import ccxt.pro

from tradewright.core.clock import Clock
from tradewright.core.errors import ConfigError, VenueError
from tradewright.model.data import TradeTick
from tradewright.model.events import OrderEvent
from tradewright.model.instrument import Instrument
from tradewright.model.orders import Order
from tradewright.venues._common.capabilities import VenueCapabilities
from tradewright.venues.binance.config import BinanceConfig, Credentials
from tradewright.venues.binance.data import BinanceMarketData, BookLevels
from tradewright.venues.binance.execution import BINANCE_USDM_CAPABILITIES, BinanceExecutionClient
from tradewright.venues.binance.parsing import decode, instrument_from_symbol
from tradewright.venues.binance.schemas import SymbolInfo

__all__ = ["CAPABILITIES", "BinanceVenue", "VenueCapabilities", "connect_binance_usdm", "point_urls"]


CAPABILITIES = BINANCE_USDM_CAPABILITIES


def point_urls(urls: dict[str, Any], rest_root: str, ws_root: str) -> None:
    """Rewrite every endpoint URL in CCXT's `urls['api']` tree onto our roots, keeping each path."""
    for key, value in list(urls.items()):
        if isinstance(value, dict):
            point_urls(value, rest_root, ws_root)
        elif isinstance(value, str) and "://" in value:
            parts = urlsplit(value)
            root = ws_root if parts.scheme in ("ws", "wss") else rest_root
            urls[key] = root.rstrip("/") + parts.path


@dataclass
class BinanceVenue:
    """A connected venue: its instrument, the execution client and the market-data client."""

    exchange: Any
    instrument: Instrument
    market_symbol: str
    execution: BinanceExecutionClient
    market_data: BinanceMarketData

    async def close(self) -> None:
        await self.execution.close()
        await self.exchange.close()


def _exchange(config: BinanceConfig, credentials: Credentials, tap: Callable[[dict[str, Any]], None]) -> Any:
    class TappedBinanceUsdm(ccxt.pro.binanceusdm):  # type: ignore[misc]
        """CCXT's USD-M client, handing each ORDER_TRADE_UPDATE to us in arrival order (CCXT's own
        order cache keeps only each order's latest state, which can skip a fill)."""

        def handle_order_update(self, client: Any, message: Any) -> Any:
            if isinstance(message, dict) and message.get("e") == "ORDER_TRADE_UPDATE":
                tap(message)
            try:
                return super().handle_order_update(client, message)
            except Exception:
                # Left to CCXT, the error would reject `watch_orders` and drop the subscription; the
                # message itself reaches `process_updates`, which refuses it with a reason.
                return None

    exchange = TappedBinanceUsdm(
        {
            "apiKey": credentials.api_key,
            "secret": credentials.secret,
            "timeout": config.timeout_ms,
            "enableRateLimit": config.rate_limit,
            "options": {
                "defaultType": "future",
                "fetchMarkets": {"types": ["linear"]},
                "fetchCurrencies": False,
                "fetchMargins": False,
                "adjustForTimeDifference": False,
            },
        }
    )
    point_urls(exchange.urls["api"], config.rest_url, config.ws_url)
    return exchange


async def connect_binance_usdm(
    config: BinanceConfig,
    credentials: Credentials,
    *,
    clock: Clock,
    emit: Callable[[OrderEvent], None],
    on_book: Callable[[BookLevels, BookLevels], None],
    on_trade: Callable[[TradeTick], None] | None = None,
    after_send: Callable[[Order], None] | None = None,
    log: logging.Logger | None = None,
) -> BinanceVenue:
    """Load the market, define the instrument (grid, limits, fees) and build the clients."""
    log = log or logging.getLogger("tradewright.venues.binance")
    holder: list[BinanceExecutionClient] = []
    exchange = _exchange(config, credentials, lambda message: holder[0].on_raw_update(message))
    try:
        markets = await exchange.load_markets()
        market = next(
            (
                m
                for m in markets.values()
                if m.get("id") == config.symbol and m.get("linear") and m.get("swap")
            ),
            None,
        )
        if market is None:
            raise ConfigError(
                f"`venue.symbol`: {config.symbol} is not a USD-M perpetual at {config.rest_url}"
            )
        info = decode(SymbolInfo, market.get("info"), "exchangeInfo symbol")
        maker, taker = config.maker_fee, config.taker_fee
        if maker is None or taker is None:
            rates = await exchange.fapiprivate_get_commissionrate({"symbol": config.symbol})
            maker = Decimal(str(rates["makerCommissionRate"])) if maker is None else maker
            taker = Decimal(str(rates["takerCommissionRate"])) if taker is None else taker
        instrument = instrument_from_symbol(info, maker_fee=maker, taker_fee=taker)
    except ccxt.AuthenticationError as exc:
        await exchange.close()
        raise ConfigError(f"Binance refused the API credentials: {str(exc)[:200]}") from None
    except (ccxt.BaseError, VenueError) as exc:
        await exchange.close()
        raise VenueError(f"cannot load {config.symbol} from {config.rest_url}: {str(exc)[:300]}") from None
    except BaseException:
        await exchange.close()
        raise
    execution = BinanceExecutionClient(
        exchange,
        instrument,
        market["symbol"],
        clock,
        emit,
        log=log,
        after_send=after_send,
        amend=config.amend,
    )
    holder.append(execution)
    data = BinanceMarketData(
        exchange,
        instrument,
        market["symbol"],
        clock,
        depth=config.book_depth,
        on_book=on_book,
        on_trade=on_trade,
        log=log,
    )
    return BinanceVenue(exchange, instrument, market["symbol"], execution, data)
