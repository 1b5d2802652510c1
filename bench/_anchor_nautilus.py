"""bench/anchors.py cases on NautilusTrader (the rules are in that script's docstring).

The ES stream is read with tradewright's loader (timed as loading) and turned into NautilusTrader's
own records: an `OrderBookDelta` per level update (ADD / UPDATE / DELETE, F_LAST on the last row of
each message, so the data engine hands the strategy one `OrderBookDeltas` per message) and a
`TradeTick` per trade; building them is timed apart. The venue keeps an L2 (MBP) book, fills resting
orders on trades (`trade_execution=True`) and delays commands by 1 ms (NautilusTrader's latency model
has no response latency). The risk engine is bypassed, as tradewright's benchmark runs have none.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import numpy as np
from _common import es_stream, shared
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.models import LatencyModel
from nautilus_trader.common.actor import Actor
from nautilus_trader.config import (
    ActorConfig,
    BacktestEngineConfig,
    LoggingConfig,
    RiskEngineConfig,
    StrategyConfig,
)
from nautilus_trader.data.config import DataEngineConfig
from nautilus_trader.indicators import SimpleMovingAverage
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import Bar, BarType, BookOrder, OrderBookDelta, TradeTick
from nautilus_trader.model.enums import (
    AccountType,
    AggressorSide,
    AssetClass,
    BookAction,
    BookType,
    OmsType,
    OrderSide,
    RecordFlag,
)
from nautilus_trader.model.identifiers import InstrumentId, Symbol, TradeId, Venue
from nautilus_trader.model.instruments import CryptoPerpetual, FuturesContract
from nautilus_trader.model.objects import Currency, Money, Price, Quantity
from nautilus_trader.trading.strategy import Strategy

from tradewright.model.columnar import F_LAST, KIND_DELTA, KIND_TRADE

VENUE = Venue("GLBX")
ES_ID = InstrumentId(Symbol("ESH4"), VENUE)
MULT = 50


def _es_instrument() -> FuturesContract:
    return FuturesContract(
        instrument_id=ES_ID,
        raw_symbol=Symbol("ESH4"),
        asset_class=AssetClass.INDEX,
        exchange="XCME",
        currency=USD,
        price_precision=2,
        price_increment=Price.from_str("0.25"),
        multiplier=Quantity.from_int(MULT),
        lot_size=Quantity.from_int(1),
        underlying="ES",
        activation_ns=1_600_000_000_000_000_000,
        expiration_ns=1_710_509_400_000_000_000,
        ts_event=0,
        ts_init=0,
        maker_fee=Decimal(0),
        taker_fee=Decimal(0),
    )


def _es_records() -> tuple[list[Any], float, float, int]:
    """NautilusTrader records of the ES stream; (records, load s, build s, events)."""
    t0 = time.perf_counter()
    s = es_stream()
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    kind, side, tick, lots, flags, ts = (s.kind, s.side, s.tick, s.lots, s.flags, s.ts_recv)
    levels: dict[int, set[int]] = {1: set(), -1: set()}
    out: list[Any] = []
    n_trade = 0
    for k in range(len(s)):
        kd = int(kind[k])
        t = int(ts[k])
        px = Price(int(tick[k]) * 0.25, 2)
        if kd == KIND_DELTA:
            sd = int(side[k])
            q = int(lots[k])
            held = levels[sd]
            tk = int(tick[k])
            if q == 0:
                if tk not in held:
                    continue
                held.discard(tk)
                action = BookAction.DELETE
            elif tk in held:
                action = BookAction.UPDATE
            else:
                held.add(tk)
                action = BookAction.ADD
            order = BookOrder(OrderSide.BUY if sd > 0 else OrderSide.SELL, px, Quantity(q, 0), 0)
            flag = RecordFlag.F_LAST if flags[k] & F_LAST else 0
            out.append(OrderBookDelta(ES_ID, action, order, flag, 0, t, t))
        elif kd == KIND_TRADE:
            n_trade += 1
            aggressor = AggressorSide.BUYER if side[k] > 0 else AggressorSide.SELLER
            out.append(
                TradeTick(ES_ID, px, Quantity(int(lots[k]), 0), aggressor, TradeId(str(n_trade)), t, t)
            )
    return out, load_s, time.perf_counter() - t0, len(s)


def _engine(book: bool) -> BacktestEngine:
    config = BacktestEngineConfig(
        logging=LoggingConfig(bypass_logging=True),
        risk_engine=RiskEngineConfig(bypass=True),
        data_engine=DataEngineConfig(buffer_deltas=True),
        run_analysis=False,
    )
    engine = BacktestEngine(config=config)
    engine.add_venue(
        venue=VENUE,
        oms_type=OmsType.NETTING,
        account_type=AccountType.MARGIN,
        base_currency=USD,
        starting_balances=[Money(1_000_000_000, USD)],
        book_type=BookType.L2_MBP if book else BookType.L1_MBP,
        latency_model=LatencyModel(base_latency_nanos=1_000_000),
        trade_execution=True,
    )
    return engine


class MarketMaker(Strategy):
    """1 lot post-only at the touch on both sides, |position| <= 5; cancel/replace when the touch moves."""

    def __init__(self) -> None:
        super().__init__(StrategyConfig(strategy_id="MM-001"))
        self.one = Quantity.from_int(1)
        self.quotes: dict[OrderSide, Any] = {OrderSide.BUY: None, OrderSide.SELL: None}
        self.touch: tuple[Any, Any] | None = None
        self.calls = 0
        self.position = 0
        self.cash = Decimal(0)
        self.fills = 0
        self.orders = 0

    def on_start(self) -> None:
        self.subscribe_order_book_deltas(ES_ID, BookType.L2_MBP)

    def on_order_book_deltas(self, deltas: Any) -> None:
        self.calls += 1
        self.requote()

    def requote(self) -> None:
        book = self.cache.order_book(ES_ID)
        bid, ask = book.best_bid_price(), book.best_ask_price()
        if bid is None or ask is None or (bid, ask) == self.touch:
            return
        self.touch = (bid, ask)
        self._quote(OrderSide.BUY, bid if self.position + 1 <= 5 else None)
        self._quote(OrderSide.SELL, ask if self.position - 1 >= -5 else None)

    def _quote(self, side: OrderSide, price: Any) -> None:
        current = self.quotes[side]
        if current is not None:
            order, px = current
            if not order.is_closed and px == price:
                return
            if not order.is_closed:
                self.cancel_order(order)
            self.quotes[side] = None
        if price is None:
            return
        order = self.order_factory.limit(ES_ID, side, self.one, price, post_only=True)
        self.submit_order(order)
        self.orders += 1
        self.quotes[side] = (order, price)

    def on_order_filled(self, event: Any) -> None:
        qty = int(event.last_qty)
        sign = 1 if event.order_side == OrderSide.BUY else -1
        self.position += sign * qty
        self.cash -= sign * Decimal(str(event.last_px)) * qty * MULT
        self.fills += 1
        self.touch = None
        self.requote()

    def on_order_canceled(self, event: Any) -> None:
        self.touch = None
        self.requote()

    def on_order_rejected(self, event: Any) -> None:
        pass  # like tradewright's quoter: wait for the touch to move


def mm_every() -> dict[str, Any]:
    records, load_s, build_s, events = _es_records()
    t0 = time.perf_counter()
    engine = _engine(book=True)
    engine.add_instrument(_es_instrument())
    engine.add_data(records)
    del records
    strategy = MarketMaker()
    engine.add_strategy(strategy)
    build_s += time.perf_counter() - t0
    t0 = time.perf_counter()
    engine.run()
    run_s = time.perf_counter() - t0
    book = strategy.cache.order_book(ES_ID)
    mid = (Decimal(str(book.best_bid_price())) + Decimal(str(book.best_ask_price()))) / 2
    pnl = strategy.cash + strategy.position * mid * MULT
    engine.dispose()
    return {
        "events": events,
        "load_s": load_s,
        "build_s": build_s,
        "warmup_s": 0.0,
        "run_s": run_s,
        "outcome": {
            "strategy_calls": strategy.calls,
            "orders": strategy.orders,
            "fills": strategy.fills,
            "position": str(strategy.position),
            "pnl_usd": str(pnl),
        },
    }


class TopReader(Actor):
    """No strategy: keeps the book (the data engine maintains it for a subscriber) and looks at its top
    once a second of data time, as tradewright's replay samples its top on a 1 s grid."""

    def __init__(self) -> None:
        super().__init__(ActorConfig(component_id="TOP"))

    def on_start(self) -> None:
        self.subscribe_order_book_at_interval(ES_ID, BookType.L2_MBP, depth=1, interval_ms=1000)

    def on_order_book(self, order_book: Any) -> None:
        pass


