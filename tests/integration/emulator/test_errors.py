"""Every refused request gets Binance's HTTP status, error code and message — spot and USD-M wording."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.integration.emulator.support import Signed, admin, emulator, run, spot_path, stream_of, usdm_path

Call = Callable[[Signed], Awaitable[tuple[int, Any, dict[str, str]]]]


@dataclass(frozen=True)
class Case:
    name: str
    call: Call
    status: int
    code: int
    msg: str


async def touch(c: Signed, prefix: str) -> tuple[Decimal, Decimal]:
    """(best bid, best ask) with the replay paused, so the book cannot move under the request."""
    await admin(int(c.base.rsplit(":", 1)[1]), "POST", "replay", {"paused": True})
    _, book, _ = await c.call("GET", f"{prefix}/depth", {"symbol": "BTCUSDT", "limit": 5}, signed=False)
    return Decimal(book["bids"][0][0]), Decimal(book["asks"][0][0])


def limit(price: Any, qty: str, **extra: Any) -> dict[str, Any]:
    return (
        {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": qty}
        | {"price": str(price)}
        | extra
    )


def common_cases(prefix: str, qty: str) -> list[Case]:
    order = f"{prefix}/order"
    # Far enough from the touch (about 61,800) not to fill, inside USD-M's PERCENT_PRICE band (0.95 x mark).
    far = "50000.00" if prefix == "/api/v3" else "59000.0"

    async def bad_signature(c: Signed) -> Any:
        c.secret = "not-the-secret"
        return await c.call("POST", order, limit(far, qty))

    async def no_key(c: Signed) -> Any:
        c.key = ""
        return await c.call("GET", order, {"symbol": "BTCUSDT", "orderId": 1})

    async def unknown_key(c: Signed) -> Any:
        c.key = "somebody-else"
        return await c.call("GET", order, {"symbol": "BTCUSDT", "orderId": 1})

    async def duplicate(c: Signed) -> Any:
        await c.call("POST", order, limit(far, qty, newClientOrderId="dup-1"))
        return await c.call("POST", order, limit(far, qty, newClientOrderId="dup-1"))

    now = lambda: int(time.time() * 1000)  # noqa: E731
    return [
        Case("bad signature", bad_signature, 400, -1022, "Signature for this request is not valid."),
        Case(
            "stale timestamp",
            lambda c: c.call("POST", order, limit(far, qty), timestamp_ms=now() - 10_000),
            400,
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        ),
        Case(
            "timestamp ahead",
            lambda c: c.call("POST", order, limit(far, qty), timestamp_ms=now() + 5_000),
            400,
            -1021,
            "Timestamp for this request was 1000ms ahead of the server's time.",
        ),
        Case(
            "recvWindow too large",
            lambda c: c.call("POST", order, limit(far, qty, recvWindow=70000)),
            400,
            -1131,
            "recvWindow must be less than 60000.",
        ),
        Case("missing API key", no_key, 401, -2014, "API-key format invalid."),
        Case("unknown API key", unknown_key, 401, -2015, "Invalid API-key, IP, or permissions for action."),
        Case(
            "unknown symbol (order)",
            lambda c: c.call("POST", order, limit(far, qty) | {"symbol": "ETHUSDT"}),
            400,
            -1121,
            "Invalid symbol.",
        ),
        Case(
            "unknown symbol (depth)",
            lambda c: c.call("GET", f"{prefix}/depth", {"symbol": "ETHUSDT"}, signed=False),
            400,
            -1121,
            "Invalid symbol.",
        ),
        Case(
            "missing side",
            lambda c: c.call("POST", order, {k: v for k, v in limit(far, qty).items() if k != "side"}),
            400,
            -1102,
            "Mandatory parameter 'side' was not sent, was empty/null, or malformed.",
        ),
        Case(
            "invalid side",
            lambda c: c.call("POST", order, limit(far, qty, side="HOLD")),
            400,
            -1117,
            "Invalid side.",
        ),
        Case(
            "unsupported order type",
            lambda c: c.call("POST", order, limit(far, qty, type="STOP_LOSS_LIMIT")),
            400,
            -1116,
            "Invalid orderType.",
        ),
        Case(
            "invalid time in force",
            lambda c: c.call("POST", order, limit(far, qty, timeInForce="GTD")),
            400,
            -1115,
            "Invalid timeInForce.",
        ),
        Case(
            "illegal number",
            lambda c: c.call("POST", order, limit("1e5", qty)),
            400,
            -1100,
            "Illegal characters found in parameter 'price'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
        ),
        Case(
            "cancel of an unknown order",
            lambda c: c.call("DELETE", order, {"symbol": "BTCUSDT", "orderId": 987654}),
            400,
            -2011,
            "Unknown order sent.",
        ),
        Case(
            "query of an unknown order",
            lambda c: c.call("GET", order, {"symbol": "BTCUSDT", "origClientOrderId": "nope"}),
            400,
            -2013,
            "Order does not exist.",
        ),
        Case(
            "query without an order id",
            lambda c: c.call("GET", order, {"symbol": "BTCUSDT"}),
            400,
            -1102,
            "Param 'orderId' or 'origClientOrderId' must be sent, but both were empty/null!",
        ),
        Case(
            "unknown path",
            lambda c: c.call("GET", f"{prefix}/nothingHere", signed=False),
            404,
            -5000,
            f"Path {prefix}/nothingHere, Method GET is invalid",
        ),
        Case("duplicate client order id", duplicate, 400, *_duplicate(prefix)),
    ]


def _duplicate(prefix: str) -> tuple[int, str]:
    return (
        (-2010, "Duplicate order sent.") if prefix == "/api/v3" else (-4116, "ClientOrderId is duplicated.")
    )


def spot_cases() -> list[Case]:
    order = "/api/v3/order"

    async def post_only_takes(c: Signed) -> Any:
        _, ask = await touch(c, "/api/v3")
        params = limit(ask, "0.001", type="LIMIT_MAKER")
        del params["timeInForce"]
        return await c.call("POST", order, params)

    return [
        *common_cases("/api/v3", "0.001"),
        Case(
            "price off the tick",
            lambda c: c.call("POST", order, limit("50000.005", "0.001")),
            400,
            -1013,
            "Filter failure: PRICE_FILTER",
        ),
        Case(
            "price with too many decimals",
            lambda c: c.call("POST", order, limit("50000.000000001", "0.001")),
            400,
            -1111,
            "Parameter 'price' has too much precision.",
        ),
        Case(
            "quantity off the step",
            lambda c: c.call("POST", order, limit("50000", "0.000015")),
            400,
            -1013,
            "Filter failure: LOT_SIZE",
        ),
        Case(
            "notional below the minimum",
            lambda c: c.call("POST", order, limit("50000", "0.00001")),
            400,
            -1013,
            "Filter failure: NOTIONAL",
        ),
        Case(
            "insufficient balance",
            lambda c: c.call("POST", order, limit("50000", "100")),
            400,
            -2010,
            "Account has insufficient balance for requested action.",
        ),
        Case(
            "market order with a price",
            lambda c: c.call(
                "POST",
                order,
                {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001", "price": "1"},
            ),
            400,
            -1106,
            "Parameter 'price' sent when not required.",
        ),
        Case("post-only would take", post_only_takes, 400, -2010, "Order would immediately match and take."),
        Case(
            "listen key keepalive of an unknown key",
            lambda c: c.call("PUT", "/api/v3/userDataStream", {"listenKey": "x" * 60}, signed=False),
            400,
            -1125,
            "This listenKey does not exist.",
        ),
    ]


def usdm_cases() -> list[Case]:
    order = "/fapi/v1/order"

    async def gtx_takes(c: Signed) -> Any:
        _, ask = await touch(c, "/fapi/v1")
        return await c.call("POST", order, limit(ask, "0.002", timeInForce="GTX"))

    async def fok_unfilled(c: Signed) -> Any:
        bid, _ = await touch(c, "/fapi/v1")
        return await c.call("POST", order, limit(bid, "0.002", timeInForce="FOK"))

    return [
        *common_cases("/fapi/v1", "0.002"),
        Case(
            "price off the tick",
            lambda c: c.call("POST", order, limit("50000.05", "0.002")),
            400,
            -4014,
            "Price not increased by tick size.",
        ),
        Case(
            "price with too many decimals",
            lambda c: c.call("POST", order, limit("50000.005", "0.002")),
            400,
            -1111,
            "Precision is over the maximum defined for this asset.",
        ),
        Case(
            "notional below the minimum",
            lambda c: c.call("POST", order, limit("50000", "0.001")),
            400,
            -4164,
            "Order's notional must be no smaller than 100 (unless you choose reduce only).",
        ),
        Case(
            "insufficient margin",
            lambda c: c.call("POST", order, limit("59000", "100")),
            400,
            -2019,
            "Margin is insufficient.",
        ),
        Case(
            "reduce-only without a position",
            lambda c: c.call("POST", order, limit("59000", "0.002", reduceOnly="true")),
            400,
            -2022,
            "ReduceOnly Order is rejected.",
        ),
        Case(
            "post-only (GTX) would take",
            gtx_takes,
            400,
            -5022,
            "Due to the order could not be executed as maker, the Post Only order will be rejected. "
            "The order will not be recorded in the order history",
        ),
        Case(
            "FOK that cannot fill",
            fok_unfilled,
            400,
            -5021,
            "Due to the order could not be filled immediately, the FOK order has been rejected. "
            "The order will not be recorded in the order history",
        ),
        Case(
            "listen key keepalive without a key",
            lambda c: c.call("PUT", "/fapi/v1/listenKey", signed=False),
            400,
            -1125,
            "This listenKey does not exist.",
        ),
    ]


def _run_case(venue: str, case: Case, state: Path) -> None:
    stream = stream_of(spot_path() if venue == "binance-spot" else usdm_path())

    async def body() -> None:
        async with emulator(stream, state, venue) as server, aiohttp.ClientSession() as session:
            status, body, headers = await case.call(Signed(session, server.port))
            assert (status, body) == (case.status, {"code": case.code, "msg": case.msg})
            assert headers["Content-Type"].startswith("application/json")

    run(body())


@pytest.mark.parametrize("case", spot_cases(), ids=lambda c: c.name)
def test_spot_error(case: Case, tmp_path: Path) -> None:
    _run_case("binance-spot", case, tmp_path / "s.sqlite")


@pytest.mark.parametrize("case", usdm_cases(), ids=lambda c: c.name)
def test_usdm_error(case: Case, tmp_path: Path) -> None:
    _run_case("binance-usdm", case, tmp_path / "u.sqlite")


def test_ccxt_raises_its_matching_exception_types(tmp_path: Path) -> None:
    import ccxt

    from tests.integration.emulator.support import ccxt_clients

    async def body() -> None:
        stream = stream_of(spot_path())
        async with (
            emulator(stream, tmp_path / "s.sqlite", "binance-spot") as server,
            ccxt_clients(server.port, futures=False) as (rest, _),
        ):
            expectations: list[tuple[type[Exception], Any]] = [
                (ccxt.InsufficientFunds, rest.create_order("BTC/USDT", "limit", "buy", 100, 50000)),
                (
                    ccxt.InvalidOrder,
                    rest.create_order("BTC/USDT", "limit", "buy", 0.001, 2_000_000),
                ),  # PRICE_FILTER
                (ccxt.OrderNotFound, rest.cancel_order("424242", "BTC/USDT")),
                (ccxt.OrderNotFound, rest.fetch_order("424242", "BTC/USDT")),
            ]
            for kind, call in expectations:
                with pytest.raises(kind):
                    await call
            rest.secret = "wrong"
            with pytest.raises(ccxt.AuthenticationError):
                await rest.fetch_balance()

    run(body())
