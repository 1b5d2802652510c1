"""The venue dies mid-stream and comes back: the live node stops new orders for that venue while it is
unreachable (HALTED, with the reason, in its risk events and status), reconnects, reconciles with the
venue's REST view before it trades again, then quotes again — and has neither lost nor duplicated an
order or a fill.

The emulator is killed with SIGKILL while the quoter has orders resting (some filling), and restarted
on the same port from its durable state, as a venue that had an outage.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

import pytest

from tests.integration.crash.harness import Emulator, Node, StoreView, wait_until, write_config

pytestmark = pytest.mark.slow

START_CASH = Decimal(100_000)


def _state_changes(store: StoreView) -> list[dict[str, str]]:
    rows = store.rows("SELECT detail FROM risk_events WHERE kind = 'TradingStateChanged' ORDER BY id")
    return [json.loads(r[0]) for r in rows]


def test_node_halts_the_venue_while_it_is_down_and_trades_again_only_after_reconnecting_and_reconciling(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    folder = tmp_path / "emulator"
    emulator = Emulator(folder, speed=4.0)
    emulator.pause()
    store = StoreView(url)
    try:
        config = write_config(tmp_path, emulator, url, reconcile={"interval_s": 2.0})
        with Node(config, tmp_path / "node.log", args=["--status-every", "0.3"]) as node:
            prefix = node.wait_started()
            emulator.resume()
            wait_until(lambda: len(emulator.client_order_ids()) >= 3, 30, "the quoter to place orders")
            time.sleep(1.0)
            port = emulator.port
            emulator.proc.kill()  # the venue is gone mid-stream
            emulator.proc.wait()
            before = set(emulator.client_order_ids())

            node.wait_for(r"the (market data|user stream) connection is down", 30)
            node.wait_for(r"trading state of venue BINANCE: ACTIVE -> HALTED \(venue_down", 10)
            wait_until(
                lambda: (
                    [(c["scope"], c["target"], c["state"], c["cause"]) for c in _state_changes(store)]
                    == [("venue", "BINANCE", "HALTED", "venue_down")]
                ),
                10,
                "the venue's HALTED hold in the store's risk events",
            )
            node.wait_for(r"· HALTED ·", 10)  # the node's status line says so
            time.sleep(1.5)  # down a while: the node keeps trying, and sends nothing new

            emulator = Emulator(folder, speed=4.0, extra=["--port", str(port)])
            node.wait_for(r"reconnected and reconciled; trading again", 60)
            text = node.text()
            back = text.index("reconnected and reconciled")
            assert "connection is back" in text[:back]
            assert "trading state of venue BINANCE: HALTED -> ACTIVE" in text[back - 2000 :]
            assert set(emulator.client_order_ids()) >= before
            wait_until(
                lambda: len(set(emulator.client_order_ids()) - before) >= 2,
                30,
                "the node to quote again after the outage",
            )
            code = node.terminate()
            assert code == 0, node.text()[-3000:]
        assert [(c["state"], c["previous"]) for c in _state_changes(store) if c["cause"] == "venue_down"] == [
            ("HALTED", "ACTIVE"), ("ACTIVE", "HALTED"),
        ]  # fmt: skip

        venue_ids = emulator.client_order_ids()
        assert len(venue_ids) == len(set(venue_ids)), "the venue saw a client order id twice"
        assert set(venue_ids) <= store.client_order_ids(), "the venue has orders the node never recorded"
        assert all(cid.startswith(prefix) for cid in venue_ids)
        venue_fills, stored_fills = emulator.fills(), store.fills()
        assert stored_fills == venue_fills and max(stored_fills.values(), default=1) == 1
        amount, entry = emulator.position()
        assert store.position() == amount
        cash = store.balance()
        assert cash == START_CASH + emulator.fill_cash()
        assert abs(cash - (emulator.wallet() - amount * entry)) < Decimal("1e-12")
        assert emulator.open_orders() == [] and store.open_orders() == []
    finally:
        store.close()
        emulator.stop()
