"""Fault injection: what the emulator does wrong on purpose, set per run or live via ``/_admin/faults``.

Counters ("the next N ...") count down as faults fire; durations and switches stay until changed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

from tradewright.config.bounds import SecondsOrZero
from tradewright.core.errors import ConfigError
from tradewright.emulator.errors import BinanceError

__all__ = ["FaultSettings", "Faults", "known_reject"]

NonNeg = Annotated[int, msgspec.Meta(ge=0)]

# Binance's messages for the codes an injected order rejection may use (spot wording where both exist).
_REJECT_MESSAGES: dict[int, str] = {
    -1013: "Filter failure: PRICE_FILTER",
    -1015: "Too many new orders.",
    -1008: "Server is currently overloaded with other requests. Please try again in a few minutes.",
    -2010: "Account has insufficient balance for requested action.",
    -2019: "Margin is insufficient.",
    -2022: "ReduceOnly Order is rejected.",
    -4164: "Order's notional must be no smaller than 100 (unless you choose reduce only).",
    -5022: "Due to the order could not be executed as maker, the Post Only order will be rejected. "
    "The order will not be recorded in the order history",
}


def known_reject(code: int) -> str | None:
    return _REJECT_MESSAGES.get(code)


class FaultSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Every fault mode. All default to off."""

    ws_drop: NonNeg = 0  # drop the next N outgoing WebSocket data frames
    ws_drop_match: str = ""  # ...only frames whose stream or event name contains this text ("depth")
    ws_delay_ms: NonNeg = 0  # hold every outgoing WebSocket frame this long
    ws_malformed: NonNeg = 0  # send the next N data frames cut in half (invalid JSON)
    ws_close_every_s: SecondsOrZero = 0.0  # close every WebSocket this often
    depth_gap: NonNeg = 0  # withhold the next N depth diffs from subscribers: a sequence gap
    http_error: NonNeg = 0  # answer the next N REST/WebSocket-API requests with http_error_status
    http_error_status: Literal[500, 502, 503, 504] = 503
    http_error_after_execute: bool = False  # orders among them are executed first (status unknown)
    http_429: NonNeg = 0  # answer the next N REST requests with 429 -1003
    reject_orders: NonNeg = 0  # reject the next N new orders with reject_code
    reject_code: int = -2010
    reject_msg: str = ""  # default: Binance's message for reject_code
    # Corrupt venue messages (the venue's own state stays right; only what it says is wrong):
    book_price_corrupt: NonNeg = 0  # the next N depth diffs carry a bid at book_price_value
    book_price_value: str = "1000000000000000000000000000000.00"  # 1e30, in the venue's number format
    fill_nan: NonNeg = 0  # the next N trade updates (ORDER_TRADE_UPDATE / executionReport) say "l": "NaN"
    fill_beyond_limit: NonNeg = (
        0  # the next N trade updates of limit orders price the fill 5 % through the limit
    )
    fill_duplicate: NonNeg = 0  # the next N trade updates are sent twice


class Faults:
    """The live fault state shared by the REST and WebSocket faces."""

    def __init__(self, settings: FaultSettings | None = None) -> None:
        self._s = settings or FaultSettings()
        self._check(self._s)
        self.fired: dict[str, int] = {}

    @property
    def settings(self) -> FaultSettings:
        return self._s

    def update(self, changes: dict[str, Any]) -> FaultSettings:
        """Merge changes (unknown keys or bad values raise `ConfigError`) and return the new settings."""
        merged = msgspec.structs.asdict(self._s) | dict(changes)
        try:
            new = msgspec.convert(merged, FaultSettings)
        except msgspec.ValidationError as exc:
            raise ConfigError(f"invalid fault settings: {exc}") from None
        self._check(new)
        self._s = new
        return new

    def clear(self) -> None:
        self._s = FaultSettings()

    @staticmethod
    def _check(s: FaultSettings) -> None:
        if s.reject_orders and not s.reject_msg and known_reject(s.reject_code) is None:
            raise ConfigError(f"reject_code {s.reject_code} needs reject_msg (no default message known)")

    def _take(self, name: str) -> bool:
        left: int = getattr(self._s, name)
        if left <= 0:
            return False
        self._s = msgspec.structs.replace(self._s, **{name: left - 1})
        self.fired[name] = self.fired.get(name, 0) + 1
        return True

    # --- questions the faces ask ---------------------------------------------------------------
    def drop_frame(self, label: str) -> bool:
        if self._s.ws_drop <= 0 or (self._s.ws_drop_match and self._s.ws_drop_match not in label):
            return False
        return self._take("ws_drop")

    def malform_frame(self) -> bool:
        return self._take("ws_malformed")

    def withhold_depth(self) -> bool:
        return self._take("depth_gap")

    def http_failure(self) -> tuple[int, bool] | None:
        """(status, execute first) if this request is to fail with a server error."""
        if not self._take("http_error"):
            return None
        return self._s.http_error_status, self._s.http_error_after_execute

    def throttle(self) -> bool:
        return self._take("http_429")

    def corrupt_book_price(self) -> str | None:
        """The price to put on a bid of the next depth diff, if that fault is due."""
        return self._s.book_price_value if self._take("book_price_corrupt") else None

    def corrupt_fill(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """The user-stream messages to send for `event`: itself, or a corrupted copy (or two copies).

        Only trade updates (execution type TRADE) are touched; the venue's own records keep the truth.
        """
        order = event.get("o") if event.get("e") == "ORDER_TRADE_UPDATE" else event
        if event.get("e") not in ("ORDER_TRADE_UPDATE", "executionReport") or not isinstance(order, dict):
            return [event]
        if order.get("x") != "TRADE":
            return [event]
        if self._s.fill_beyond_limit > 0 and Decimal(str(order.get("p", "0"))) > 0:
            self._take("fill_beyond_limit")
            limit = Decimal(str(order["p"]))
            beyond = limit * (Decimal("1.05") if order.get("S") == "BUY" else Decimal("0.95"))
            return [_with_order(event, {"L": f"{beyond.quantize(limit):f}"})]
        if self._take("fill_nan"):
            return [_with_order(event, {"l": "NaN"})]
        if self._take("fill_duplicate"):
            return [event, event]
        return [event]

    def order_rejection(self) -> BinanceError | None:
        if not self._take("reject_orders"):
            return None
        msg = self._s.reject_msg or known_reject(self._s.reject_code) or ""
        return BinanceError(self._s.reject_code, msg, 400)


def _with_order(event: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A copy of a user event with fields of its order changed (USD-M nests them under "o")."""
    if event.get("e") == "ORDER_TRADE_UPDATE":
        return {**event, "o": {**event["o"], **changes}}
    return {**event, **changes}
