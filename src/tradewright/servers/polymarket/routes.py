"""REST of the local Polymarket: the CLOB (public market data, L1 API keys, L2 orders, cancels,
heartbeats, balances), Gamma under ``/gamma``, and the simulator's own controls under ``/_sim``.

Answers follow the venue's shapes (py-clob-client-v2 / clob-client-v2 types, the recorded fixtures);
``GET /clob-markets/{condition_id}`` — of which no capture exists — is written from the documented
compact schema (`MarketDetails` in clob-client-v2). Cursor pagination is the venue's: base64 of the
offset, ``MA==`` first and ``LTE=`` after the last page.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tradewright.servers._core.rest import RestAnswer, RestRequest, RestRouter
from tradewright.servers.polymarket.clob import ClobError, Wallet, micro
from tradewright.servers.polymarket.verify import check_l1, check_l2, read_order
from tradewright.venues.polymarket.signing import exchange_address

if TYPE_CHECKING:
    from tradewright.servers.polymarket.protocol import PolymarketProtocol

__all__ = ["register"]

_PAGE = 100
_END = "LTE="


def _cursor(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode()


def _offset(cursor: str) -> int:
    try:
        value = int(base64.b64decode(cursor or "MA==").decode())
    except ValueError:
        raise ClobError("invalid next_cursor") from None
    return max(value, 0)


def _page(rows: list[Any], cursor: str, size: int = _PAGE) -> dict[str, Any]:
    start = _offset(cursor)
    chunk = rows[start : start + size]
    nxt = _cursor(start + size) if start + size < len(rows) else _END
    return {"data": chunk, "next_cursor": nxt, "limit": size, "count": len(chunk)}


def _ok(payload: Any, status: int = 200) -> RestAnswer:
    return RestAnswer.of(payload, status)


Handler = Callable[[RestRequest], Awaitable[RestAnswer]]


def register(proto: PolymarketProtocol, router: RestRouter) -> None:
    clob = proto.clob

    def guarded(work: Callable[[RestRequest], Any]) -> Handler:
        async def handler(req: RestRequest) -> RestAnswer:
            proto.ensure_ticker()
            try:
                result = work(req)
                if asyncio.iscoroutine(result):
                    result = await result
            except ClobError as exc:
                return _ok({"error": exc.message}, exc.status)
            return result if isinstance(result, RestAnswer) else _ok(result)

        return handler

    def l2(req: RestRequest) -> Wallet:
        return check_l2(req.headers, req.method, req.path, req.body, clob.wallets, int(time.time()))

    def token_param(req: RestRequest) -> str:
        token = req.params.get("token_id", "")
        if token not in clob.by_token:
            raise ClobError("Invalid token id")
        return token

    # --- public ------------------------------------------------------------------------------------
    router.add("GET", "/ok", guarded(lambda req: "OK"))
    router.add("GET", "/time", guarded(lambda req: int(time.time())))
    router.add("GET", "/version", guarded(lambda req: {"version": proto.version}))

    def markets(req: RestRequest) -> Any:
        return _page(list(proto.world.clob_markets.values()), req.params.get("next_cursor", "MA=="))

    def market(req: RestRequest) -> Any:
        cid = req.path.rsplit("/", 1)[-1]
        raw = proto.world.clob_markets.get(cid)
        if raw is None:
            raise ClobError("market not found", 404)
        state = clob.markets.get(cid)
        if state is not None and state.resolved_winner:
            raw = {**raw, "closed": True, "accepting_orders": False,
                   "tokens": [{**t, "winner": str(t["token_id"]) == state.resolved_winner} for t in raw["tokens"]]}  # fmt: skip
        return raw

    def clob_market(req: RestRequest) -> Any:
        cid = req.path.rsplit("/", 1)[-1]
        state = clob.markets.get(cid)
        if state is None:
            raise ClobError("market not found", 404)
        answer: dict[str, Any] = {
            "c": cid,
            "t": [{"t": t, "o": o} for t, o in zip(state.tokens, state.outcomes, strict=True)],
            "mts": str(state.tick_size),
            "mos": str(state.min_size),
            "ao": state.accepting_orders and not state.resolved_winner,
            "r": None,
        }
        if state.neg_risk:
            answer["nr"] = True
        if state.fees.kind == "curve" and state.fees.rate:
            answer["fd"] = {"r": str(state.fees.rate), "e": state.fees.exponent, "to": True}
        return answer

    def market_by_token(req: RestRequest) -> Any:
        token = req.path.rsplit("/", 1)[-1]
        state = clob.by_token.get(token)
        if state is None:
            raise ClobError("market not found", 404)
        return {"condition_id": state.condition_id}

    def book(req: RestRequest) -> Any:
        token = token_param(req)
        state = clob.by_token[token]
        bids, asks = clob.book(token)
        return {
            "market": state.condition_id, "asset_id": token, "timestamp": str(proto.now_ms()), "hash": "",
            "bids": [{"price": str(p), "size": str(q)} for p, q in reversed(bids)],
            "asks": [{"price": str(p), "size": str(q)} for p, q in reversed(asks)],
            "min_order_size": str(state.min_size), "tick_size": str(state.tick_size), "neg_risk": state.neg_risk,
            "last_trade_price": "",
        }  # fmt: skip

    def tick_size(req: RestRequest) -> Any:
        return {"minimum_tick_size": str(clob.by_token[token_param(req)].tick_size)}

    def neg_risk(req: RestRequest) -> Any:
        return {"neg_risk": clob.by_token[token_param(req)].neg_risk}

    def fee_rate(req: RestRequest) -> Any:
        fees = clob.by_token[token_param(req)].fees
        return {"base_fee": str(int(fees.rate * 10_000)) if fees.kind == "curve" else "0"}

    router.add("GET", "/markets", guarded(markets))
    router.add_prefix("GET", "/markets/", guarded(market))
    router.add_prefix("GET", "/clob-markets/", guarded(clob_market))
    router.add_prefix("GET", "/markets-by-token/", guarded(market_by_token))
    router.add("GET", "/book", guarded(book))
    router.add("GET", "/tick-size", guarded(tick_size))
    router.add("GET", "/neg-risk", guarded(neg_risk))
    router.add("GET", "/fee-rate", guarded(fee_rate))

    # --- Gamma (its own host at the venue; here under /gamma) ---------------------------------------------
    def gamma_list(rows: list[dict[str, Any]]) -> Callable[[RestRequest], Any]:
        def handler(req: RestRequest) -> Any:
            limit = int(req.params.get("limit", "100"))
            offset = int(req.params.get("offset", "0"))
            kept = rows
            if req.params.get("active") == "true":
                kept = [r for r in kept if r.get("active") and not r.get("closed")]
            if req.params.get("closed") == "false":
                kept = [r for r in kept if not r.get("closed")]
            return kept[offset : offset + limit]

        return handler

    router.add("GET", "/gamma/markets", guarded(gamma_list(proto.world.gamma_markets)))
    router.add("GET", "/gamma/events", guarded(gamma_list(proto.world.gamma_events)))
    router.add("GET", "/gamma/tags", guarded(lambda req: proto.world.gamma_tags))

    def search(req: RestRequest) -> Any:
        text = req.params.get("q", "").lower()
        events = [
            e for e in (proto.world.search.get("events", []) + proto.world.gamma_events)
            if text in str(e.get("title", "")).lower() or any(text in str(m.get("question", "")).lower() for m in e.get("markets", []))
        ]  # fmt: skip
        return {"events": events, "pagination": {"hasMore": False, "totalResults": len(events)}}

    router.add("GET", "/gamma/public-search", guarded(search))

    # --- L1: API keys ----------------------------------------------------------------------------------
    def by_address(address: str) -> Wallet | None:
        return next((w for w in clob.wallets.values() if w.address.lower() == address.lower()), None)

    def creds(wallet: Wallet) -> dict[str, str]:
        return {"apiKey": wallet.api_key, "secret": wallet.secret, "passphrase": wallet.passphrase}

    def derive(req: RestRequest) -> Any:
        wallet = by_address(check_l1(req.headers, proto.chain_id, int(time.time())))
        if wallet is None:
            raise ClobError("Could not derive api key!", 400)
        return creds(wallet)

    def create(req: RestRequest) -> Any:
        address = check_l1(req.headers, proto.chain_id, int(time.time()))
        wallet = by_address(address)
        if wallet is None:
            secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
            wallet = Wallet(address, str(uuid.uuid4()), secret, secrets.token_hex(16))  # unfunded, unapproved
            clob.wallets[wallet.api_key] = wallet
        return creds(wallet)

    router.add("GET", "/auth/derive-api-key", guarded(derive))
    router.add("POST", "/auth/api-key", guarded(create))

    # --- L2: orders ------------------------------------------------------------------------------------
    def exchange_for(token: str, version: int) -> str:
        state = clob.by_token.get(token)
        if state is None:
            raise ClobError("Invalid order payload: unknown token id")
        return exchange_address(proto.chain_id, version, state.neg_risk)

    def place_one(wallet: Wallet, payload: Any) -> dict[str, Any]:
        if proto.mode != "open":
            raise ClobError(
                "Trading is currently cancel-only. New orders are not accepted, but cancels are allowed."
                if proto.mode == "cancel-only" else "Trading is currently disabled. Check polymarket.com for updates",
                503,
            )  # fmt: skip
        posted = read_order(
            payload, wallet, version=proto.version, chain_id=proto.chain_id, exchange_for=exchange_for,
            deposit_owners=proto.deposit_owners,
        )  # fmt: skip
        from tradewright.venues.polymarket.signing import order_hash

        oid = order_hash(posted.struct, proto.chain_id, exchange_for(posted.token_id, proto.version))
        return clob.place(
            wallet, order_id=oid, token_id=posted.token_id, side=posted.side, price=posted.price, size=posted.size,
            order_type=posted.order_type, post_only=posted.post_only, expiration=posted.expiration,
            now_ms=proto.now_ms(), exchange=exchange_for(posted.token_id, proto.version),
        )  # fmt: skip

    def post_order(req: RestRequest) -> Any:
        wallet = l2(req)
        try:
            return place_one(wallet, req.json())
        except ClobError as exc:
            if exc.status != 400:
                raise
            return _ok({"success": False, "errorMsg": exc.message, "orderID": "", "status": "",
                        "takingAmount": "", "makingAmount": ""}, 400)  # fmt: skip

    def post_orders(req: RestRequest) -> Any:
        wallet = l2(req)
        payload = req.json()
        if not isinstance(payload, list) or not 1 <= len(payload) <= 15:
            raise ClobError("Invalid order payload: 1 to 15 orders per request")
        answers = []
        for one in payload:
            try:
                answers.append(place_one(wallet, one))
            except ClobError as exc:  # a refused leg: success with no id and the reason (as the venue does)
                answers.append({"success": True, "errorMsg": exc.message, "orderID": "", "status": "",
                                "takingAmount": "", "makingAmount": ""})  # fmt: skip
        return answers

    def delete_order(req: RestRequest) -> Any:
        wallet = l2(req)
        return clob.cancel(wallet.api_key, [str(req.json().get("orderID", ""))], proto.now_ms())

    def delete_orders(req: RestRequest) -> Any:
        wallet = l2(req)
        ids = req.json()
        if not isinstance(ids, list):
            raise ClobError("Invalid payload")
        return clob.cancel(wallet.api_key, [str(i) for i in ids[:3000]], proto.now_ms())

    def cancel_all(req: RestRequest) -> Any:
        return clob.cancel_where(l2(req).api_key, proto.now_ms())

    def cancel_market(req: RestRequest) -> Any:
        wallet = l2(req)
        body = req.json()
        return clob.cancel_where(
            wallet.api_key,
            proto.now_ms(),
            market=str(body.get("market", "")),
            token=str(body.get("asset_id", "")),
        )

    def get_order(req: RestRequest) -> Any:
        wallet = l2(req)
        order = clob.orders.get(req.path.rsplit("/", 1)[-1])
        if order is None or order.owner != wallet.api_key or order.status != "LIVE":
            return None  # the venue answers only for live orders
        return clob.order_row(order)

    def open_orders(req: RestRequest) -> Any:
        wallet = l2(req)
        rows = [
            clob.order_row(o) for o in clob.orders.values()
            if o.owner == wallet.api_key and o.status == "LIVE"
            and req.params.get("market", o.market) == o.market and req.params.get("asset_id", o.token_id) == o.token_id
            and req.params.get("id", o.order_id) == o.order_id
        ]  # fmt: skip
        return _page(rows, req.params.get("next_cursor", "MA=="))

    def trades(req: RestRequest) -> Any:
        wallet = l2(req)
        now = proto.now_ms()
        rows = [
            t.message(wallet.api_key, now) for t in clob.trade_log
            if wallet.api_key in t.owners and req.params.get("market", t.market) == t.market
            and req.params.get("asset_id", t.asset_id) == t.asset_id
        ]  # fmt: skip
        for row in rows:
            del row["event_type"]
        return _page(rows, req.params.get("next_cursor", "MA=="))

    def heartbeat(req: RestRequest) -> Any:
        wallet = l2(req)
        proto.heartbeats[wallet.api_key] = time.monotonic()
        given = str(req.json().get("heartbeat_id", "")) if req.body else ""
        return {"heartbeat_id": given or str(uuid.uuid4())}

    def balance_allowance(req: RestRequest) -> Any:
        wallet = l2(req)
        if req.params.get("asset_type") == "CONDITIONAL":
            token = req.params.get("token_id", "")
            held = wallet.confirmed_tokens.get(token, Decimal(0))
            return {
                "balance": micro(held),
                "allowances": {k: str(int(v)) for k, v in wallet.allowances.items()},
            }
        return {
            "balance": micro(wallet.confirmed_collateral),
            "allowances": {k: str(int(v)) for k, v in wallet.allowances.items()},
        }

    router.add("POST", "/order", guarded(post_order))
    router.add("POST", "/orders", guarded(post_orders))
    router.add("DELETE", "/order", guarded(delete_order))
    router.add("DELETE", "/orders", guarded(delete_orders))
    router.add("DELETE", "/cancel-all", guarded(cancel_all))
    router.add("DELETE", "/cancel-market-orders", guarded(cancel_market))
    router.add_prefix("GET", "/data/order/", guarded(get_order))
    router.add("GET", "/data/orders", guarded(open_orders))
    router.add("GET", "/data/trades", guarded(trades))
    router.add("POST", "/v1/heartbeats", guarded(heartbeat))
    router.add("GET", "/balance-allowance", guarded(balance_allowance))
    router.add("GET", "/balance-allowance/update", guarded(balance_allowance))

    # --- a minimal chain endpoint for rehearsing approvals (see chain.py) ------------------------------
    def json_rpc(req: RestRequest) -> Any:
        from tradewright.servers.polymarket.chain import rpc

        return rpc(proto, req.json())

    router.add("POST", "/rpc", guarded(json_rpc))

    # --- the simulator's controls (loopback only, like the rest of the server) -------------------------
    from tradewright.servers.polymarket.sim_admin import register_admin

    register_admin(proto, router, guarded)
