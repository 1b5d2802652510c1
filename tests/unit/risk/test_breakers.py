"""C4 circuit breakers: each trips its scope to REDUCING or HALTED as configured, says why, and resets
only by an explicit command or after its cool-down — never silently."""

from __future__ import annotations

from tests.unit.risk.kit import Bench, D, denial, sim_run
from tradewright.model.enums import OrderSide, OrderStatus
from tradewright.model.events import BreakerReset, BreakerTripped, TradingState, TradingStateChanged
from tradewright.risk import venue_scope
from tradewright.testkit import StreamRows, btc_perp, make_instrument
from tradewright.testkit.scripted import Action

BTC = btc_perp()
ETH = make_instrument("ETHUSDT-PERP", "BYBIT", tick="0.01", lot="0.01")
BUY, SELL = OrderSide.BUY, OrderSide.SELL


def bench(**risk: object) -> Bench:
    b = Bench(BTC, ETH, **risk)  # type: ignore[arg-type]
    b.book(BTC, [(1000, 5_000)], [(1001, 5_000)])
    b.book(ETH, [(5000, 500)], [(5002, 500)])
    return b


def trips(b: Bench) -> list[tuple[str, str, str, TradingState]]:
    return [(t.breaker, t.scope, t.target, t.action) for t in b.log.of(BreakerTripped)]


# --- rejects --------------------------------------------------------------------------------------
def test_consecutive_rejects_halt_the_venue_and_an_accept_resets_the_count() -> None:
    b = bench(breaker_consecutive_rejects=3)
    for _ in range(2):
        b.reject(b.submit(BTC, BUY, "0.001", "99.0"))
    b.ack(b.submit(BTC, BUY, "0.001", "99.0"))  # streak broken
    for _ in range(2):
        b.reject(b.submit(BTC, BUY, "0.001", "99.0"))
    assert trips(b) == []
    b.reject(b.submit(BTC, BUY, "0.001", "99.0"), "insufficient_margin")
    assert trips(b) == [("consecutive_rejects", "venue", "BINANCE", TradingState.HALTED)]
    assert "insufficient_margin" in b.log.of(BreakerTripped)[0].reason
    assert denial(b.submit(BTC, BUY, "0.001", "99.0")) == "trading_halted"
    assert b.submit(ETH, BUY, "0.01", "49.0").status is OrderStatus.SUBMITTED  # other venue trades on


def test_post_only_rejections_are_ignored_by_default() -> None:
    b = bench(breaker_consecutive_rejects=1)
    b.reject(b.submit(BTC, BUY, "0.001", "100.1", post_only=True), "post_only_would_take")
    assert trips(b) == []


def test_a_burst_of_rejects_within_the_window_trips_as_configured() -> None:
    b = bench(
        breaker_reject_burst_count=3, breaker_reject_burst_window_ms=1000, breaker_rejects_action="reducing"
    )
    b.reject(b.submit(BTC, BUY, "0.001", "99.0"))
    b.at(600)
    b.reject(b.submit(BTC, BUY, "0.001", "99.0"))
    b.at(1200)  # the first reject has left the window
    b.reject(b.submit(BTC, BUY, "0.001", "99.0"))
    assert trips(b) == []
    b.at(1300)
    b.reject(b.submit(BTC, BUY, "0.001", "99.0"))
    assert trips(b) == [("reject_burst", "venue", "BINANCE", TradingState.REDUCING)]


def test_rejects_through_the_simulated_venue_trip_the_breaker() -> None:
    # Post-only bids at the ask: the simulated venue rejects each one ("post_only_would_take").
    stream = StreamRows(BTC).snapshot(0, bids=[(1000, 5)], asks=[(1001, 5)]).trade(50, 1, 1001, 1).build()

    def crossing_bid(ctx: object) -> object:
        return ctx.submit(BTC.id, BUY, D("0.001"), D("100.1"), post_only=True)  # type: ignore[attr-defined]

    actions: list[tuple[float, Action]] = [(1, crossing_bid), (10, crossing_bid), (20, crossing_bid)]
    run = sim_run(stream, actions, breaker_consecutive_rejects=2, breaker_ignore_reject_reasons=[])
    assert [t.breaker for t in run.log.of(BreakerTripped)] == ["consecutive_rejects"]
    assert run.spy.submitted == [run.order(0).client_order_id, run.order(1).client_order_id]
    assert run.order(2).status is OrderStatus.DENIED
    assert run.risk.summary()["trading_state"] == "HALTED"


# --- latency --------------------------------------------------------------------------------------
def test_a_slow_ack_trips_the_latency_breaker_on_the_kernel_clock() -> None:
    b = bench(breaker_ack_latency_ms=50)
    fast = b.submit(BTC, BUY, "0.001", "99.0")
    b.at(40)
    b.ack(fast)
    slow = b.submit(BTC, BUY, "0.001", "99.0")
    b.at(100)
    b.ack(slow)  # 60 ms after it was sent
    assert trips(b) == [("ack_latency", "venue", "BINANCE", TradingState.REDUCING)]
    assert "60 ms" in b.log.of(BreakerTripped)[0].reason
    assert denial(b.submit(BTC, BUY, "0.001", "99.0")) == "trading_reducing"


def test_a_venue_that_never_answers_trips_the_latency_breaker() -> None:
    b = bench(breaker_ack_latency_ms=50, monitor_interval_ms=10)
    b.submit(BTC, BUY, "0.001", "99.0")
    b.at(50)
    assert trips(b) == []
    b.at(70)
    assert trips(b) == [("ack_latency", "venue", "BINANCE", TradingState.REDUCING)]
    assert "no answer" in b.log.of(BreakerTripped)[0].reason


