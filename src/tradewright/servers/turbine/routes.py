"""REST of the local Turbine (shapes from Turbine's API documentation and turbine-py-client's types;
errors as ``{"error": "..."}`` with the HTTP status, as the official client reads them)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tradewright.servers._core.rest import RestAnswer, RestRequest, RestRouter
from tradewright.servers.turbine.venue import QuickMarketState, VenueRefusal

if TYPE_CHECKING:
    from tradewright.servers.turbine.protocol import TurbineProtocol

__all__ = ["register"]


def register(proto: TurbineProtocol, router: RestRouter) -> None:
    state = proto.state

    def guarded(work: Callable[[RestRequest], Any]) -> Callable[[RestRequest], Any]:
        async def handler(req: RestRequest) -> RestAnswer:
            proto.roll()
            try:
                result = work(req)
                if asyncio.iscoroutine(result):
                    result = await result
            except VenueRefusal as exc:
                text = exc.message
                body = json.loads(text) if text.startswith("{") else {"error": text}
                return RestAnswer.of(body, exc.status)
            finally:
                proto.publish_changes()
            return result if isinstance(result, RestAnswer) else RestAnswer.of(result)

        return handler

    def market(market_id: str) -> QuickMarketState:
        found = state.markets.get(market_id)
        if found is None:
            raise VenueRefusal("market not found", 404)
        return found

    def wallet_of(address: str) -> Any:
        found = state.wallets.get(address.lower())
        if found is None:
            raise VenueRefusal("user not found", 404)
        return found

    def tail(req: RestRequest, prefix: str) -> list[str]:
        return req.path.removeprefix(prefix).strip("/").split("/")

    # --- public --------------------------------------------------------------------------------------
    router.add("GET", "/health", guarded(lambda req: {"status": "ok"}))

    def markets(req: RestRequest) -> Any:
        return {"markets": [
            {"id": m.market_id, "chainId": proto.chain_id, "contractAddress": m.contract, "settlementAddress": m.settlement,
             "question": f"{m.asset} above {m.start_price / 1_000_000} at {m.end_s}?", "description": "quick market",
             "category": "crypto", "expiration": m.end_s, "maker": "0x" + "00" * 20, "resolved": m.resolved,
             "winningOutcome": m.outcome, "volume": 0, "createdAt": m.start_s, "updatedAt": m.start_s}
            for m in state.markets.values()
        ]}  # fmt: skip

    def quick(req: RestRequest) -> Any:
        parts = tail(req, "/api/v1/quick-markets")
        asset, rest = parts[0], parts[1:]
        interval = int(req.params.get("interval", str(proto.interval_minutes)))
        mine = sorted(
            (m for m in state.markets.values() if m.asset == asset and m.interval_minutes == interval),
            key=lambda m: m.start_s,
        )
        now = proto.now_s()
        if rest == ["price"]:
            return {"price": proto.strike, "timestamp": now}
        if rest == ["history"]:
            done = [m for m in mine if m.end_s <= now]
            return {
                "quickMarkets": [
                    m.as_json(i) for i, m in enumerate(done[-int(req.params.get("limit", "100")) :])
                ]
            }
        if rest == ["all"]:
            return {"quickMarkets": [m.as_json(i) for i, m in enumerate(mine) if m.end_s > now]}
        current = next((m for m in mine if m.start_s <= now < m.end_s), None)
        if current is None:
            return {"active": False, "asset": asset, "quickMarket": None}
        best = state.book(current.market_id, 0)[1]
        return {"active": True, "asset": asset, "quickMarket": current.as_json(mine.index(current)),
                "bestAskPrice": best[0][0] if best else None}  # fmt: skip

    def orderbook(req: RestRequest) -> Any:
        market_id = tail(req, "/api/v1/orderbook")[0]
        market(market_id)
        outcome = int(req.params.get("outcome", "0"))
        bids, asks = state.book(market_id, outcome)
        return {"marketId": market_id, "outcome": outcome, "lastUpdate": proto.now_s(),
                "bids": [{"price": p, "size": q} for p, q in bids], "asks": [{"price": p, "size": q} for p, q in asks]}  # fmt: skip

    def trades(req: RestRequest) -> Any:
        market_id = tail(req, "/api/v1/trades")[0]
        rows = [f.as_json() for f in state.fills if f.market_id == market_id]
        return rows[-int(req.params.get("limit", "100")) :]

    def resolution(req: RestRequest) -> Any:
        m = market(tail(req, "/api/v1/resolution")[0])
        return {"marketId": m.market_id, "assertionId": "0x" + hashlib.sha256(m.market_id.encode()).hexdigest(),
                "outcome": m.outcome, "resolved": m.resolved, "timestamp": m.end_s if m.resolved else 0}  # fmt: skip

    def nonce(req: RestRequest) -> Any:
        contract, owner = tail(req, "/api/v1/contracts/nonce")[:2]
        w = wallet_of(owner)
        return {"nonce": w.permit_nonce if contract.lower() == state.usdc.lower() else w.ctf_nonce}

    router.add("GET", "/api/v1/markets", guarded(markets))
    router.add_prefix("GET", "/api/v1/quick-markets/", guarded(quick))
    router.add_prefix("GET", "/api/v1/orderbook/", guarded(orderbook))
    router.add_prefix("GET", "/api/v1/trades/", guarded(trades))
    router.add_prefix("GET", "/api/v1/resolution/", guarded(resolution))
    router.add_prefix("GET", "/api/v1/contracts/nonce/", guarded(nonce))
    router.add("POST", "/api/v1/api-keys", guarded(lambda req: proto.register_key(req.json())))

    # --- users ---------------------------------------------------------------------------------------
    def user(req: RestRequest) -> Any:
        address, what = tail(req, "/api/v1/users")[:2]
        w = wallet_of(address)
        if what == "balances":
            return {"balance": str(w.usdc), "allowance": str(w.allowance)}  # one spender: the settlement
        proto.bearer(req)
        if what == "positions":
            out: dict[str, dict[str, Any]] = {}
            for (mid, outcome), qty in w.shares.items():
                row = out.setdefault(
                    mid,
                    {
                        "id": len(out) + 1,
                        "marketId": mid,
                        "userAddress": w.address,
                        "yesShares": 0,
                        "noShares": 0,
                    },
                )
                row["yesShares" if outcome == 0 else "noShares"] = qty
            return {"positions": list(out.values())}
        if what == "claimable":
            rows: list[dict[str, Any]] = []
            for m in state.markets.values():
                owed = state.winning_balance(w, m)
                if owed > 0:
                    rows.append({"market_id": m.market_id, "contract_address": m.contract,
                                 "outcome_label": "YES" if m.outcome == 0 else "NO", "balance": str(owed), "payout": str(owed)})  # fmt: skip
            return {"claimable": rows}
        if what == "claim-data":
            wanted = [a.lower() for a in req.params.get("markets", "").split(",") if a]
            data: list[dict[str, Any]] = [
                {"market_address": m.contract, "resolved": m.resolved, "winning_balance": str(state.winning_balance(w, m)),
                 "ctf_address": state.ctf, "collateral_token": state.usdc, "condition_id": m.market_id,
                 "winning_outcome": m.outcome if m.outcome is not None else 0, "ctf_nonce": str(w.ctf_nonce)}
                for m in state.markets.values() if m.contract.lower() in wanted
            ]  # fmt: skip
            return {"markets": data}
        raise VenueRefusal("not found", 404)

    router.add_prefix("GET", "/api/v1/users/", guarded(user))

    # --- orders --------------------------------------------------------------------------------------
    def post_order(req: RestRequest) -> Any:
        w = proto.bearer(req)
        body = req.json()
        order, order_hash = proto.verify_order(w, body)
        state.check_taker(order)
        resting, fills = state.place(w, order, order_hash, proto.now_s())
        return {
            "orderHash": resting.order_hash,
            "status": "accepted",
            "matches": len(fills),
            "timestamp": proto.now_s(),
        }

    def list_orders(req: RestRequest) -> Any:
        w = proto.bearer(req)
        status = req.params.get("status", "")
        rows = [
            o.as_json() for o in state.orders.values()
            if o.trader.lower() == req.params.get("trader", w.address).lower()
            and (not status or o.status == status)
            and req.params.get("market_id", o.market_id) == o.market_id
        ]  # fmt: skip
        return {"orders": rows}

    def one_order(req: RestRequest) -> Any:
        w = proto.bearer(req)
        order = state.orders.get(tail(req, "/api/v1/orders")[0])
        if order is None or order.trader.lower() != w.address.lower():
            raise VenueRefusal("order not found", 404)
        return order.as_json()

    def delete_order(req: RestRequest) -> Any:
        w = proto.bearer(req)
        order = state.cancel(w, tail(req, "/api/v1/orders")[0])
        return {"orderHash": order.order_hash, "status": "cancelled"}

    def delete_market(req: RestRequest) -> Any:
        w = proto.bearer(req)
        market_id = req.params.get("marketId", "")
        done = []
        for o in list(state.orders.values()):
            if o.trader.lower() == w.address.lower() and o.market_id == market_id and o.status == "open":
                done.append(state.cancel(w, o.order_hash).order_hash)
        return {"cancelled": done}

    router.add("POST", "/api/v1/orders", guarded(post_order))
    router.add("GET", "/api/v1/orders", guarded(list_orders))
    router.add("DELETE", "/api/v1/orders", guarded(delete_market))
    router.add_prefix("GET", "/api/v1/orders/", guarded(one_order))
    router.add_prefix("DELETE", "/api/v1/orders/", guarded(delete_order))

    # --- relayer -------------------------------------------------------------------------------------
    def redeem(req: RestRequest) -> Any:
        w = proto.bearer(req)
        body = req.json()
        proto.verify_redemption(w, body)
        m = next((x for x in state.markets.values() if x.contract.lower() == str(body.get("marketAddress", "")).lower()
                  or x.market_id == body.get("conditionId")), None)  # fmt: skip
        if m is None:
            raise VenueRefusal("market not found", 404)
        paid = state.redeem(w, m)
        w.ctf_nonce += 1
        tx = "0x" + hashlib.sha256(f"redeem:{m.market_id}:{w.address}:{w.ctf_nonce}".encode()).hexdigest()
        state.redemptions.append({"market": m.market_id, "owner": w.address, "paid": paid, "tx_hash": tx})
        return {"success": True, "tx_hash": tx}

    def usdc_permit(req: RestRequest) -> Any:
        w = proto.bearer(req)
        body = req.json()
        proto._apply_permit(
            w,
            {**body, "nonce": body.get("nonce", w.permit_nonce)},
            str(body.get("spender", state.settlement)),
        )
        return {
            "success": True,
            "tx_hash": "0x" + hashlib.sha256(f"permit:{w.address}:{w.permit_nonce}".encode()).hexdigest(),
        }

    router.add("POST", "/api/v1/relayer/ctf-redemption", guarded(redeem))
    router.add("POST", "/api/v1/relayer/usdc-permit", guarded(usdc_permit))

    # --- the simulator's controls ----------------------------------------------------------------------
    def sim_trade(req: RestRequest) -> Any:
        body = req.json()
        fills = state.external_trade(str(body["marketId"]), int(body["outcome"]), int(body["side"]), int(body["price"]),
                                     int(body["size"]), proto.now_s())  # fmt: skip
        return {"trades": [f.id for f in fills]}

    def sim_resolve(req: RestRequest) -> Any:
        body = req.json()
        m = state.resolve(str(body["marketId"]), body.get("endPrice"), body.get("outcome"))
        return m.as_json(0)

    def sim_time(req: RestRequest) -> Any:
        proto.offset_s = int(req.json().get("offset_s", proto.offset_s))
        return {"now": proto.now_s()}

    def sim_state(req: RestRequest) -> Any:
        return {
            "now": proto.now_s(),
            "markets": [m.as_json(i) for i, m in enumerate(sorted(state.markets.values(), key=lambda m: m.start_s))],
            "wallets": [{"address": w.address, "usdc": w.usdc, "allowance": w.allowance, "permit_nonce": w.permit_nonce,
                         "ctf_nonce": w.ctf_nonce, "shares": {f"{k[0]}:{k[1]}": v for k, v in w.shares.items()}}
                        for w in state.wallets.values()],
            "redemptions": state.redemptions,
        }  # fmt: skip

    def sim_fund(req: RestRequest) -> Any:
        body = req.json()
        w = wallet_of(str(body["address"]))
        w.usdc = int(body.get("usdc", w.usdc))
        return {"address": w.address, "usdc": w.usdc}

    router.add("POST", "/_sim/trade", guarded(sim_trade))
    router.add("POST", "/_sim/resolve", guarded(sim_resolve))
    router.add("POST", "/_sim/time", guarded(sim_time))
    router.add("POST", "/_sim/fund", guarded(sim_fund))
    router.add("GET", "/_sim/state", guarded(sim_state))
