"""Binance's error envelope ``{"code": -1121, "msg": "Invalid symbol."}`` and the codes the emulator returns.

Codes and messages are Binance's own (spot "Error codes" and USD-M "Error Code" pages, as ccxt's error
maps quote them). Where spot and USD-M differ for the same situation, both are here and `VenueErrors`
picks the one of the emulated API.
"""

from __future__ import annotations

from dataclasses import dataclass

from tradewright.core.errors import VenueError

__all__ = ["CLIENT_ID_PATTERN", "BinanceError", "VenueErrors"]

CLIENT_ID_PATTERN = r"^[\.A-Z\:/a-z0-9_-]{1,36}$"


class BinanceError(VenueError):
    """A request the emulated venue refuses: the HTTP status and Binance's code and message."""

    def __init__(self, code: int, msg: str, status: int = 400, *, retry_after_s: int | None = None) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.status = status
        self.retry_after_s = retry_after_s

    def body(self) -> dict[str, object]:
        return {"code": self.code, "msg": self.msg}


@dataclass(frozen=True, slots=True)
class VenueErrors:
    """Error constructors for one API (spot or USD-M futures)."""

    futures: bool

    # --- authentication and request framing -------------------------------------------------
    def api_key_format(self) -> BinanceError:
        return BinanceError(-2014, "API-key format invalid.", 401)

    def api_key_rejected(self) -> BinanceError:
        return BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", 401)

    def bad_signature(self) -> BinanceError:
        return BinanceError(-1022, "Signature for this request is not valid.")

    def timestamp_outside_window(self) -> BinanceError:
        return BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")

    def timestamp_ahead(self) -> BinanceError:
        return BinanceError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")

    def recv_window_too_large(self) -> BinanceError:
        return BinanceError(-1131, "recvWindow must be less than 60000.")

    def mandatory(self, name: str) -> BinanceError:
        return BinanceError(
            -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
        )

    def one_of(self, first: str, second: str) -> BinanceError:
        return BinanceError(-1102, f"Param '{first}' or '{second}' must be sent, but both were empty/null!")

    def not_required(self, name: str) -> BinanceError:
        return BinanceError(-1106, f"Parameter '{name}' sent when not required.")

    def illegal_chars(self, name: str, legal: str) -> BinanceError:
        return BinanceError(
            -1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'."
        )

    def invalid_value(self, name: str) -> BinanceError:
        return BinanceError(-1130, f"Data sent for parameter '{name}' is not valid.")

    def bad_symbol(self) -> BinanceError:
        return BinanceError(-1121, "Invalid symbol.")

    def bad_side(self) -> BinanceError:
        return BinanceError(-1117, "Invalid side.")

    def bad_order_type(self) -> BinanceError:
        return BinanceError(-1116, "Invalid orderType.")

    def bad_tif(self) -> BinanceError:
        return BinanceError(-1115, "Invalid timeInForce.")

    def bad_interval(self) -> BinanceError:
        return BinanceError(-1120, "Invalid interval.")

    def bad_resp_type(self) -> BinanceError:
        return BinanceError(-1136 if self.futures else -1130, "Invalid newOrderRespType.")

    def listen_key_unknown(self) -> BinanceError:
        return BinanceError(-1125, "This listenKey does not exist.")

    def precision(self, name: str) -> BinanceError:
        if self.futures:
            return BinanceError(-1111, "Precision is over the maximum defined for this asset.")
        return BinanceError(-1111, f"Parameter '{name}' has too much precision.")

    def bad_client_order_id(self, name: str) -> BinanceError:
        if self.futures:
            return BinanceError(-4015, "Client order id is not valid.")
        return self.illegal_chars(name, CLIENT_ID_PATTERN)

    # --- filters -------------------------------------------------------------------------------
    def price_off_tick(self) -> BinanceError:
        if self.futures:
            return BinanceError(-4014, "Price not increased by tick size.")
        return BinanceError(-1013, "Filter failure: PRICE_FILTER")

    def price_below_min(self) -> BinanceError:
        if self.futures:
            return BinanceError(-4013, "Price less than min price.")
        return BinanceError(-1013, "Filter failure: PRICE_FILTER")

    def price_above_max(self) -> BinanceError:
        if self.futures:
            return BinanceError(-4002, "Price greater than max price.")
        return BinanceError(-1013, "Filter failure: PRICE_FILTER")

    def qty_off_step(self, market: bool) -> BinanceError:
        if self.futures:
            return BinanceError(-4023, "Qty not increased by step size.")
        return BinanceError(
            -1013, "Filter failure: MARKET_LOT_SIZE" if market else "Filter failure: LOT_SIZE"
        )

    def qty_below_min(self, market: bool) -> BinanceError:
        if self.futures:
            return BinanceError(-4004, "Quantity less than min quantity.")
        return BinanceError(
            -1013, "Filter failure: MARKET_LOT_SIZE" if market else "Filter failure: LOT_SIZE"
        )

    def qty_above_max(self, market: bool) -> BinanceError:
        if self.futures:
            return BinanceError(-4005, "Quantity greater than max quantity.")
        return BinanceError(
            -1013, "Filter failure: MARKET_LOT_SIZE" if market else "Filter failure: LOT_SIZE"
        )

    def notional(self, minimum: str) -> BinanceError:
        if self.futures:
            return BinanceError(
                -4164, f"Order's notional must be no smaller than {minimum} (unless you choose reduce only)."
            )
        return BinanceError(-1013, "Filter failure: NOTIONAL")

    def price_above_band(self, cap: str) -> BinanceError:
        if self.futures:
            return BinanceError(-4016, f"Limit price can't be higher than {cap}.")
        return BinanceError(-1013, "Filter failure: PERCENT_PRICE_BY_SIDE")

    def price_below_band(self, floor: str) -> BinanceError:
        if self.futures:
            return BinanceError(-4024, f"Limit price can't be lower than {floor}.")
        return BinanceError(-1013, "Filter failure: PERCENT_PRICE_BY_SIDE")

    def too_many_open_orders(self) -> BinanceError:
        if self.futures:
            return BinanceError(-2025, "Reach max open order limit.")
        return BinanceError(-1013, "Filter failure: MAX_NUM_ORDERS")

    # --- order processing ------------------------------------------------------------------
    def insufficient_balance(self) -> BinanceError:
        if self.futures:
            return BinanceError(-2019, "Margin is insufficient.")
        return BinanceError(-2010, "Account has insufficient balance for requested action.")

    def duplicate_order(self) -> BinanceError:
        if self.futures:
            return BinanceError(-4116, "ClientOrderId is duplicated.")
        return BinanceError(-2010, "Duplicate order sent.")

    def post_only_would_take(self) -> BinanceError:
        if self.futures:
            return BinanceError(
                -5022,
                "Due to the order could not be executed as maker, the Post Only order will be rejected. "
                "The order will not be recorded in the order history",
            )
        return BinanceError(-2010, "Order would immediately match and take.")

    def fok_not_filled(self) -> BinanceError:
        return BinanceError(
            -5021,
            "Due to the order could not be filled immediately, the FOK order has been rejected. "
            "The order will not be recorded in the order history",
        )

    def reduce_only_rejected(self) -> BinanceError:
        return BinanceError(-2022, "ReduceOnly Order is rejected.")

    def unknown_order_cancel(self) -> BinanceError:
        return BinanceError(-2011, "Unknown order sent.")

    def unknown_order_query(self) -> BinanceError:
        return BinanceError(-2013, "Order does not exist.")

    def too_many_orders(self, limit: int, interval: str) -> BinanceError:
        return BinanceError(
            -1015, f"Too many new orders; current limit is {limit} orders per {interval}.", 429
        )

    def unsupported(self) -> BinanceError:
        return BinanceError(-1020, "This operation is not supported.")

    def unknown_error(self) -> BinanceError:
        return BinanceError(-1000, "An unknown error occurred while processing the request.")

    # --- service ---------------------------------------------------------------------------
    def weight_exceeded(self, limit: int, retry_after_s: int) -> BinanceError:
        return BinanceError(
            -1003,
            f"Too much request weight used; current limit is {limit} request weight per 1 MINUTE. "
            "Please use WebSocket Streams for live updates to avoid polling the API.",
            429,
            retry_after_s=retry_after_s,
        )

    def ip_banned(self, until_ms: int, retry_after_s: int) -> BinanceError:
        return BinanceError(
            -1003,
            f"Way too much request weight used; IP banned until {until_ms}. "
            "Please use WebSocket Streams for live updates to avoid bans.",
            418,
            retry_after_s=retry_after_s,
        )

    def server_error(self, status: int) -> BinanceError:
        if status == 503:
            return BinanceError(
                -1008,
                "Server is currently overloaded with other requests. Please try again in a few minutes.",
                503,
            )
        if status == 504:
            return BinanceError(
                -1007,
                "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
                504,
            )
        return BinanceError(
            -1001, "Internal error; unable to process your request. Please try again.", status
        )
