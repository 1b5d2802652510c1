"""Binary-market backtests: both outcome books, queue-aware and cross-token fills, market end, tick
changes, several markets in one run, and the payout at resolution in PnL."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from tradewright.backtest.binary import BinaryBacktest
from tradewright.core.ids import Venue
from tradewright.data.binary_recording import (
    BinaryRecordingWriter,
    BinaryRow,
    load_binary_recording,
)
from tradewright.model.enums import LiquiditySide, OrderSide, TimeInForce
from tradewright.model.prediction import BinaryMarket, FeeSchedule, OutcomeToken
from tradewright.testkit.scripted import ScriptedStrategy

T0 = 1_700_000_000_000_000_000
MS = 1_000_000
D = Decimal


def market(
    market_id: str = "0xm1",
    *,
    fees: FeeSchedule | None = None,
    end_ns: int | None = None,
    venue: str = "POLYMARKET",
) -> BinaryMarket:
    return BinaryMarket(
        venue=Venue(venue),
        market_id=market_id,
        question=f"Question {market_id}?",
        tokens=(
            OutcomeToken(token_id=f"{market_id}y", outcome="Yes", index=0),
            OutcomeToken(token_id=f"{market_id}n", outcome="No", index=1),
        ),
        tick_size=D("0.01"),
        lot_size=D("0.01"),
        min_size=D("1"),
        fees=fees or FeeSchedule(),
        collateral="pUSD",
        end_ns=end_ns,
    )


def book_rows(ts: int, token: str, bids: dict[str, str], asks: dict[str, str]) -> list[BinaryRow]:
    rows = [BinaryRow(ts, ts, "clear", token, last=False)]
    rows += [BinaryRow(ts, ts, "level", token, 1, D(p), D(s), last=False) for p, s in bids.items()]
    rows += [BinaryRow(ts, ts, "level", token, -1, D(p), D(s), last=False) for p, s in asks.items()]
    rows[-1].last = True
    return rows


def coherent_books(ts: int, m: BinaryMarket) -> list[BinaryRow]:
    """YES 0.40 x 100 / 0.45 x 50, and the NO book the venue shows for it (its mirror)."""
    yes, no = (t.token_id for t in m.tokens)
    return book_rows(ts, yes, {"0.40": "100"}, {"0.45": "50"}) + book_rows(
        ts, no, {"0.55": "50"}, {"0.60": "100"}
    )


def write(folder: Path, m: BinaryMarket, rows: list[BinaryRow]) -> Path:
    writer = BinaryRecordingWriter(folder / m.market_id, m)
    for row in rows:
        writer.add(row)
    writer.close()
    return folder / m.market_id


def run(tmp_path: Path, markets: list[tuple[BinaryMarket, list[BinaryRow]]], actions, balance: str = "100"):
    recordings = [load_binary_recording(write(tmp_path, m, rows)) for m, rows in markets]
    events = io.BytesIO()
    bt = BinaryBacktest(recordings, starting_balance=D(balance), events_file=events)
    strategy = ScriptedStrategy(markets[0][0].instrument_id(0), actions)
    bt.add_strategy(strategy)
    return bt, bt.run(), strategy, events


def buy_no(m: BinaryMarket, price: str, size: str, tif: TimeInForce = TimeInForce.GTC):
    return lambda ctx: ctx.submit(m.instrument_id(1), OrderSide.BUY, D(size), D(price), time_in_force=tif)


def test_resting_buy_no_is_filled_by_yes_takers_after_its_queue_and_booked_as_buy_no(tmp_path: Path) -> None:
    m = market()
    yes = m.tokens[0].token_id
    rows = [
        *coherent_books(T0, m),
        BinaryRow(T0 + 20 * MS, T0 + 20 * MS, "trade", yes, 1, D("0.45"), D("30")),  # 50 ahead -> 20
        BinaryRow(T0 + 30 * MS, T0 + 30 * MS, "trade", yes, 1, D("0.45"), D("25")),  # 5 reach us
        BinaryRow(T0 + 40 * MS, T0 + 40 * MS, "trade", yes, 1, D("0.46"), D("1")),  # prints through us
    ]
    _bt, result, strategy, _ = run(tmp_path, [(m, rows)], [(T0 / MS + 10, buy_no(m, "0.55", "10"))])

    fills = [(f.instrument_id, f.side, f.last_px, f.last_qty, f.liquidity) for f in strategy.fills]
    no = m.instrument_id(1)
    assert fills == [
        (no, OrderSide.BUY, D("0.55"), D("5"), LiquiditySide.MAKER),
        (no, OrderSide.BUY, D("0.55"), D("5"), LiquiditySide.MAKER),
    ]
    assert result.cross_token_fills == 2
    assert result.kernel.portfolio.find_position(no).quantity == D("10")  # type: ignore[union-attr]
    assert result.kernel.portfolio.find_position(m.instrument_id(0)) is None


def test_trades_on_the_other_side_or_price_leave_the_queue_alone(tmp_path: Path) -> None:
    m = market()
    yes, no = (t.token_id for t in m.tokens)
    rows = [
        *coherent_books(T0, m),
        BinaryRow(T0 + 20 * MS, T0 + 20 * MS, "trade", yes, -1, D("0.45"), D("500")),  # a YES seller
        BinaryRow(T0 + 21 * MS, T0 + 21 * MS, "trade", no, 1, D("0.60"), D("500")),  # buys NO above us
        BinaryRow(T0 + 22 * MS, T0 + 22 * MS, "trade", yes, 1, D("0.44"), D("500")),  # below our level
    ]
    bt, _, strategy, _ = run(tmp_path, [(m, rows)], [(T0 / MS + 10, buy_no(m, "0.55", "10"))])

    assert strategy.fills == []
    cid = strategy.results[0]
    assert bt.venue_of(m.market_id).queue_ahead(cid) is None  # cancelled at the end of the run
    (order,) = bt.kernel.orders.all_orders
    assert (order.status.value, order.filled_qty) == ("CANCELED", 0)


def test_a_no_seller_at_our_price_consumes_the_same_queue_as_a_yes_buyer(tmp_path: Path) -> None:
    m = market()
    no = m.tokens[1].token_id
    rows = [
        *coherent_books(T0, m),
        BinaryRow(T0 + 20 * MS, T0 + 20 * MS, "trade", no, -1, D("0.55"), D("52")),  # 50 ahead, 2 to us
    ]
    _, result, strategy, _ = run(tmp_path, [(m, rows)], [(T0 / MS + 10, buy_no(m, "0.55", "10"))])

    assert [(f.last_qty, f.last_px) for f in strategy.fills] == [(D("2"), D("0.55"))]
    assert result.cross_token_fills == 0


def test_a_taker_buying_yes_matches_the_mirrored_no_bids_and_pays_the_curve_fee(tmp_path: Path) -> None:
    m = market(fees=FeeSchedule(kind="curve", rate=D("0.072"), exponent=1))
    yes, no = (t.token_id for t in m.tokens)
    # The YES book shows no asks yet; the NO book bids 0.58 x 7: a YES buyer at 0.42 mints with them.
    rows = book_rows(T0, yes, {"0.40": "100"}, {}) + book_rows(T0, no, {"0.58": "7"}, {"0.60": "100"})
    rows.append(BinaryRow(T0 + 50 * MS, T0 + 50 * MS, "trade", yes, 1, D("0.40"), D("1")))
    buy_yes = lambda ctx: ctx.submit(  # noqa: E731
        m.instrument_id(0), OrderSide.BUY, D("10"), D("0.42"), time_in_force=TimeInForce.IOC
    )
    _, result, strategy, _ = run(tmp_path, [(m, rows)], [(T0 / MS + 10, buy_yes)])

    (fill,) = strategy.fills
    assert (fill.side, fill.last_px, fill.last_qty, fill.liquidity) == (
        OrderSide.BUY,
        D("0.42"),
        D("7"),
        LiquiditySide.TAKER,
    )
    # 7 x 0.072 x 0.42 x 0.58 = 0.1227744, rounded to the venue's 5 places
    assert fill.fee == D("0.12277")
    assert result.kernel.portfolio.balance("pUSD") == D("100") - D("2.94") - D("0.12277")
    assert strategy.kinds()[-1] == "OrderExpired"  # the IOC's rest


def test_resolution_cancels_resting_orders_and_pays_the_winner_into_pnl(tmp_path: Path) -> None:
    m = market()
    yes = m.tokens[0].token_id
    rows = [
        *coherent_books(T0, m),
        BinaryRow(T0 + 20 * MS, T0 + 20 * MS, "trade", yes, 1, D("0.46"), D("1")),  # fills our 10 NO
        BinaryRow(T0 + 90 * MS, T0 + 90 * MS, "resolved", note="NO"),
        BinaryRow(T0 + 95 * MS, T0 + 95 * MS, "trade", yes, 1, D("0.46"), D("1")),
    ]
    actions = [
        (T0 / MS + 10, buy_no(m, "0.55", "10")),
        (T0 / MS + 11, lambda ctx: ctx.submit(m.instrument_id(0), OrderSide.BUY, D("4"), D("0.30"))),
        (T0 / MS + 92, lambda ctx: ctx.submit(m.instrument_id(0), OrderSide.BUY, D("4"), D("0.30"))),
    ]
    _bt, result, strategy, events = run(tmp_path, [(m, rows)], actions)

    portfolio = result.kernel.portfolio
    no_pos = portfolio.find_position(m.instrument_id(1))
    assert no_pos is not None and no_pos.quantity == 0
    assert no_pos.realized_pnl == D("4.50")  # 10 x (1 - 0.55)
    assert portfolio.balance("pUSD") == D("104.50")
    (outcome,) = result.outcomes
    assert (outcome.status, outcome.resolution, outcome.settlement_pnl) == ("resolved", "NO", D("4.50"))
    kinds = [(type(e).__name__, getattr(e, "reason", "")) for e in strategy.events]
    assert ("OrderCanceled", "market_resolved") in kinds  # the resting YES bid
    assert ("OrderRejected", "market_closed") in kinds  # the order sent after resolution
    resolved = [
        msgspec.json.decode(line) for line in events.getvalue().splitlines() if b"MarketResolved" in line
    ]
    assert [(r["instrument_id"]["symbol"], r["settlement_px"]) for r in resolved] == [
        (m.instrument_id(0).symbol, "0"),
        (m.instrument_id(1).symbol, "1"),
    ]
    assert result.recorder.equity[-1][9] == "104.50"  # equity column: all cash now


def test_a_quick_market_stops_taking_orders_at_its_end_time_and_cancels_the_resting_ones(
    tmp_path: Path,
) -> None:
    m = market(end_ns=T0 + 50 * MS, venue="TURBINE")
    rows = [
        *coherent_books(T0, m),
        BinaryRow(T0 + 80 * MS, T0 + 80 * MS, "level", m.tokens[0].token_id, 1, D("0.41"), D("5")),
    ]
    actions = [(T0 / MS + 10, buy_no(m, "0.55", "10")), (T0 / MS + 60, buy_no(m, "0.55", "10"))]
    _bt, result, strategy, _ = run(tmp_path, [(m, rows)], actions)

    kinds = [(type(e).__name__, getattr(e, "reason", "")) for e in strategy.events]
    assert kinds == [
        ("OrderAccepted", ""),
        ("OrderCanceled", "market_closed: trading ended"),
        ("OrderRejected", "market_closed"),
    ]
    assert result.outcomes[0].status == "closed"


def test_a_tick_size_change_moves_the_market_to_its_new_grid(tmp_path: Path) -> None:
    m = market()
    yes = m.tokens[0].token_id
    rows = [
        *coherent_books(T0, m),
        BinaryRow(T0 + 20 * MS, T0 + 20 * MS, "tick", price=D("0.001")),
        BinaryRow(T0 + 30 * MS, T0 + 30 * MS, "level", yes, 1, D("0.405"), D("3")),
    ]
    actions = [(T0 / MS + 40, lambda ctx: ctx.submit(m.instrument_id(0), OrderSide.BUY, D("2"), D("0.406")))]
    bt, result, strategy, _ = run(tmp_path, [(m, rows)], actions)

    book = result.kernel.books[m.instrument_id(0)]
    assert book.instrument.tick_size == D("0.001")
    assert book.depth(1, 3) == [(D("0.405"), D("3")), (D("0.4"), D("100"))]
    assert strategy.kinds()[0] == "OrderAccepted"
    assert bt.venue_of(m.market_id).market(m.market_id).tick_size == D("0.001")


def test_several_markets_replay_in_time_order_and_each_settles_at_its_own_resolution(tmp_path: Path) -> None:
    a, b = market("0xa"), market("0xb")
    rows_a = [
        *coherent_books(T0, a),
        BinaryRow(T0 + 20 * MS, T0 + 20 * MS, "trade", a.tokens[0].token_id, 1, D("0.46"), D("1")),
        BinaryRow(T0 + 200 * MS, T0 + 200 * MS, "resolved", note="YES"),
    ]
    rows_b = [
        *coherent_books(T0 + 5 * MS, b),
        BinaryRow(T0 + 30 * MS, T0 + 30 * MS, "trade", b.tokens[1].token_id, -1, D("0.39"), D("1")),
        BinaryRow(T0 + 100 * MS, T0 + 100 * MS, "resolved", note="SPLIT"),
    ]
    actions = [
        (T0 / MS + 10, buy_no(a, "0.55", "10")),  # filled at 20 ms, loses at 200 ms
        (T0 / MS + 11, lambda ctx: ctx.submit(b.instrument_id(0), OrderSide.BUY, D("6"), D("0.40"))),
    ]
    _, result, strategy, _ = run(tmp_path, [(a, rows_a), (b, rows_b)], actions)

    by_market = {o.market_id: o for o in result.outcomes}
    assert by_market["0xa"].settlement_pnl == D("-5.50")  # 10 NO at 0.55, NO lost
    # b: a NO seller at 0.39 is a YES *buyer* at 0.61: it reaches asks, not our YES bid at 0.40.
    assert [f.instrument_id for f in strategy.fills] == [a.instrument_id(1)]
    assert by_market["0xb"].resolution == "SPLIT"
    assert result.kernel.portfolio.balance("pUSD") == D("94.50")


def test_the_same_recordings_give_the_same_events(tmp_path: Path) -> None:
    m = market(fees=FeeSchedule(kind="curve", rate=D("0.072")))
    yes = m.tokens[0].token_id
    rows = [
        *coherent_books(T0, m),
        BinaryRow(T0 + 20 * MS, T0 + 20 * MS, "trade", yes, 1, D("0.45"), D("60")),
        BinaryRow(T0 + 90 * MS, T0 + 90 * MS, "resolved", note="YES"),
    ]
    actions = [(T0 / MS + 10, buy_no(m, "0.55", "10"))]
    outs = [run(tmp_path / str(k), [(m, rows)], actions)[3].getvalue() for k in range(2)]
    assert outs[0] == outs[1] and b"OrderFilled" in outs[0]


def test_a_recording_row_that_cannot_be_read_is_counted_and_skipped(tmp_path: Path) -> None:
    m = market()
    rows = [
        *coherent_books(T0, m),
        BinaryRow(T0 + 1, T0 + 1, "trade", "not-a-token", 1, D("0.5"), D("1")),
        BinaryRow(T0 + 2, T0 + 2, "resolved", note="MAYBE"),
    ]
    rec = load_binary_recording(write(tmp_path, m, rows))
    assert rec.malformed == 2
    assert rec.resolution is None
    with pytest.raises(ValueError, match="unknown row kind"):
        BinaryRecordingWriter(tmp_path / "x", m).add(BinaryRow(T0, T0, "bogus"))


def test_a_polymarket_market_trades_past_its_end_date_until_the_venue_closes_it(tmp_path: Path) -> None:
    m = market(end_ns=T0 + 50 * MS)
    rows = [*coherent_books(T0, m), BinaryRow(T0 + 70 * MS, T0 + 70 * MS, "status", note="closed")]
    actions = [(T0 / MS + 60, buy_no(m, "0.55", "10")), (T0 / MS + 80, buy_no(m, "0.55", "10"))]
    _, result, strategy, _ = run(tmp_path, [(m, rows)], actions)

    kinds = [(type(e).__name__, getattr(e, "reason", "")) for e in strategy.events]
    assert kinds == [
        ("OrderAccepted", ""),
        ("OrderCanceled", "market_closed"),
        ("OrderRejected", "market_closed"),
    ]
    assert result.outcomes[0].status == "closed"
