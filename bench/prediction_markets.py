"""Prediction-market hot paths: signing orders offline, keeping a Polymarket book, pricing Dutch books.

- sign: Polymarket V2 orders (EIP-712, exact amounts) built and signed per second, and Turbine orders;
- book: `price_change` levels applied and cross-checked against the venue's top per second (the
  recorded 162-level `book` message as the starting book);
- arbitrage: buy-both and neg-risk (8 outcomes) baskets priced and sized per second over 50-level books.

Figures are the median of --repeats passes (order of magnitude only on a shared machine).

    python bench/prediction_markets.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import time
from decimal import Decimal

from _common import median_run, report, shared

from tradewright.core.ids import InstrumentId, Venue
from tradewright.model.enums import OrderSide
from tradewright.model.prediction import FeeSchedule
from tradewright.strategies.arbitrage import Leg, binary_baskets, evaluate, neg_risk_baskets
from tradewright.venues.polymarket.amounts import limit_amounts
from tradewright.venues.polymarket.books import TokenBooks
from tradewright.venues.polymarket.parsing import decode, parse_market_messages
from tradewright.venues.polymarket.schemas import PriceChangeMessage
from tradewright.venues.polymarket.signing import OrderV2, exchange_address, order_hash, sign_order
from tradewright.venues.turbine.signing import CHAINS, TurbineOrder
from tradewright.venues.turbine.signing import sign_order as turbine_sign

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # Hardhat #0 (public)
ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def bench_sign(n: int) -> tuple[float, float]:
    exchange = exchange_address(137, 2, neg_risk=False)

    def poly() -> float:
        start = time.perf_counter()
        for k in range(n):
            maker, taker = limit_amounts(0, Decimal("0.5"), Decimal(10 + k % 50), Decimal("0.01"))
            order = OrderV2(salt=k, maker=ADDRESS, signer=ADDRESS, token_id=1234, maker_amount=maker,
                            taker_amount=taker, side=0, signature_type=0, timestamp_ms=1_700_000_000_000 + k)  # fmt: skip
            sign_order(order, KEY, 137, exchange)
            order_hash(order, 137, exchange)
        return n / (time.perf_counter() - start)

    def turbine() -> float:
        start = time.perf_counter()
        for k in range(n):
            order = TurbineOrder(market_id="0x" + "ab" * 32, trader=ADDRESS, side=0, outcome=0, price=500_000,
                                 size=1_000_000 + k, nonce=k + 1, expiration=1_800_000_000)  # fmt: skip
            turbine_sign(order, KEY, 137, CHAINS[137].settlement)
        return n / (time.perf_counter() - start)

    return poly(), turbine()


def bench_book(n: int) -> float:
    [snapshot] = parse_market_messages(
        shared("venues/polymarket/nautilus_py/ws_messages/book.json").read_text()
    )
    token = snapshot.asset_id  # type: ignore[union-attr]
    books = TokenBooks()
    books.follow(token, Decimal("0.001"))
    books.on_snapshot(snapshot)  # type: ignore[arg-type]
    book = books.get(token)
    assert book is not None
    bid, ask = book.best_bid(), book.best_ask()
    changes = []
    for k in range(n):
        price = Decimal(300 + k % 150) / 1000  # levels deep in the bids: the top stays where it is
        changes.append(decode(PriceChangeMessage, {
            "market": "0xm", "timestamp": str(1_728_799_418_261 + k),
            "price_changes": [{"asset_id": token, "price": str(price), "side": "BUY", "size": str(100 + k % 7),
                               "best_bid": str(bid), "best_ask": str(ask)}],
        }, "price change"))  # fmt: skip
    start = time.perf_counter()
    for msg in changes:
        books.on_price_change(msg)
    return n / (time.perf_counter() - start)


def bench_arbitrage(n: int) -> tuple[float, float]:
    v = Venue("POLYMARKET")
    fees = FeeSchedule(kind="curve", rate=Decimal("0.02"), exponent=1)
    asks = [(Decimal(440 + k) / 1000, Decimal(100)) for k in range(50)]
    bids = [(Decimal(430 - k) / 1000, Decimal(100)) for k in range(50)]
    yes, no = InstrumentId("y", v), InstrumentId("n", v)
    binary = binary_baskets(Leg(yes, OrderSide.BUY, asks, fees), Leg(no, OrderSide.BUY, asks, fees),
                            Leg(yes, OrderSide.SELL, bids, fees), Leg(no, OrderSide.SELL, bids, fees))  # fmt: skip
    ids = [InstrumentId(f"o{i}", v) for i in range(8)]
    cheap = [(Decimal(110 + k) / 1000, Decimal(50)) for k in range(50)]
    neg = neg_risk_baskets([Leg(i, OrderSide.BUY, cheap, fees) for i in ids], [Leg(i, OrderSide.SELL, bids, fees) for i in ids],
                           [Leg(i, OrderSide.BUY, asks, fees) for i in ids])  # fmt: skip
    start = time.perf_counter()
    for _ in range(n):
        for basket in binary:
            evaluate(basket)
    binary_rate = n / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(n):
        for basket in neg:
            evaluate(basket)
    return binary_rate, n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    poly = median_run(lambda: bench_sign(300)[0], args.repeats)[0]
    turb = median_run(lambda: bench_sign(300)[1], args.repeats)[0]
    book = median_run(lambda: bench_book(20_000), args.repeats)[0]
    binary = median_run(lambda: bench_arbitrage(500)[0], args.repeats)[0]
    neg = median_run(lambda: bench_arbitrage(200)[1], args.repeats)[0]
    rows = [
        ("polymarket v2 orders signed + hashed /s", f"{poly:,.0f}"),
        ("turbine orders signed /s", f"{turb:,.0f}"),
        ("polymarket price_change levels applied + checked /s", f"{book:,.0f}"),
        ("binary markets priced (buy both + sell both, 50 levels) /s", f"{binary:,.0f}"),
        ("neg-risk events priced (8 outcomes, 50 levels) /s", f"{neg:,.0f}"),
    ]
    report(
        f"prediction markets (median of {args.repeats}; reproduce: python bench/prediction_markets.py)",
        rows,
    )
    print(json.dumps({k: v for k, v in rows}))


if __name__ == "__main__":
    main()
