"""A venue that says impossible things: a live node is fed, through the emulator's fault injection, a
book price of 1e30, a fill whose size is NaN, a fill priced beyond its order's limit and a fill sent
twice. The venue's own records stay right; only its messages lie.

The node must keep running, book none of the lies, halt the instrument (REDUCING) on the impossible
fill, reconcile, and — after a clean stop — hold exactly the venue's fills, position and cash."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

from tests.integration.crash.harness import Emulator, Node, StoreView, wait_until, write_config
from tests.integration.crash.test_crash_recovery import START_CASH

IID = "BTCUSDT-PERP.BINANCE"


def _fired(emulator: Emulator, name: str) -> int:
    return int(emulator.admin("GET", "/_admin/faults")["fired"].get(name, 0))


def _inject(emulator: Emulator, node: Node, fault: str, timeout_s: float = 90) -> None:
    """Switch one fault on for one message and wait until the emulator has sent it."""
    before = _fired(emulator, fault)
    emulator.admin("POST", "/_admin/faults", {fault: 1})
    wait_until(lambda: _fired(emulator, fault) > before, timeout_s, f"the emulator to send {fault}")
    assert node.proc.poll() is None, f"the node died after {fault}:\n{node.text()[-4000:]}"


def test_corrupt_venue_messages_are_refused_the_node_halts_reconciles_and_ends_where_the_venue_is(
    tmp_path: Path,
) -> None:
    emulator = Emulator(tmp_path / "emulator", speed=4.0)
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = StoreView(url)
    try:
        config = write_config(tmp_path, emulator, url, reconcile={"interval_s": 1.0})
        with Node(config, tmp_path / "node.log") as node:
            node.wait_started()
            _inject(emulator, node, "book_price_corrupt")
            node.wait_for(r"refused a venue update .*1E\+30", 30)
            for fault in ("fill_duplicate", "fill_nan", "fill_beyond_limit"):
                _inject(emulator, node, fault)
            node.wait_for(r"venue integrity: .* beyond the (BUY|SELL) order's limit", 30)
            time.sleep(6.0)  # reconciliations run (every second; orders untouched for 2 s are checked)
            assert node.proc.poll() is None, node.text()[-4000:]
            assert node.terminate() == 0, node.text()[-4000:]
            log = node.text()

        # It said which venue message was bad, and never blamed its store.
        assert "skipped a malformed ORDER_TRADE_UPDATE" in log and '"l":"NaN"' in log
        assert "state store failed" not in log
        # It booked none of the lies: every fill is the venue's, once, at the venue's price and size.
        venue = {
            str(t): (Decimal(p), Decimal(q))
            for t, p, q in emulator.query("SELECT trade_id, price, qty FROM fills")
        }
        stored = store.rows("SELECT trade_id, last_px, last_qty FROM fills")
        assert len(stored) == len({str(r[0]) for r in stored}), "a fill was booked twice"
        assert {str(t): (Decimal(str(p)), Decimal(str(q))) for t, p, q in stored} == venue
        assert len(venue) >= 3, f"too few fills to have tested anything: {venue}"
        # It halted the instrument to REDUCING with the reason, and recorded the violation.
        kinds = [kind for kind, _ in store.risk_events()]
        assert "VenueIntegrityViolation" in kinds, kinds
        changes = store.rows(
            "SELECT message FROM risk_events WHERE kind = 'TradingStateChanged' AND instrument_id = :iid",
            iid=IID,
        )
        assert any("beyond the" in r[0] for r in changes), changes
        assert "ACTIVE -> REDUCING" in log
        assert "reconciling with the venue now: the venue reported an impossible fill" in log
        assert "reconciling with the venue now: a malformed order update" in log
        assert store.rejections()["trading_reducing"] > 0, "orders adding to the position still passed"
        # Position and cash are the venue's.
        amount, entry = emulator.position()
        assert store.position() == amount
        cash = store.balance()
        assert cash == START_CASH + emulator.fill_cash()
        assert abs(cash - (emulator.wallet() - amount * entry)) < Decimal("1e-12")
    finally:
        store.close()
        emulator.stop()