def replay() -> dict[str, Any]:
    records, load_s, build_s, events = _es_records()
    t0 = time.perf_counter()
    engine = _engine(book=True)
    engine.add_instrument(_es_instrument())
    engine.add_data(records)
    del records
    reader = TopReader()
    engine.add_actor(reader)
    build_s += time.perf_counter() - t0
    t0 = time.perf_counter()
    engine.run()
    run_s = time.perf_counter() - t0
    book = reader.cache.order_book(ES_ID)
    outcome = {"best_bid": str(book.best_bid_price()), "best_ask": str(book.best_ask_price())}
    engine.dispose()
    return {
        "events": events,
        "load_s": load_s,
        "build_s": build_s,
        "warmup_s": 0.0,
        "run_s": run_s,
        "outcome": outcome,
    }


BTC_ID = InstrumentId(Symbol("BTC-PERP"), Venue("FTX"))


class SmaCross(Strategy):
    """SMA(10)/SMA(30) on close, long-only, all in / all out with market orders."""

    def __init__(self, bar_type: BarType) -> None:
        super().__init__(StrategyConfig(strategy_id="SMA-001"))
        self.bar_type = bar_type
        self.fast, self.slow = SimpleMovingAverage(10), SimpleMovingAverage(30)
        self.above: bool | None = None
        self.held = Decimal(0)
        self.trips = 0

    def on_start(self) -> None:
        self.register_indicator_for_bars(self.bar_type, self.fast)
        self.register_indicator_for_bars(self.bar_type, self.slow)
        self.subscribe_bars(self.bar_type)

    def on_bar(self, bar: Bar) -> None:
        if not self.slow.initialized:
            return
        above = self.fast.value > self.slow.value
        if above is self.above:
            return
        was, self.above = self.above, above
        if was is None:
            return
        if above and not self.held:
            cash = self.portfolio.account(Venue("FTX")).balance_free(USD).as_decimal()
            qty = (cash / Decimal(str(bar.close))).quantize(Decimal("0.0001"), rounding="ROUND_DOWN")
            self.held = qty
            self.submit_order(self.order_factory.market(BTC_ID, OrderSide.BUY, Quantity(qty, 4)))
        elif not above and self.held:
            self.submit_order(self.order_factory.market(BTC_ID, OrderSide.SELL, Quantity(self.held, 4)))
            self.held = Decimal(0)
            self.trips += 1


