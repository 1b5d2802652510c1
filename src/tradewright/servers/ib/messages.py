"""Messages the fake gateway sends, field by field at server version 178 (written from documentation).

The field orders are those of the TWS API's incoming messages as listed in
``../shared/reference/brokers.md`` §2-§4 (IB's `EDecoder` order): openOrder and completedOrder carry
IB's full order description, most of it empty for the plain orders this server handles.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from tradewright.servers.bars import BarRow
from tradewright.servers.ib.orders import Execution, FakeOrder
from tradewright.servers.ib.securities import Security

__all__ = [
    "bar_fields",
    "commission_report",
    "completed_order",
    "contract_details",
    "error",
    "exec_details",
    "open_order",
    "order_status",
    "position",
]

_UNSET = ""  # an unset number travels as an empty field


def _px(value: Decimal | None) -> object:
    return _UNSET if value is None else value


def error(req_id: int, code: int, text: str) -> list[object]:
    return [4, 2, req_id, code, text, ""]


def contract_details(req_id: int, sec: Security, today: date) -> list[object]:
    trading, liquid = sec.hours(today)
    last_times = f"{sec.last_trade} 08:30 {sec.time_zone}" if sec.last_trade else ""
    return [
        10, req_id, sec.symbol, sec.sec_type, last_times, 0, "", sec.exchange, sec.currency, sec.local_symbol,
        sec.trading_class if sec.sec_type == "FUT" else sec.symbol, sec.trading_class, sec.con_id, sec.min_tick,
        sec.multiplier, "LMT,MKT,STP,STP LMT,OCA,BRACKET", sec.exchange, 1, 0, sec.long_name, sec.primary_exchange,
        sec.contract_month, "", "", "", sec.time_zone, trading, liquid, "", "", 0,
        0, sec.symbol if sec.sec_type == "FUT" else "", "IND" if sec.sec_type == "FUT" else "", "",
        sec.last_trade, "COMMON" if sec.sec_type == "STK" else "", 1, 1, 1,
    ]


def _order_core(order: FakeOrder) -> list[object]:
    """action .. orderRef: the fields openOrder and completedOrder share after the contract."""
    return [
        order.action, order.total, order.order_type, _px(order.lmt), _px(order.aux), order.tif or "DAY",
        order.oca_group, order.account, "O", 0, order.order_ref,
    ]


def _order_state_tail(order: FakeOrder) -> list[object]:
    """From faGroup to the end of openOrder at version 178 (plain orders: mostly empty)."""
    return [
        "", "", "",  # faGroup, faMethod, faPercentage (no faProfile from version 177)
        "", "", "", "", "", 0, "", -1,  # modelCode, goodTillDate, rule80A, percentOffset, settlingFirm, shortSaleSlot, designatedLocation, exemptCode
        0, "", "", "", "", "",  # auctionStrategy, startingPrice, stockRefPrice, delta, stockRangeLower, stockRangeUpper
        "", 0, 0, 0, "", order.oca_type or 0,  # displaySize, blockOrder, sweepToFill, allOrNone, minQty, ocaType
        0, 0, "", order.parent_id, 0,  # eTradeOnly, firmQuoteOnly, nbboPriceCap, parentId, triggerMethod
        "", 0, "", "",  # volatility, volatilityType, deltaNeutralOrderType, deltaNeutralAuxPrice
        0, 0, "", "", "", "", "",  # continuousUpdate, referencePriceType, trailStopPrice, trailingPercent, basisPoints, basisPointsType, comboLegsDescrip
        0, 0, 0,  # comboLegs, orderComboLegs, smartComboRoutingParams
        "", "", "",  # scaleInitLevelSize, scaleSubsLevelSize, scalePriceIncrement
        "",  # hedgeType
        0, "", "", 0, 0,  # optOutSmartRouting, clearingAccount, clearingIntent, notHeld, deltaNeutralContract present
        "",  # algoStrategy
        0, 0, order.status,  # solicited, whatIf, status
        "", "", "", "", "", "", "", "", "",  # margin before / change / after
        "", "", "", "", "",  # commission, minCommission, maxCommission, commissionCurrency, warningText
        0, 0,  # randomizeSize, randomizePrice
        0,  # conditions
        "", "", "", "", "", "", "", 0,  # adjustedOrderType, triggerPrice, trailStopPrice, lmtPriceOffset, adjusted stop/stop-limit/trailing, adjustableTrailingUnit
        "", "", "",  # softDollarTier name, value, display name
        "", 0, 0, "", 0,  # cashQty, dontUseAutoPriceForHedge, isOmsContainer, discretionaryUpToLimitPrice, usePriceMgmtAlgo
        "", "", 0,  # duration, postToAts, autoCancelParent
        "", "", "", "", "",  # minTradeQty, minCompeteSize, competeAgainstBestOffset, midOffsetAtWhole, midOffsetAtHalf
    ]


def open_order(order: FakeOrder) -> list[object]:
    return [
        5, order.order_id, *order.sec.contract_fields(), *_order_core(order), order.client_id, order.perm_id,
        int(order.outside_rth), 0, 0, "", "", *_order_state_tail(order),
    ]


def completed_order(order: FakeOrder) -> list[object]:
    """One order that has ended, for reqCompletedOrders."""
    return [
        101, *order.sec.contract_fields(), *_order_core(order), order.perm_id, int(order.outside_rth), 0, 0, "",
        "", "", "",  # faGroup, faMethod, faPercentage
        "", "", "", "", "", -1, "",  # modelCode, goodTillDate, rule80A, percentOffset, settlingFirm, shortSaleSlot, designatedLocation
        -1, "", "", "", "", "", "", 0, 0, "", order.oca_type or 0, 0, "", 0, "", "",  # exemptCode .. deltaNeutralAuxPrice
        0, 0, "", "", "",  # continuousUpdate, referencePriceType, trailStopPrice, trailingPercent, comboLegsDescrip
        0, 0, 0,  # comboLegs, orderComboLegs, smartComboRoutingParams
        "", "", "", "",  # scaleInitLevelSize, scaleSubsLevelSize, scalePriceIncrement, hedgeType
        "", "", 0, 0,  # clearingAccount, clearingIntent, notHeld, deltaNeutralContract present
        "",  # algoStrategy
        0, order.status, 0, 0,  # solicited, status, randomizeSize, randomizePrice
        0,  # conditions
        "", "", "", 0, 0, "", order.filled, 0, 0, "", 0, 0, 0,  # trailStopPrice .. parentPermId
        order.completed_time, order.status,  # completedTime, completedStatus
        "", "", "", "", "",  # minTradeQty .. midOffsetAtHalf
    ]


def order_status(order: FakeOrder) -> list[object]:
    return [
        3, order.order_id, order.status, order.filled, order.remaining, order.avg_price, order.perm_id,
        order.parent_id, order.last_fill_price, order.client_id, "", "",
    ]


def _ib_time(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns / 1e9, UTC).strftime("%Y%m%d %H:%M:%S") + " UTC"


def exec_details(req_id: int, execution: Execution) -> list[object]:
    order = execution.order
    return [
        11, req_id, order.order_id, *order.sec.contract_fields(), execution.exec_id, _ib_time(execution.ts_ns),
        order.account, order.sec.exchange, "BOT" if order.action == "BUY" else "SLD", execution.shares,
        execution.price, order.perm_id, order.client_id, 0, execution.cum_qty, execution.avg_price,
        order.order_ref, "", "", "", 2 if order.order_type in ("MKT", "STP") else 1, 0,
    ]


def commission_report(execution: Execution) -> list[object]:
    return [59, 1, execution.exec_id, execution.commission, "USD", "", "", ""]


def position(account: str, sec: Security, quantity: Decimal, avg_cost: Decimal) -> list[object]:
    return [61, 3, account, *sec.contract_fields(), quantity, avg_cost]


def bar_fields(row: BarRow, tick: Decimal) -> list[object]:
    """date, open, high, low, close, volume, WAP, barCount of one historical bar (epoch date)."""
    return [
        row.ts_open_ns // 1_000_000_000, row.open * tick, row.high * tick, row.low * tick, row.close * tick,
        row.volume, row.close * tick, 1,
    ]
