"""Portfolio: exposure in the quote currency (outcome tokens at their worst-case loss), marks from the
mid or the last trade, and one exact snapshot per currency."""

from __future__ import annotations

import msgspec

from tests.unit.risk.kit import Bench, D
from tradewright.core.ids import Venue
from tradewright.model.data import TradeTick
from tradewright.model.enums import OrderSide
from tradewright.model.instrument import InstrumentKind
from tradewright.portfolio import Portfolio
from tradewright.portfolio.portfolio import MarkPrice
from tradewright.testkit import btc_perp, es_future, make_instrument

BTC = btc_perp()
ES = es_future()  # multiplier 50, USD
YES = make_instrument(
    "WIN-YES", "POLY", tick="0.01", lot="1", kind=InstrumentKind.BINARY_OUTCOME, quote="USDT"
)
INV = msgspec.structs.replace(
    make_instrument("BTCUSD-INV", "DERIBIT", tick="0.5", lot="1", multiplier="10"), inverse=True, settle="BTC"
)


def test_exposure_value_per_kind_of_instrument() -> None:
    value = Portfolio.exposure_value
    assert value(BTC, D("-0.5"), D("100")) == D("-50")
    assert value(ES, D(2), D("5000")) == D("500000")
    assert value(YES, D(100), D("0.40")) == D("40")  # long: may settle at 0
    assert value(YES, D(-100), D("0.40")) == D("-60")  # short: may settle at 1
    assert value(INV, D(-3), D("60000")) == D("-30")  # inverse: contracts x face value, whatever the price


def test_gross_net_and_per_venue_exposure_at_the_marks() -> None:
    b = Bench(BTC, YES)
    b.book(BTC, [(1000, 50)], [(1002, 50)])  # mid 100.1
    b.book(YES, [(40, 500)], [(42, 500)])  # mid 0.41
    b.position(BTC, OrderSide.BUY, "0.01", "100.2")
    b.position(YES, OrderSide.SELL, "10", "0.40")
    p = b.kernel.portfolio
    marks = {i: m for i in (BTC.id, YES.id) if (m := b.kernel.mark(i)) is not None}
    assert p.exposures(marks) == {BTC.id: D("1.001"), YES.id: D("-5.90")}
    assert p.gross_exposure(marks) == D("6.901")
    assert p.net_exposure(marks) == D("-4.899")
    assert p.gross_exposure(marks, venue=Venue("POLY")) == D("5.90")


def test_mark_from_last_trade_when_configured_else_mid_and_one_sided_books() -> None:
    b = Bench(BTC, mark_price=MarkPrice.LAST_TRADE)
    b.book(BTC, [(1000, 5)], [(1002, 5)])
    assert b.kernel.mark(BTC.id) == D("100.1")  # no trade yet: mid
    assert b.kernel.needs_trades
    b.kernel.on_trade(
        TradeTick(
            instrument_id=BTC.id,
            price=D("100.2"),
            size=D("0.001"),
            aggressor=None,
            trade_id="1",
            ts_event=0,
            ts_init=0,
        )
    )
    assert b.kernel.mark(BTC.id) == D("100.2")
    mid = Bench(BTC)
    mid.book(BTC, [(1000, 5)], [])
    assert mid.kernel.mark(BTC.id) == D("100.0")  # only the bid side
    assert not mid.kernel.needs_trades


def test_fees_are_kept_per_currency_including_rebates() -> None:
    b = Bench(BTC)
    b.book(BTC, [(1000, 5)], [(1001, 5)])
    order = b.submit(BTC, OrderSide.BUY, "0.002", "100.0")
    b.ack(order)
    b.fill(order, "100.0", "0.001", fee="0.02")
    b.fill(order, "100.0", "0.001", fee="-0.005")
    snap = b.kernel.portfolio.snapshot(0, "USDT", {BTC.id: D("100.05")})
    assert snap.fees == D("0.015")
    assert snap.cash == D(10_000) - D("0.2") - D("0.015")
    assert snap.unrealized_pnl == D("0.0001")
    assert snap.equity == snap.cash + D("0.2001")
    assert snap.gross_exposure == snap.net_exposure == D("0.2001")