def sma_bars() -> dict[str, Any]:
    from tradewright.data.bars import load_bench_bars

    t0 = time.perf_counter()
    series = load_bench_bars(shared("bench/btc_1m_bench.csv.gz"))
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    instrument = CryptoPerpetual(
        instrument_id=BTC_ID,
        raw_symbol=Symbol("BTC-PERP"),
        base_currency=Currency.from_str("BTC"),
        quote_currency=USD,
        settlement_currency=USD,
        is_inverse=False,
        price_precision=2,
        size_precision=4,
        price_increment=Price.from_str("0.01"),
        size_increment=Quantity.from_str("0.0001"),
        ts_event=0,
        ts_init=0,
        maker_fee=Decimal(0),
        taker_fee=Decimal(0),
    )
    bar_type = BarType.from_str("BTC-PERP.FTX-1-MINUTE-LAST-EXTERNAL")
    close_ts = series.ts_open_ns + series.interval_ns
    bars = [
        Bar(
            bar_type,
            Price(o, 2),
            Price(h, 2),
            Price(lo, 2),
            Price(c, 2),
            Quantity(1_000_000, 4),
            int(t),
            int(t),
        )
        for o, h, lo, c, t in zip(
            np.round(series.open, 2).tolist(),
            np.round(series.high, 2).tolist(),
            np.round(series.low, 2).tolist(),
            np.round(series.close, 2).tolist(),
            close_ts.tolist(),
            strict=True,
        )
    ]
    config = BacktestEngineConfig(
        logging=LoggingConfig(bypass_logging=True),
        risk_engine=RiskEngineConfig(bypass=True),
        run_analysis=False,
    )
    engine = BacktestEngine(config=config)
    engine.add_venue(
        venue=Venue("FTX"),
        oms_type=OmsType.NETTING,
        account_type=AccountType.MARGIN,
        base_currency=USD,
        starting_balances=[Money(100_000, USD)],
        bar_execution=True,
    )
    engine.add_instrument(instrument)
    engine.add_data(bars)
    del bars
    strategy = SmaCross(bar_type)
    engine.add_strategy(strategy)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    engine.run()
    run_s = time.perf_counter() - t0
    equity = engine.portfolio.account(Venue("FTX")).balance_total(USD)
    outcome = {"round_trips": strategy.trips, "final_cash_usd": str(equity)}
    engine.dispose()
    return {
        "events": len(series),
        "load_s": load_s,
        "build_s": build_s,
        "warmup_s": 0.0,
        "run_s": run_s,
        "outcome": outcome,
    }


CASES = {"A-every": mm_every, "B-replay": replay, "C-sma": sma_bars}
