"""The private side of the local Polymarket: wallets, signed orders, matching against the replayed book
(across both outcome tokens), trades that settle on a simulated chain, heartbeats and resolution.

Matching works on one book per market in YES terms, as the venue does: a BUY of the second outcome
(NO) at p is an ask for YES at 1 - p, a SELL of NO at p a bid at 1 - p. So a taker buying YES can be
filled by a resting BUY NO (the venue mints the pair), and the trade reports that maker on *its* token
with *its* price — the case NautilusTrader's issue 3126 got wrong. Recorded liquidity ("external"
makers) is taken before our resting orders at the same price and is used up by what takes it until the
replay changes that level again; a resting order of ours fills when a taker — another account, or an
injected trade (`external_trade`) — reaches its price after the queue ahead of it.

Trades are MATCHED when made, then MINED and CONFIRMED by `settle()` (automatically or step by step),
or FAILED, which takes their balance changes back. Balances are the wallet's on-chain view: a match
changes them at once; `confirmed` is what the chain has finalised.

Written from Polymarket's documentation and the official clients (order and trade shapes, statuses);
the error texts are the documented ones where the documentation gives them.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tradewright.servers.polymarket.models import ClobError, Maker, MarketState, Resting, SimTrade, Wallet

__all__ = ["Clob", "ClobError", "Maker", "MarketState", "Resting", "SimTrade", "Wallet"]

_ZERO = Decimal(0)
_ONE = Decimal(1)
_MICRO = Decimal(1_000_000)


Push = Callable[[str, dict[str, Any]], None]  # (api key, user-channel message)


class Clob:
    """Orders, matching, trades and settlement (see the module docstring)."""

    def __init__(self, markets: dict[str, MarketState], wallets: list[Wallet], *, push: Push) -> None:
        self.markets = markets
        self.by_token: dict[str, MarketState] = {t: m for m in markets.values() for t in m.tokens}
        self.wallets = {w.api_key: w for w in wallets}
        self.orders: dict[str, Resting] = {}
        self.trades: dict[str, SimTrade] = {}
        self.trade_log: list[SimTrade] = []
        self._push = push
        self._seq = itertools.count(1)
        self.book_changed: Callable[[MarketState, set[Decimal]], None] = lambda m, prices: None

    # --- placing -------------------------------------------------------------------------------
    def place(
        self, wallet: Wallet, *, order_id: str, token_id: str, side: str, price: Decimal, size: Decimal,
        order_type: str, post_only: bool, expiration: int, now_ms: int, exchange: str,
    ) -> dict[str, Any]:  # fmt: skip
        """Validate, match, rest; the POST /order answer. Raises ClobError for a refusal."""
        market = self.by_token.get(token_id)
        if market is None:
            raise ClobError("Invalid order payload: unknown token id")
        if market.resolved_winner or not market.accepting_orders:
            raise ClobError("the market is not accepting orders")
        if order_id in self.orders or any(t.taker_order_id == order_id for t in self.trade_log):
            raise ClobError("order already exists (duplicate order hash)")
        tick = market.tick_size
        if price % tick != 0 or not tick <= price <= _ONE - tick:
            raise ClobError(f"order price {price} breaks the market's minimum tick size rule ({tick})")
        yes_side, yes_price = market.to_yes(token_id, side, price)
        marketable = self._crosses(market, yes_side, yes_price)
        if post_only and order_type not in ("GTC", "GTD"):
            raise ClobError("post-only is only allowed with GTC and GTD orders")
        if post_only and marketable:
            raise ClobError("invalid post-only order: order crosses book")
        if not marketable and order_type in ("GTC", "GTD") and size < market.min_size:
            raise ClobError(f"Size ({size}) lower than the minimum: {market.min_size}")
        if marketable and size * price < 1:
            raise ClobError(f"invalid amount for a marketable {side} order (${size * price}), min size: $1")
        if wallet.allowances.get(exchange.lower(), _ZERO) <= 0:
            raise ClobError(f"not enough balance / allowance: the exchange {exchange} is not approved")
        self._check_funds(wallet, market, token_id, side, price, size)
        if order_type == "FOK" and self._available(market, yes_side, yes_price, wallet.api_key) < size:
            raise ClobError("order couldn't be fully filled. FOK orders are fully filled or killed.")
        taker = Resting(
            order_id, wallet.api_key, wallet.address, market.condition_id, token_id, side, price, size,
            order_type, now_ms // 1000, expiration, yes_side, yes_price, _ZERO, next(self._seq),
            market.outcomes[market.index(token_id)],
        )  # fmt: skip
        trades = self._match(market, taker, wallet, now_ms) if marketable else []
        taken = sum((t.size for t in trades), _ZERO)
        if order_type in ("GTC", "GTD") and taker.leaves > 0:
            taker.queue_ahead = (market.bids if yes_side > 0 else market.asks).get(yes_price, _ZERO)
            self.orders[order_id] = taker
            self._push(wallet.api_key, self.order_message(taker, "PLACEMENT", now_ms))
            self.book_changed(market, {yes_price})
        elif taker.leaves > 0:
            taker.status = "CANCELED"  # FAK: the rest is killed
        status = "matched" if taken else ("live" if taker.status == "LIVE" else "unmatched")
        cost = sum((t.size * t.price for t in trades), _ZERO)
        making, taking = (cost, taken) if side == "BUY" else (taken, cost)
        return {
            "success": True, "errorMsg": "", "orderID": order_id, "status": status,
            "makingAmount": str(making), "takingAmount": str(taking),
            "transactionsHashes": [], "tradeIDs": [t.id for t in trades],
        }  # fmt: skip

    def _check_funds(
        self, wallet: Wallet, market: MarketState, token: str, side: str, price: Decimal, size: Decimal
    ) -> None:
        if side == "BUY":
            reserved = sum((o.leaves * o.price for o in self._open(wallet.api_key) if o.side == "BUY"), _ZERO)
            need = size * price + market.fees.fee_bound(price, size)
            if wallet.collateral - reserved < need:
                raise ClobError(
                    f"not enough balance / allowance: {wallet.collateral - reserved} available, {need} needed"
                )
        else:
            reserved = sum(
                (o.leaves for o in self._open(wallet.api_key) if o.token_id == token and o.side == "SELL"),
                _ZERO,
            )
            if wallet.token(token) - reserved < size:
                raise ClobError(
                    f"not enough balance / allowance: {wallet.token(token) - reserved} tokens available, {size} needed"
                )

    def _open(self, owner: str) -> list[Resting]:
        return [o for o in self.orders.values() if o.owner == owner and o.status == "LIVE"]

    def _crosses(self, market: MarketState, yes_side: int, yes_price: Decimal) -> bool:
        opposite = self._levels(market, -yes_side, exclude="")
        if not opposite:
            return False
        best = min(opposite) if yes_side > 0 else max(opposite)
        return best <= yes_price if yes_side > 0 else best >= yes_price

    def _levels(self, market: MarketState, yes_side: int, exclude: str) -> dict[Decimal, Decimal]:
        """Total size at each YES-terms price on one side: recorded plus resting orders."""
        levels = dict(market.bids if yes_side > 0 else market.asks)
        for o in self.orders.values():
            if (
                o.market == market.condition_id
                and o.yes_side == yes_side
                and o.status == "LIVE"
                and o.owner != exclude
            ):
                levels[o.yes_price] = levels.get(o.yes_price, _ZERO) + o.leaves
        return levels

    def _available(self, market: MarketState, yes_side: int, limit: Decimal, owner: str) -> Decimal:
        levels = self._levels(market, -yes_side, exclude=owner)
        return sum((q for p, q in levels.items() if (p <= limit if yes_side > 0 else p >= limit)), _ZERO)

    # --- matching --------------------------------------------------------------------------------
    def _match(
        self, market: MarketState, taker: Resting, wallet: Wallet | None, now_ms: int
    ) -> list[SimTrade]:
        """Fill `taker` against the other side, best price first; one trade per price level."""
        trades: list[SimTrade] = []
        touched: set[Decimal] = set()
        side = -taker.yes_side  # the side being taken
        recorded = market.asks if side < 0 else market.bids
        while taker.leaves > 0:
            levels = self._levels(market, side, exclude=taker.owner)
            prices = sorted(p for p in levels if (p <= taker.yes_price if side < 0 else p >= taker.yes_price))
            if side > 0:
                prices.reverse()
            if not prices:
                break
            level = prices[0]
            makers: list[tuple[Resting | None, Decimal]] = []
            want = taker.leaves
            external = recorded.get(level, _ZERO)
            take = min(external, want)
            if take > 0:
                makers.append((None, take))
                recorded[level] = external - take
                if recorded[level] == 0:
                    del recorded[level]
                want -= take
            for resting in sorted(
                (o for o in self.orders.values() if o.market == market.condition_id and o.yes_side == side
                 and o.yes_price == level and o.status == "LIVE" and o.owner != taker.owner),
                key=lambda o: o.seq,
            ):  # fmt: skip
                if want <= 0:
                    break
                take = min(resting.leaves, want)
                makers.append((resting, take))
                want -= take
            chunk = taker.leaves - want
            if chunk <= 0:
                break
            touched.add(level)
            trades.append(self._trade(market, taker, wallet, level, chunk, makers, now_ms))
        if touched:
            self.book_changed(market, touched)
        return trades

    def _trade(
        self, market: MarketState, taker: Resting, wallet: Wallet | None, yes_level: Decimal,
        size: Decimal, makers: list[tuple[Resting | None, Decimal]], now_ms: int,
    ) -> SimTrade:  # fmt: skip
        own_price = yes_level if market.index(taker.token_id) == 0 else _ONE - yes_level
        fee = market.fees.fee(own_price, size)
        trade = SimTrade(
            str(uuid.uuid4()), market.condition_id, taker.order_id, taker.owner, taker.maker_address,
            taker.token_id, taker.side, own_price, size, taker.outcome, [], now_ms // 1000,
            str((market.fees.rate * 10_000).normalize()) if market.fees.kind == "curve" else "0",
        )  # fmt: skip
        taker.matched += size
        if wallet is not None:
            self._move(trade, wallet, taker.token_id, size if taker.side == "BUY" else -size)
            self._move(
                trade,
                wallet,
                "",
                -(size * own_price + fee) if taker.side == "BUY" else size * own_price - fee,
            )
        for resting, amount in makers:
            if resting is None:
                # Recorded liquidity: an unnamed maker resting on the YES book at this level.
                trade.makers.append(
                    Maker("0x" + uuid.uuid4().hex * 2, "", "0x" + "00" * 20, amount, yes_level,
                          market.tokens[0], market.outcomes[0], "SELL" if taker.yes_side > 0 else "BUY")
                )  # fmt: skip
                continue
            resting.matched += amount
            resting.trades.append(trade.id)
            if resting.matched >= resting.size:
                resting.status = "MATCHED"
            holder = self.wallets.get(resting.owner)
            if holder is not None:
                self._move(trade, holder, resting.token_id, amount if resting.side == "BUY" else -amount)
                self._move(
                    trade,
                    holder,
                    "",
                    -amount * resting.price if resting.side == "BUY" else amount * resting.price,
                )
            trade.makers.append(
                Maker(resting.order_id, resting.owner, resting.maker_address, amount, resting.price,
                      resting.token_id, resting.outcome, resting.side)
            )  # fmt: skip
            self._push(resting.owner, self.order_message(resting, "UPDATE", now_ms))
        self.trades[trade.id] = trade
        self.trade_log.append(trade)
        for owner in trade.owners:
            self._push(owner, trade.message(owner, now_ms))
        return trade

    @staticmethod
    def _move(trade: SimTrade, wallet: Wallet, token: str, delta: Decimal) -> None:
        if token:
            wallet.tokens[token] = wallet.token(token) + delta
        else:
            wallet.collateral += delta
        trade.undo.append((wallet, token, delta))

    def external_trade(
        self, token_id: str, side: str, price: Decimal, size: Decimal, now_ms: int
    ) -> list[SimTrade]:
        """Someone else takes liquidity (a replayed trade or one injected by the admin endpoint):
        the queue ahead of our resting orders at that price goes first, then they fill."""
        market = self.by_token[token_id]
        yes_side, yes_price = market.to_yes(token_id, side, price)
        taker = Resting(
            "0x" + uuid.uuid4().hex * 2, "", "0x" + "11" * 20, market.condition_id, token_id, side, price, size,
            "FAK", now_ms // 1000, 0, yes_side, yes_price, _ZERO, next(self._seq), market.outcomes[market.index(token_id)],
        )  # fmt: skip
        side_taken = -yes_side
        ours = sorted(
            (o for o in self.orders.values() if o.market == market.condition_id and o.yes_side == side_taken and o.status == "LIVE"
             and (o.yes_price <= yes_price if side_taken < 0 else o.yes_price >= yes_price)),
            key=lambda o: (o.yes_price if side_taken < 0 else -o.yes_price, o.seq),
        )  # fmt: skip
        trades: list[SimTrade] = []
        for resting in ours:
            if taker.leaves <= 0:
                break
            if resting.yes_price == yes_price and resting.queue_ahead > 0:
                used = min(resting.queue_ahead, taker.leaves)
                resting.queue_ahead -= used
                taker.matched += used
                if taker.leaves <= 0:
                    break
            take = min(resting.leaves, taker.leaves)
            trades.append(
                self._trade(market, taker, None, resting.yes_price, take, [(resting, take)], now_ms)
            )
        if trades:
            self.book_changed(market, {o.yes_price for o in ours})
        return trades

    # --- cancelling --------------------------------------------------------------------------------
    def cancel(self, owner: str, order_ids: list[str], now_ms: int) -> dict[str, Any]:
        canceled, not_canceled = [], {}
        for oid in dict.fromkeys(order_ids):
            order = self.orders.get(oid)
            if order is None or order.owner != owner:
                not_canceled[oid] = "order not found"
            elif order.status != "LIVE":
                not_canceled[oid] = "already canceled or matched"
            else:
                self._end(order, "CANCELED", now_ms)
                canceled.append(oid)
        return {"canceled": canceled, "not_canceled": not_canceled}

    def cancel_where(self, owner: str, now_ms: int, *, market: str = "", token: str = "") -> dict[str, Any]:
        ids = [
            o.order_id
            for o in self._open(owner)
            if (not market or o.market == market) and (not token or o.token_id == token)
        ]
        return self.cancel(owner, ids, now_ms)

    def _end(self, order: Resting, status: str, now_ms: int) -> None:
        order.status = status
        self._push(order.owner, self.order_message(order, "CANCELLATION", now_ms))
        market = self.markets[order.market]
        self.book_changed(market, {order.yes_price})

    def expire(self, now_ms: int, wall_s: int) -> None:
        """GTD orders at their expiration (wall-clock seconds, as signed) less the venue's one-minute
        safety margin, reported as cancellations."""
        for order in list(self.orders.values()):
            if order.status == "LIVE" and order.order_type == "GTD" and 0 < order.expiration - 60 <= wall_s:
                self._end(order, "CANCELED", now_ms)

    # --- settlement and resolution ----------------------------------------------------------------------
    def settle(self, trade_id: str, status: str, now_ms: int) -> SimTrade:
        trade = self.trades[trade_id]
        if trade.status in ("CONFIRMED", "FAILED"):
            return trade
        trade.status = status
        if status == "CONFIRMED":
            for wallet, token, delta in trade.undo:
                if token:
                    wallet.confirmed_tokens[token] = wallet.confirmed_tokens.get(token, _ZERO) + delta
                else:
                    wallet.confirmed_collateral += delta
        elif status == "FAILED":
            for wallet, token, delta in trade.undo:
                if token:
                    wallet.tokens[token] = wallet.token(token) - delta
                else:
                    wallet.collateral -= delta
        for owner in trade.owners:
            self._push(owner, trade.message(owner, now_ms))
        return trade

    def resolve(self, condition_id: str, winning_token: str, now_ms: int) -> None:
        market = self.markets[condition_id]
        market.resolved_winner = winning_token
        market.accepting_orders = False
        for order in list(self.orders.values()):
            if order.market == condition_id and order.status == "LIVE":
                self._end(order, "CANCELED_MARKET_RESOLVED", now_ms)

    # --- views -------------------------------------------------------------------------------------
    def order_message(self, order: Resting, kind: str, now_ms: int) -> dict[str, Any]:
        return {
            "event_type": "order", "type": kind, **self.order_row(order),
            "order_owner": order.owner, "timestamp": str(now_ms),
        }  # fmt: skip

    @staticmethod
    def order_row(order: Resting) -> dict[str, Any]:
        return {
            "id": order.order_id, "status": order.status, "owner": order.owner, "maker_address": order.maker_address,
            "market": order.market, "asset_id": order.token_id, "side": order.side, "original_size": str(order.size),
            "size_matched": str(order.matched), "price": str(order.price), "associate_trades": order.trades or None,
            "outcome": order.outcome, "created_at": order.created_s, "expiration": str(order.expiration),
            "order_type": order.order_type,
        }  # fmt: skip

    def book(self, token_id: str) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """(bids, asks) of one token as the venue shows it (recorded plus resting orders)."""
        market = self.by_token[token_id]
        yes_bids = self._levels(market, 1, exclude="")
        yes_asks = self._levels(market, -1, exclude="")
        if market.index(token_id) == 0:
            bids, asks = yes_bids, yes_asks
        else:
            bids = {_ONE - p: q for p, q in yes_asks.items()}
            asks = {_ONE - p: q for p, q in yes_bids.items()}
        return (sorted(bids.items(), reverse=True), sorted(asks.items()))


def micro(value: Decimal) -> str:
    """A balance in the micro-units the balance-allowance endpoint answers with."""
    return str(int(value * _MICRO))
