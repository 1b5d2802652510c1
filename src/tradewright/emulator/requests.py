"""Parse and check request parameters as Binance does (mandatory params, formats, symbol filters)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradewright.emulator.errors import CLIENT_ID_PATTERN, VenueErrors
from tradewright.emulator.grammar import parse_decimal, parse_int
from tradewright.emulator.spec import VenueSpec

__all__ = ["OrderRequest", "int_param", "limit_param", "parse_modify", "parse_new_order", "symbol_param"]

_CLIENT_ID = re.compile(CLIENT_ID_PATTERN.removesuffix("$") + r"\Z")  # no trailing newline
_TIFS_SPOT = ("GTC", "IOC", "FOK")
_TIFS_FUTURES = ("GTC", "IOC", "FOK", "GTX")


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A checked new-order request."""

    symbol: str
    side: str
    type: str
    tif: str
    quantity: Decimal | None
    price: Decimal | None
    client_order_id: str
    resp_type: str
    reduce_only: bool
    quote_order_qty: Decimal | None


def _text(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    text = (
        value
        if isinstance(value, str)
        else ("true" if value is True else "false" if value is False else str(value))
    )
    return text if text != "" else None


def symbol_param(
    params: Mapping[str, Any], spec: VenueSpec, errors: VenueErrors, *, required: bool
) -> str | None:
    symbol = _text(params, "symbol")
    if symbol is None:
        if required:
            raise errors.mandatory("symbol")
        return None
    if symbol.upper() != spec.symbol:
        raise errors.bad_symbol()
    return spec.symbol


def int_param(params: Mapping[str, Any], name: str, errors: VenueErrors) -> int | None:
    text = _text(params, name)
    if text is None:
        return None
    return parse_int(text, name, errors)


def limit_param(params: Mapping[str, Any], errors: VenueErrors, default: int, maximum: int) -> int:
    value = int_param(params, "limit", errors)
    if value is None:
        return default
    if value <= 0:
        raise errors.invalid_value("limit")
    return min(value, maximum)


def _decimal(params: Mapping[str, Any], name: str, errors: VenueErrors) -> Decimal | None:
    text = _text(params, name)
    if text is None:
        return None
    return parse_decimal(text, name, errors)


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def new_client_order_id() -> str:
    """A random 22-character id, as Binance generates when none is sent."""
    return secrets.token_urlsafe(17)[:22]


def parse_new_order(params: Mapping[str, Any], spec: VenueSpec, errors: VenueErrors) -> OrderRequest:
    """Check a new order's parameters and the symbol's filters, in Binance's order of checks."""
    symbol = symbol_param(params, spec, errors, required=True)
    assert symbol is not None
    side = _text(params, "side")
    if side is None:
        raise errors.mandatory("side")
    if side not in ("BUY", "SELL"):
        raise errors.bad_side()
    kind = _text(params, "type")
    if kind is None:
        raise errors.mandatory("type")
    allowed = ("LIMIT", "MARKET") if spec.futures else ("LIMIT", "MARKET", "LIMIT_MAKER")
    if kind not in allowed:
        raise errors.bad_order_type()
    tif = _text(params, "timeInForce")
    if kind == "LIMIT":
        if tif is None:
            raise errors.mandatory("timeInForce")
        if tif not in (_TIFS_FUTURES if spec.futures else _TIFS_SPOT):
            raise errors.bad_tif()
    elif tif is not None and not spec.futures:
        raise errors.not_required("timeInForce")
    else:
        tif = "GTC"
    quantity = _decimal(params, "quantity", errors)
    quote_qty = None if spec.futures else _decimal(params, "quoteOrderQty", errors)
    price = _decimal(params, "price", errors)
    if kind == "MARKET":
        if price is not None:
            raise errors.not_required("price")
        if quantity is None and quote_qty is None:
            raise (
                errors.one_of("quantity", "quoteOrderQty")
                if not spec.futures
                else errors.mandatory("quantity")
            )
        if quantity is not None and quote_qty is not None:
            raise errors.not_required("quoteOrderQty")
    else:
        if quantity is None:
            raise errors.mandatory("quantity")
        if price is None:
            raise errors.mandatory("price")
        if quote_qty is not None:
            raise errors.not_required("quoteOrderQty")
    reduce_only = False
    if spec.futures:
        flag = _text(params, "reduceOnly")
        if flag not in (None, "true", "false"):
            raise errors.invalid_value("reduceOnly")
        reduce_only = flag == "true"
    stp = _text(params, "selfTradePreventionMode")
    if stp is not None and stp not in ("NONE", "EXPIRE_TAKER"):
        raise errors.invalid_value("selfTradePreventionMode")
    if price is not None:
        _check_price(price, spec, errors)
    if quantity is not None:
        _check_qty(quantity, spec, errors, market=kind == "MARKET")
    if (
        price is not None
        and quantity is not None
        and not reduce_only
        and price * quantity < spec.min_notional
    ):
        raise errors.notional(f"{spec.min_notional.normalize():f}")
    client_id = _text(params, "newClientOrderId")
    if client_id is not None and not _CLIENT_ID.match(client_id):
        raise errors.bad_client_order_id("newClientOrderId")
    resp = _text(params, "newOrderRespType")
    if spec.futures:
        resp = resp or "ACK"
        if resp not in ("ACK", "RESULT"):
            raise errors.bad_resp_type()
    else:
        resp = resp or ("FULL" if kind in ("LIMIT", "MARKET") else "ACK")
        if resp not in ("ACK", "RESULT", "FULL"):
            raise errors.bad_resp_type()
    return OrderRequest(
        symbol=symbol,
        side=side,
        type=kind,
        tif=tif,
        quantity=quantity,
        price=price,
        client_order_id=client_id or new_client_order_id(),
        resp_type=resp,
        reduce_only=reduce_only,
        quote_order_qty=quote_qty,
    )


def parse_modify(
    params: Mapping[str, Any], spec: VenueSpec, errors: VenueErrors
) -> tuple[str, Decimal, Decimal]:
    """USD-M PUT /fapi/v1/order: (side, price, quantity), checked as a new order's are. Both price and
    quantity are mandatory (unlike COIN-M); `priceMatch` is not emulated and refused as not required."""
    symbol_param(params, spec, errors, required=True)
    side = _text(params, "side")
    if side is None:
        raise errors.mandatory("side")
    if side not in ("BUY", "SELL"):
        raise errors.bad_side()
    if _text(params, "priceMatch") not in (None, "NONE"):
        raise errors.not_required("priceMatch")
    quantity = _decimal(params, "quantity", errors)
    if quantity is None:
        raise errors.mandatory("quantity")
    price = _decimal(params, "price", errors)
    if price is None:
        raise errors.mandatory("price")
    _check_price(price, spec, errors)
    _check_qty(quantity, spec, errors, market=False)
    return side, price, quantity


def _check_price(price: Decimal, spec: VenueSpec, errors: VenueErrors) -> None:
    if _places(price) > spec.price_precision:
        raise errors.precision("price")
    if price < spec.min_price:
        raise errors.price_below_min()
    if price > spec.max_price:
        raise errors.price_above_max()
    if price % spec.instrument.tick_size != 0:
        raise errors.price_off_tick()


def _check_qty(qty: Decimal, spec: VenueSpec, errors: VenueErrors, *, market: bool) -> None:
    if _places(qty) > spec.qty_precision:
        raise errors.precision("quantity")
    if qty < spec.min_qty:
        raise errors.qty_below_min(market)
    if qty > spec.max_qty:
        raise errors.qty_above_max(market)
    if qty % spec.step_size != 0:
        raise errors.qty_off_step(market)
