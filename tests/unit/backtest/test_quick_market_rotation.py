"""The quick-market maker across three consecutive 15-minute Turbine markets in simulated time (a binary
backtest): it quotes each market in turn, leaves each before it expires with no order left there, and
every position is paid out at its market's resolution."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

from tradewright.backtest.binary import BinaryBacktest
from tradewright.core.ids import Venue
from tradewright.data.binary_recording import BinaryRecordingWriter, BinaryRow, load_binary_recording
from tradewright.model.enums import OrderStatus
from tradewright.model.prediction import BinaryMarket, FeeSchedule, OutcomeToken
from tradewright.sim.latency import ConstantLatency
from tradewright.strategies.quick_market_maker import QuickMarketMaker, QuickMarketMakerConfig

D = Decimal
SEC = 1_000_000_000
MIN = 60 * SEC
T0 = 1_767_225_600 * SEC  # 2026-01-01 00:00 UTC


def quick_market(k: int) -> BinaryMarket:
    return BinaryMarket(
        venue=Venue("TURBINE"),
        market_id=f"0x{k + 1:064x}",
        question=f"BTC up in window {k}?",
        tokens=(
            OutcomeToken(token_id="YES", outcome="Yes", index=0),
            OutcomeToken(token_id="NO", outcome="No", index=1),
        ),
        tick_size=D("0.01"),
        lot_size=D("0.000001"),
        fees=FeeSchedule(kind="notional", rate=D("0.01"), decimals=6),
        end_ns=T0 + (k + 1) * 15 * MIN,
        allows_split_resolution=False,
    )


def rows_of(k: int) -> list[BinaryRow]:
    """The market's book from a minute before it opens, a seller and a buyer every minute while it
    trades (each takes 150 at the touch: 100 shown there, then us), a buyer sweeping through 0.60 ten
    seconds before the end (it would fill any ask still resting), and its resolution 30 s after."""
    start, end = T0 + k * 15 * MIN, T0 + (k + 1) * 15 * MIN
    rows: list[BinaryRow] = []
    t = start - MIN
    for token, bid, ask in (("YES", "0.48", "0.52"), ("NO", "0.48", "0.52")):
        rows += [
            BinaryRow(t, t, "clear", token, last=False),
            BinaryRow(t, t, "level", token, 1, D(bid), D("100"), last=False),
            BinaryRow(t, t, "level", token, -1, D(ask), D("100")),
        ]
    for minute in range(1, 15):
        t = start + minute * MIN
        side, price = (-1, "0.48") if minute % 2 else (1, "0.52")
        rows.append(BinaryRow(t, t, "trade", "YES", side, D(price), D("150")))
    t = end - 10 * SEC
    rows.append(BinaryRow(t, t, "trade", "YES", 1, D("0.60"), D("1000")))
    rows.append(BinaryRow(end + 30 * SEC, end + 30 * SEC, "resolved", note="YES" if k % 2 == 0 else "NO"))
    return rows


def test_the_maker_rotates_through_three_markets_and_leaves_no_order_on_an_expired_one(
    tmp_path: Path,
) -> None:
    markets = [quick_market(k) for k in range(3)]
    recordings = []
    for k, m in enumerate(markets):
        writer = BinaryRecordingWriter(tmp_path / m.market_id, m)
        for row in rows_of(k):
            writer.add(row)
        writer.close()
        recordings.append(load_binary_recording(tmp_path / m.market_id))
    bt = BinaryBacktest(
        recordings,
        starting_balance=D("1000"),
        latency=ConstantLatency(200_000_000, 200_000_000),  # 200 ms each way
        events_file=io.BytesIO(),
    )
    cfg = QuickMarketMakerConfig(order_size=D("10"), max_inventory=D("30"), stop_quoting_lead_ms=30_000)
    maker = QuickMarketMaker("QMM", [inst.id for m in markets for inst in m.instruments()], cfg)
    bt.add_strategy(maker)
    result = bt.run()

    orders = result.kernel.orders.all_orders
    yes = [m.instrument_id(0) for m in markets]
    for m, iid in zip(markets, yes, strict=True):
        mine = [o for o in orders if o.instrument_id == iid]
        assert mine, f"no quote in {m.market_id}"
        assert all(o.status in (OrderStatus.CANCELED, OrderStatus.FILLED) for o in mine)
        # Every order of the market ended before the market did, none of them closed by the venue.
        assert max(o.ts_last for o in mine) < m.end_ns  # type: ignore[operator]
        assert not any(getattr(e, "reason", "").startswith("market_closed") for o in mine for e in o.events)
        # It quoted the market only while it traded: after the next one's book came in and before its stop lead.
        assert min(o.ts_init for o in mine) >= m.end_ns - 16 * MIN  # type: ignore[operator]
        assert max(o.ts_init for o in mine) < m.end_ns - 30 * SEC  # type: ignore[operator]
    assert maker.retired == yes
    assert result.kernel.portfolio.find_position(markets[0].instrument_id(1)) is None  # it quotes YES only
    # It traded in each market; whatever it held at a resolution was paid out there.
    assert all(any(o.filled_qty > 0 for o in orders if o.instrument_id == iid) for iid in yes)
    by_market = {o.market_id: o for o in result.outcomes}
    assert all(by_market[m.market_id].status == "resolved" for m in markets)
    assert all(p.quantity == 0 for p in result.kernel.portfolio.positions)
