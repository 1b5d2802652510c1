"""``GET /api/v3/exchangeInfo`` and ``GET /fapi/v1/exchangeInfo`` for the emulated symbol.

The shape is Binance's (cryptofeed recordings ``BINANCE.0.gz`` / ``BINANCE_FUTURES.0.gz``); the values
describe what the emulator accepts: only the order types and time-in-force values it implements.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tradewright.emulator.filters import MAX_NUM_ORDERS, SPOT_BAND, USDM_BAND
from tradewright.emulator.ratelimit import RateLimitConfig
from tradewright.emulator.spec import VenueSpec, fmt_decimal

__all__ = ["exchange_info"]


def _rate_limits(spec: VenueSpec, limits: RateLimitConfig) -> list[dict[str, Any]]:
    long = (
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": limits.orders_long}
        if limits.long_window_s == 86400
        else {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": limits.orders_long}
    )
    out: list[dict[str, Any]] = [
        {
            "rateLimitType": "REQUEST_WEIGHT",
            "interval": "MINUTE",
            "intervalNum": 1,
            "limit": limits.weight_per_minute,
        },
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": limits.orders_per_10s},
        long,
    ]
    if not spec.futures:
        out.append({"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000})
    return out


def exchange_info(spec: VenueSpec, limits: RateLimitConfig, server_ms: int) -> dict[str, Any]:
    if spec.futures:
        return _futures(spec, limits, server_ms)
    return _spot(spec, limits, server_ms)


def _s(value: Decimal, places: int = 8) -> str:
    return fmt_decimal(value, places)


def _spot(spec: VenueSpec, limits: RateLimitConfig, server_ms: int) -> dict[str, Any]:
    inst = spec.instrument
    symbol = {
        "symbol": spec.symbol,
        "status": "TRADING",
        "baseAsset": inst.base,
        "baseAssetPrecision": 8,
        "quoteAsset": inst.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
        "icebergAllowed": False,
        "ocoAllowed": False,
        "otoAllowed": False,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": False,
        "cancelReplaceAllowed": False,
        "amendAllowed": False,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": _s(spec.min_price),
                "maxPrice": _s(spec.max_price),
                "tickSize": _s(inst.tick_size),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": _s(spec.min_qty),
                "maxQty": _s(spec.max_qty),
                "stepSize": _s(spec.step_size),
            },
            {
                "filterType": "PERCENT_PRICE_BY_SIDE",
                "bidMultiplierUp": f"{SPOT_BAND.bid_up:f}",
                "bidMultiplierDown": f"{SPOT_BAND.bid_down:f}",
                "askMultiplierUp": f"{SPOT_BAND.ask_up:f}",
                "askMultiplierDown": f"{SPOT_BAND.ask_down:f}",
                "avgPriceMins": 5,
            },
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": _s(spec.min_qty),
                "maxQty": _s(spec.max_qty),
                "stepSize": _s(spec.step_size),
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": _s(spec.min_notional),
                "applyMinToMarket": True,
                "maxNotional": _s(Decimal(9_000_000)),
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": MAX_NUM_ORDERS},
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_TAKER",
        "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER"],
    }
    return {
        "timezone": "UTC",
        "serverTime": server_ms,
        "rateLimits": _rate_limits(spec, limits),
        "exchangeFilters": [],
        "symbols": [symbol],
    }


def _futures(spec: VenueSpec, limits: RateLimitConfig, server_ms: int) -> dict[str, Any]:
    inst = spec.instrument
    symbol = {
        "symbol": spec.symbol,
        "pair": spec.symbol,
        "contractType": "PERPETUAL",
        "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": inst.base,
        "quoteAsset": inst.quote,
        "marginAsset": inst.settle,
        "pricePrecision": spec.price_precision,
        "quantityPrecision": spec.qty_precision,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": ["PoW"],
        "settlePlan": 0,
        "triggerProtect": "0.0500",
        "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "maxMoveOrderLimit": 10000,
        "filters": [
            {
                "minPrice": f"{spec.min_price.normalize():f}",
                "maxPrice": f"{spec.max_price.normalize():f}",
                "filterType": "PRICE_FILTER",
                "tickSize": _s(inst.tick_size, spec.price_precision),
            },
            {
                "stepSize": f"{spec.step_size.normalize():f}",
                "filterType": "LOT_SIZE",
                "maxQty": f"{spec.max_qty.normalize():f}",
                "minQty": f"{spec.min_qty.normalize():f}",
            },
            {
                "stepSize": f"{spec.step_size.normalize():f}",
                "filterType": "MARKET_LOT_SIZE",
                "maxQty": "120",
                "minQty": f"{spec.min_qty.normalize():f}",
            },
            {"limit": MAX_NUM_ORDERS, "filterType": "MAX_NUM_ORDERS"},
            {"limit": 10, "filterType": "MAX_NUM_ALGO_ORDERS"},
            {"notional": f"{spec.min_notional.normalize():f}", "filterType": "MIN_NOTIONAL"},
            {
                "multiplierDown": f"{USDM_BAND.bid_down:.4f}",
                "multiplierUp": f"{USDM_BAND.bid_up:.4f}",
                "multiplierDecimal": "4",
                "filterType": "PERCENT_PRICE",
            },
        ],
        "orderTypes": ["LIMIT", "MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
    }
    return {
        "timezone": "UTC",
        "serverTime": server_ms,
        "futuresType": "U_MARGINED",
        "rateLimits": _rate_limits(spec, limits),
        "exchangeFilters": [],
        "assets": [{"asset": inst.settle, "marginAvailable": True, "autoAssetExchange": "-10000"}],
        "symbols": [symbol],
    }