def test_the_latency_breaker_through_the_simulated_venue() -> None:
    stream = StreamRows(BTC).snapshot(0, bids=[(1000, 5)], asks=[(1001, 5)]).trade(100, -1, 1000, 1).build()
    actions: list[tuple[float, Action]] = [
        (1, lambda ctx: ctx.submit(BTC.id, BUY, D("0.001"), D("99.0"))),
        (60, lambda ctx: ctx.submit(BTC.id, BUY, D("0.001"), D("99.0"))),
    ]
    run = sim_run(stream, actions, latency_ms=20, breaker_ack_latency_ms=30)  # ack after 40 ms
    assert [t.breaker for t in run.log.of(BreakerTripped)] == ["ack_latency"]
    assert run.order(1).status is OrderStatus.DENIED
    assert run.order(1).client_order_id not in run.spy.submitted


# --- market anomaly ---------------------------------------------------------------------------------
def test_a_price_move_beyond_the_limit_within_the_window_trips_the_instrument() -> None:
    b = bench(breaker_price_move_pct=D(5), breaker_price_move_window_ms=10_000, monitor_interval_ms=100)
    b.at(100)
    b.book(BTC, [(1040, 5)], [(1041, 5)])  # +4 %
    b.at(200)
    assert trips(b) == []
    b.book(BTC, [(1060, 5)], [(1061, 5)])  # +6 % within 10 s
    b.at(300)
    assert trips(b) == [("price_move", "instrument", str(BTC.id), TradingState.REDUCING)]
    assert "6.00 %" in b.log.of(BreakerTripped)[0].reason
    assert b.submit(ETH, BUY, "0.01", "49.0").status is OrderStatus.SUBMITTED


def test_a_slow_drift_outside_the_window_does_not_trip() -> None:
    b = bench(breaker_price_move_pct=D(5), breaker_price_move_window_ms=1_000, monitor_interval_ms=100)
    for step in range(1, 11):  # +1 % a second for 10 s
        b.book(BTC, [(1000 + 10 * step, 5)], [(1001 + 10 * step, 5)])
        b.at(1000 * step)
    assert trips(b) == []


def test_a_crossed_or_emptied_book_trips_at_the_next_order() -> None:
    b = bench(breaker_crossed_book=True, breaker_empty_book=True, breaker_market_action="halted")
    b.at(100)  # the monitor has seen both books two-sided
    b.book(BTC, [(1002, 5)], [(1001, 5)])
    assert denial(b.submit(BTC, BUY, "0.001", "99.0")) == "trading_halted"
    b.book(ETH, [(5000, 5)], [])
    assert denial(b.submit(ETH, BUY, "0.01", "49.0")) == "trading_halted"
    assert trips(b) == [
        ("crossed_book", "instrument", str(BTC.id), TradingState.HALTED),
        ("empty_book", "instrument", str(ETH.id), TradingState.HALTED),
    ]


def test_a_book_that_was_never_two_sided_is_not_an_anomaly() -> None:
    # A node that has just subscribed has empty books: that is not a market anomaly.
    b = Bench(BTC, breaker_empty_book=True)
    b.at(1_000)
    b.book(BTC, [(1000, 5)], [])
    assert denial(b.submit(BTC, BUY, "0.001", "99.0")) == ""


# --- resets ---------------------------------------------------------------------------------------
def test_a_breaker_resets_after_its_cool_down_and_says_so() -> None:
    b = bench(breaker_consecutive_rejects=1, breaker_cooldown_ms=5_000)
    b.reject(b.submit(BTC, BUY, "0.001", "99.0"))
    b.at(4_999)
    assert denial(b.submit(BTC, BUY, "0.001", "99.0")) == "trading_halted"
    b.at(5_000)
    resets = b.log.of(BreakerReset)
    assert [(r.breaker, r.reason) for r in resets] == [
        ("consecutive_rejects", "cool-down of 5000 ms elapsed")
    ]
    assert [c.state for c in b.log.of(TradingStateChanged)] == [TradingState.HALTED, TradingState.ACTIVE]
    assert denial(b.submit(BTC, BUY, "0.001", "99.0")) == ""


def test_without_a_cool_down_only_an_explicit_reset_lifts_a_breaker() -> None:
    b = bench(breaker_consecutive_rejects=1)
    b.reject(b.submit(BTC, BUY, "0.001", "99.0"))
    b.at(3_600_000)
    assert denial(b.submit(BTC, BUY, "0.001", "99.0")) == "trading_halted"
    b.risk.reset(scope=venue_scope(BTC.id.venue), reason="operator: venue checked")
    assert denial(b.submit(BTC, BUY, "0.001", "99.0")) == ""
    assert b.log.of(BreakerReset)[0].reason == "operator: venue checked"


def test_the_monitor_costs_one_stop_per_interval_not_one_per_market_data_row() -> None:
    rows = StreamRows(BTC).snapshot(0, bids=[(1000, 5)], asks=[(1001, 5)])
    for i in range(1, 2_000):  # 2 000 book updates over 1 s
        rows.level(i * 0.5, 1, 1000, 5 + i % 7)
    stream = rows.build()
    quiet = sim_run(stream, [])
    watched = sim_run(stream, [], breaker_price_move_pct=D(5), monitor_interval_ms=100)
    extra = watched.result.stops["scheduled"] - quiet.result.stops["scheduled"]
    assert extra == 9  # ticks at 100, 200, ..., 900 ms (the data ends at 999.5 ms)
