"""Binance's JSON shapes for orders, fills, accounts and user-stream events (spot and USD-M).

Field names, order and formats follow Binance's documented responses and the real payloads in
../shared/data/venues/binance (nautilus fixtures: ``new_order_full_response``, ``execution_report_*``,
``order_update_*``, ``account_update``, ``account_info_v2``, ``position_risk``, ...).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tradewright.emulator.ledger import Account, FuturesPosition
from tradewright.emulator.records import EmFill, EmOrder
from tradewright.emulator.spec import VenueSpec, fmt_decimal

__all__ = [
    "futures_account",
    "futures_account_update",
    "futures_balance",
    "futures_order",
    "futures_order_update",
    "futures_position_risk",
    "futures_trade_lite",
    "futures_user_trade",
    "spot_account",
    "spot_account_position",
    "spot_cancel",
    "spot_execution_report",
    "spot_my_trade",
    "spot_new_order",
    "spot_query",
]

STP = "EXPIRE_TAKER"  # what the simulated venue does: an order that would trade with our own is refused
ZERO = Decimal(0)
J = dict[str, Any]


def _avg(spec: VenueSpec, value: Decimal) -> str:
    return fmt_decimal(value, 5 if spec.futures else spec.price_precision)


# --- spot --------------------------------------------------------------------------------------------
def spot_new_order(o: EmOrder, spec: VenueSpec, resp_type: str, fills: list[EmFill], transact_ms: int) -> J:
    """POST /api/v3/order answer for newOrderRespType ACK, RESULT or FULL."""
    out: J = {
        "symbol": o.symbol,
        "orderId": o.order_id,
        "orderListId": -1,
        "clientOrderId": o.client_order_id,
        "transactTime": transact_ms,
    }
    if resp_type == "ACK":
        return out
    out |= {
        "price": spec.price(o.price),
        "origQty": spec.qty(o.orig_qty),
        "executedQty": spec.qty(o.executed_qty),
        "origQuoteOrderQty": spec.amount(ZERO),
        "cummulativeQuoteQty": spec.amount(o.cum_quote),
        "status": o.status,
        "timeInForce": o.tif,
        "type": o.type,
        "side": o.side,
        "workingTime": o.time_ms,
        "selfTradePreventionMode": STP,
    }
    if resp_type == "FULL":
        out["fills"] = [
            {
                "price": spec.price(f.price),
                "qty": spec.qty(f.qty),
                "commission": spec.amount(f.commission),
                "commissionAsset": f.commission_asset,
                "tradeId": f.trade_id,
            }
            for f in fills
        ]
    return out


def spot_query(o: EmOrder, spec: VenueSpec) -> J:
    """GET /api/v3/order, openOrders and allOrders rows."""
    return {
        "symbol": o.symbol,
        "orderId": o.order_id,
        "orderListId": -1,
        "clientOrderId": o.client_order_id,
        "price": spec.price(o.price),
        "origQty": spec.qty(o.orig_qty),
        "executedQty": spec.qty(o.executed_qty),
        "cummulativeQuoteQty": spec.amount(o.cum_quote),
        "status": o.status,
        "timeInForce": o.tif,
        "type": o.type,
        "side": o.side,
        "stopPrice": spec.price(ZERO),
        "icebergQty": spec.qty(ZERO),
        "time": o.time_ms,
        "updateTime": o.update_ms,
        "isWorking": True,
        "workingTime": o.time_ms,
        "origQuoteOrderQty": spec.amount(ZERO),
        "selfTradePreventionMode": STP,
    }


def spot_cancel(o: EmOrder, spec: VenueSpec, transact_ms: int) -> J:
    """DELETE /api/v3/order answer."""
    return {
        "symbol": o.symbol,
        "origClientOrderId": o.client_order_id,
        "orderId": o.order_id,
        "orderListId": -1,
        "clientOrderId": o.cancel_client_id,
        "transactTime": transact_ms,
        "price": spec.price(o.price),
        "origQty": spec.qty(o.orig_qty),
        "executedQty": spec.qty(o.executed_qty),
        "origQuoteOrderQty": spec.amount(ZERO),
        "cummulativeQuoteQty": spec.amount(o.cum_quote),
        "status": o.status,
        "timeInForce": o.tif,
        "type": o.type,
        "side": o.side,
        "selfTradePreventionMode": STP,
    }


def spot_execution_report(
    o: EmOrder, spec: VenueSpec, exec_type: str, fill: EmFill | None, event_ms: int, seq: int
) -> J:
    """The executionReport user-stream event."""
    canceled = exec_type == "CANCELED"
    out: J = {
        "e": "executionReport",
        "E": event_ms,
        "s": o.symbol,
        "c": o.cancel_client_id if canceled else o.client_order_id,
        "S": o.side,
        "o": o.type,
        "f": o.tif,
        "q": spec.qty(o.orig_qty),
        "p": spec.price(o.price),
        "P": spec.price(ZERO),
        "F": spec.qty(ZERO),
        "g": -1,
        "C": o.client_order_id if canceled else "",
        "x": exec_type,
        "X": o.status,
        "r": "NONE",
        "i": o.order_id,
        "l": spec.qty(fill.qty if fill else ZERO),
        "z": spec.qty(o.executed_qty),
        "L": spec.price(fill.price if fill else ZERO),
        "n": spec.amount(fill.commission) if fill else "0",
        "N": fill.commission_asset if fill else None,
        "T": fill.time_ms if fill else event_ms,
        "t": fill.trade_id if fill else -1,
        "I": seq,
        "w": o.is_open and o.type != "MARKET",
        "m": fill.is_maker if fill else False,
        "M": False,
        "O": o.time_ms,
        "Z": spec.amount(o.cum_quote),
        "Y": spec.amount(fill.quote_qty if fill else ZERO),
        "Q": spec.amount(ZERO),
        "W": o.time_ms,
        "V": STP,
    }
    if exec_type == "EXPIRED" and o.expiry_reason:
        out["eR"] = o.expiry_reason
    return out


def spot_account_position(acc: Account, assets: list[str], event_ms: int, spec: VenueSpec) -> J:
    """The outboundAccountPosition user-stream event for the assets that changed."""
    return {
        "e": "outboundAccountPosition",
        "E": event_ms,
        "u": event_ms,
        "B": [
            {"a": a, "f": spec.amount(acc.balance(a).free), "l": spec.amount(acc.balance(a).locked)}
            for a in assets
        ],
    }


def spot_my_trade(f: EmFill, spec: VenueSpec) -> J:
    return {
        "symbol": f.symbol,
        "id": f.trade_id,
        "orderId": f.order_id,
        "orderListId": -1,
        "price": spec.price(f.price),
        "qty": spec.qty(f.qty),
        "quoteQty": spec.amount(f.quote_qty),
        "commission": spec.amount(f.commission),
        "commissionAsset": f.commission_asset,
        "time": f.time_ms,
        "isBuyer": f.side == "BUY",
        "isMaker": f.is_maker,
        "isBestMatch": True,
    }


def spot_account(acc: Account, spec: VenueSpec, maker: Decimal, taker: Decimal, uid: int) -> J:
    """GET /api/v3/account."""
    return {
        "makerCommission": int(maker * 10000),
        "takerCommission": int(taker * 10000),
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": spec.amount(maker),
            "taker": spec.amount(taker),
            "buyer": spec.amount(ZERO),
            "seller": spec.amount(ZERO),
        },
        "canTrade": True,
        "canWithdraw": False,
        "canDeposit": False,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": acc.update_ms,
        "accountType": "SPOT",
        "balances": [
            {"asset": a, "free": spec.amount(b.free), "locked": spec.amount(b.locked)}
            for a, b in sorted(acc.balances.items())
        ],
        "permissions": ["SPOT"],
        "uid": uid,
    }


# --- USD-M futures -----------------------------------------------------------------------------------
def futures_order(o: EmOrder, spec: VenueSpec) -> J:
    """POST/GET/DELETE /fapi/v1/order answer (and openOrders/allOrders rows)."""
    return {
        "orderId": o.order_id,
        "symbol": o.symbol,
        "status": o.status,
        "clientOrderId": o.client_order_id,
        "price": spec.price(o.price),
        "avgPrice": _avg(spec, o.avg_price()),
        "origQty": spec.qty(o.orig_qty),
        "executedQty": spec.qty(o.executed_qty),
        "cumQty": spec.qty(o.executed_qty),
        "cumQuote": fmt_decimal(o.cum_quote, 5),
        "timeInForce": o.tif,
        "type": o.type,
        "reduceOnly": o.reduce_only,
        "closePosition": False,
        "side": o.side,
        "positionSide": "BOTH",
        "stopPrice": "0",
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "origType": o.type,
        "priceMatch": "NONE",
        "selfTradePreventionMode": STP,
        "goodTillDate": 0,
        "time": o.time_ms,
        "updateTime": o.update_ms,
    }


def futures_order_update(
    o: EmOrder,
    spec: VenueSpec,
    exec_type: str,
    fill: EmFill | None,
    event_ms: int,
    notionals: tuple[Decimal, Decimal],
) -> J:
    """The ORDER_TRADE_UPDATE user-stream event."""
    inner: J = {
        "s": o.symbol,
        "c": o.client_order_id,
        "S": o.side,
        "o": o.type,
        "f": o.tif,
        "q": spec.qty(o.orig_qty),
        "p": spec.price(o.price),
        "ap": _avg(spec, o.avg_price()),
        "sp": "0",
        "x": exec_type,
        "X": o.status,
        "i": o.order_id,
        "l": spec.qty(fill.qty if fill else ZERO),
        "z": spec.qty(o.executed_qty),
        "L": spec.price(fill.price if fill else ZERO),
    }
    if fill is not None:  # "will not push if no commission"
        inner |= {"N": fill.commission_asset, "n": spec.amount(fill.commission)}
    inner |= {
        "T": fill.time_ms if fill else event_ms,
        "t": fill.trade_id if fill else 0,
        "b": spec.amount(notionals[0]),
        "a": spec.amount(notionals[1]),
        "m": fill.is_maker if fill else False,
        "R": o.reduce_only,
        "wt": "CONTRACT_PRICE",
        "ot": o.type,
        "ps": "BOTH",
        "cp": False,
        "rp": spec.amount(fill.realized_pnl if fill else ZERO),
        "pP": False,
        "si": 0,
        "ss": 0,
        "V": STP,
        "pm": "NONE",
        "gtd": 0,
    }
    return {"e": "ORDER_TRADE_UPDATE", "E": event_ms, "T": event_ms, "o": inner}


def futures_trade_lite(o: EmOrder, spec: VenueSpec, fill: EmFill, event_ms: int) -> J:
    return {
        "e": "TRADE_LITE",
        "E": event_ms,
        "T": fill.time_ms,
        "s": o.symbol,
        "q": spec.qty(o.orig_qty),
        "p": spec.price(o.price),
        "m": fill.is_maker,
        "c": o.client_order_id,
        "S": o.side,
        "L": spec.price(fill.price),
        "l": spec.qty(fill.qty),
        "t": fill.trade_id,
        "i": o.order_id,
    }


def _position_json(symbol: str, pos: FuturesPosition, spec: VenueSpec, mark: Decimal) -> J:
    return {
        "s": symbol,
        "pa": spec.qty(pos.amount),
        "ep": fmt_decimal(pos.entry_price, 8),
        "bep": fmt_decimal(pos.break_even(), 8),
        "cr": spec.amount(pos.realized),
        "up": spec.amount((mark - pos.entry_price) * pos.amount if pos.amount else ZERO),
        "mt": "cross",
        "iw": spec.amount(ZERO),
        "ps": "BOTH",
    }


def futures_account_update(
    acc: Account, spec: VenueSpec, reason: str, event_ms: int, mark: Decimal, symbols: list[str]
) -> J:
    """The ACCOUNT_UPDATE user-stream event (wallet balance and the positions that changed)."""
    asset = spec.instrument.settle
    wallet = acc.wallet_balance(asset)
    return {
        "e": "ACCOUNT_UPDATE",
        "E": event_ms,
        "T": event_ms,
        "a": {
            "m": reason,
            "B": [{"a": asset, "wb": spec.amount(wallet), "cw": spec.amount(wallet), "bc": "0"}],
            "P": [_position_json(s, acc.position(s), spec, mark) for s in symbols],
        },
    }


def futures_user_trade(f: EmFill, spec: VenueSpec) -> J:
    return {
        "symbol": f.symbol,
        "id": f.trade_id,
        "orderId": f.order_id,
        "side": f.side,
        "price": spec.price(f.price),
        "qty": spec.qty(f.qty),
        "realizedPnl": spec.amount(f.realized_pnl),
        "marginAsset": spec.instrument.settle,
        "quoteQty": fmt_decimal(f.quote_qty, 5),
        "commission": spec.amount(f.commission),
        "commissionAsset": f.commission_asset,
        "time": f.time_ms,
        "positionSide": "BOTH",
        "buyer": f.side == "BUY",
        "maker": f.is_maker,
    }


def futures_position_risk(
    acc: Account, spec: VenueSpec, mark: Decimal, open_margin: Decimal, version: int, now_ms: int
) -> J:
    """One row of GET /fapi/v2|v3/positionRisk for the emulated symbol."""
    pos = acc.position(spec.symbol)
    notional = pos.amount * mark
    initial = abs(notional) / acc.leverage
    row: J = {
        "symbol": spec.symbol,
        "positionSide": "BOTH",
        "positionAmt": spec.qty(pos.amount),
        "entryPrice": fmt_decimal(pos.entry_price, 8),
        "breakEvenPrice": fmt_decimal(pos.break_even(), 8),
        "markPrice": fmt_decimal(mark, 8),
        "unRealizedProfit": spec.amount((mark - pos.entry_price) * pos.amount),
        "liquidationPrice": "0",
        "isolatedMargin": spec.amount(ZERO),
        "notional": spec.amount(notional),
        "marginAsset": spec.instrument.settle,
        "isolatedWallet": "0",
        "updateTime": pos.update_ms or now_ms,
    }
    if version >= 3:
        row |= {
            "initialMargin": spec.amount(initial + open_margin),
            "maintMargin": spec.amount(abs(notional) * Decimal("0.004")),
            "positionInitialMargin": spec.amount(initial),
            "openOrderInitialMargin": spec.amount(open_margin),
            "adl": 0,
            "bidNotional": "0",
            "askNotional": "0",
        }
    else:
        row |= {
            "leverage": str(acc.leverage),
            "maxNotionalValue": "50000",
            "marginType": "cross",
            "isAutoAddMargin": "false",
        }
    return row


def futures_balance(acc: Account, spec: VenueSpec, unrealized: Decimal, available: Decimal, now_ms: int) -> J:
    asset = spec.instrument.settle
    wallet = acc.wallet_balance(asset)
    return {
        "accountAlias": "SgsR",
        "asset": asset,
        "balance": spec.amount(wallet),
        "crossWalletBalance": spec.amount(wallet),
        "crossUnPnl": spec.amount(unrealized),
        "availableBalance": spec.amount(available),
        "maxWithdrawAmount": spec.amount(available),
        "marginAvailable": True,
        "updateTime": acc.update_ms or now_ms,
    }


def futures_account(
    acc: Account,
    spec: VenueSpec,
    mark: Decimal,
    open_margin: Decimal,
    available: Decimal,
    version: int,
    now_ms: int,
) -> J:
    """GET /fapi/v2|v3/account."""
    asset = spec.instrument.settle
    wallet = acc.wallet_balance(asset)
    pos = acc.position(spec.symbol)
    unrealized = (mark - pos.entry_price) * pos.amount
    position_margin = abs(pos.amount * mark) / acc.leverage
    maint = abs(pos.amount * mark) * Decimal("0.004")
    a = spec.amount
    totals: J = {
        "totalInitialMargin": a(position_margin + open_margin),
        "totalMaintMargin": a(maint),
        "totalWalletBalance": a(wallet),
        "totalUnrealizedProfit": a(unrealized),
        "totalMarginBalance": a(wallet + unrealized),
        "totalPositionInitialMargin": a(position_margin),
        "totalOpenOrderInitialMargin": a(open_margin),
        "totalCrossWalletBalance": a(wallet),
        "totalCrossUnPnl": a(unrealized),
        "availableBalance": a(available),
        "maxWithdrawAmount": a(available),
    }
    asset_row: J = {
        "asset": asset,
        "walletBalance": a(wallet),
        "unrealizedProfit": a(unrealized),
        "marginBalance": a(wallet + unrealized),
        "maintMargin": a(maint),
        "initialMargin": a(position_margin + open_margin),
        "positionInitialMargin": a(position_margin),
        "openOrderInitialMargin": a(open_margin),
        "crossWalletBalance": a(wallet),
        "crossUnPnl": a(unrealized),
        "availableBalance": a(available),
        "maxWithdrawAmount": a(available),
        "updateTime": acc.update_ms or now_ms,
    }
    position_row: J = {
        "symbol": spec.symbol,
        "positionSide": "BOTH",
        "positionAmt": spec.qty(pos.amount),
        "unrealizedProfit": a(unrealized),
        "isolatedMargin": a(ZERO),
        "notional": a(pos.amount * mark),
        "isolatedWallet": "0",
        "initialMargin": a(position_margin),
        "maintMargin": a(maint),
        "updateTime": pos.update_ms,
    }
    if version >= 3:
        return totals | {"assets": [asset_row], "positions": [position_row] if pos.amount else []}
    asset_row |= {"marginAvailable": True}
    position_row |= {
        "positionInitialMargin": a(position_margin),
        "openOrderInitialMargin": a(open_margin),
        "leverage": str(acc.leverage),
        "isolated": False,
        "entryPrice": fmt_decimal(pos.entry_price, 8),
        "breakEvenPrice": fmt_decimal(pos.break_even(), 8),
        "maxNotional": "50000",
        "bidNotional": "0",
        "askNotional": "0",
    }
    head: J = {
        "feeTier": 0,
        "canTrade": True,
        "canDeposit": False,
        "canWithdraw": False,
        "updateTime": 0,
        "multiAssetsMargin": False,
        "tradeGroupId": -1,
    }
    return head | totals | {"assets": [asset_row], "positions": [position_row]}
