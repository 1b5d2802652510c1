"""The built-in quoting strategies, run live: `tradewright live` with the spread quoter and the
Avellaneda–Stoikov maker against the Binance USD-M emulator for more than 60 s of replayed market (the
emulator's speed-up makes that a few seconds). They move their quotes with `modify` (the quote manager's
default), which Binance amends natively (PUT /fapi/v1/order). Their timers run on the wall clock while
the market runs ten times faster, so their estimators are set to warm up in a few wall seconds (and the
Avellaneda–Stoikov order-arrival intensity is fixed: online, it compares trade times in market time with
the wall clock):

- no modify is refused, and the quotes did move (amendments happened, at the venue too);
- while the market stands still the venue's open orders are the node's, at the same prices and sizes;
- after SIGTERM the node's fills, position and cash are the venue's, and nothing is left open.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.integration.crash.harness import SYMBOL, Emulator, Node, StoreView, wait_until
from tests.integration.crash.test_crash_recovery import Trial, crash_and_recover

pytestmark = pytest.mark.slow

START_CASH = Decimal(100_000)
SPEED = 10.0
MARKET_S = 65  # replayed seconds the strategy trades

QUOTERS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "spread_quoter": (
        "SpreadQuoter",
        {
            "reference": "microprice", "spread": "volatility", "half_spread_bps": 0.1, "vol_multiplier": 0.5,
            "vol_window": 5, "vol_sample_ms": 100, "bid_sizes": ["0.002", "0.004"],
            "ask_sizes": ["0.002", "0.004"], "level_spacing_ticks": 2, "max_inventory": "0.012",
        },
        {"min_change_ticks": 2, "min_quote_lifetime_ms": 100, "max_cancels_per_min": 600},
    ),
    "avellaneda_stoikov": (
        "AvellanedaStoikov",
        {
            "order_size": "0.002", "max_inventory": "0.010", "risk_aversion": 0.05, "vol_window": 5,
            "vol_sample_ms": 100, "intensity": "fixed", "kappa": 10.0, "arrival_rate": 1.0,
        },
        {"min_change_ticks": 1, "min_quote_lifetime_ms": 100, "max_cancels_per_min": 600},
    ),
}  # fmt: skip


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value))


def _config(folder: Path, emulator: Emulator, store_url: str, quoter: str, **venue: Any) -> Path:
    cls, params, quotes = QUOTERS[quoter]
    sections: dict[str, dict[str, Any]] = {
        "node": {"name": quoter, "snapshot_interval_s": 1.0, "shutdown_timeout_s": 8.0, "min_order_age_s": 2.0},
        "venue": {
            "symbol": SYMBOL, "rest_url": f"http://{emulator.url}", "ws_url": f"ws://{emulator.url}",
            "rate_limit": False, "timeout_ms": 5000, **venue,
        },
        "store": {"url": store_url},
        "reconcile": {"interval_s": 3.0},
        "strategy": {"module": "tradewright.strategies", "class": cls, "id": "Q"},
        "strategy.params": params,
        "strategy.params.quotes": quotes,
    }  # fmt: skip
    lines = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines.extend(f"{k} = {_toml(v)}" for k, v in values.items())
        lines.append("")
    path = folder / "live.toml"
    path.write_text("\n".join(lines))
    return path


def _node_orders(store: StoreView) -> set[tuple[str, Decimal, Decimal]]:
    finished = ("DENIED", "REJECTED", "FILLED", "CANCELED", "EXPIRED")
    rows = store.rows("SELECT client_order_id, status, price, quantity FROM orders")
    return {
        (r[0], Decimal(str(r[2])).normalize(), Decimal(str(r[3])).normalize())
        for r in rows
        if r[1] not in finished
    }


def _venue_orders(emulator: Emulator) -> set[tuple[str, Decimal, Decimal]]:
    rows = emulator.query(
        "SELECT client_order_id, price, orig_qty FROM orders WHERE status IN ('NEW', 'PARTIALLY_FILLED')"
    )
    return {(r[0], Decimal(str(r[1])).normalize(), Decimal(str(r[2])).normalize()) for r in rows}


def _touch(emulator: Emulator) -> tuple[Decimal, Decimal]:
    import urllib.request

    url = f"http://{emulator.url}/fapi/v1/depth?symbol={SYMBOL}&limit=5"
    with urllib.request.urlopen(url, timeout=10) as answer:
        book = json.loads(answer.read())
    return Decimal(book["bids"][0][0]), Decimal(book["asks"][0][0])


def _event_count(store: StoreView, kind: str) -> int:
    return int(store.rows("SELECT COUNT(*) FROM order_events WHERE event_type = :k", k=kind)[0][0])


@pytest.mark.parametrize("quoter", sorted(QUOTERS))
def test_built_in_quoter_runs_live_for_a_minute_with_no_refused_modify_and_agrees_with_the_venue(
    quoter: str, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    emulator = Emulator(tmp_path / "emulator", speed=SPEED)
    store = StoreView(url)
    try:
        emulator.pause()
        config = _config(tmp_path, emulator, url, quoter)
        with Node(config, tmp_path / "node.log") as node:
            node.wait_started()
            start_ns = emulator.admin("GET", "/_admin/status")["dataTimeNs"]
            emulator.resume()

            def replayed_s() -> float:
                status = emulator.admin("GET", "/_admin/status")
                assert not status["finished"], "the recording ran out"
                return float((status["dataTimeNs"] - start_ns) / 1e9)

            wait_until(lambda: replayed_s() >= MARKET_S, MARKET_S / SPEED * 6 + 30, "a minute of market")
            emulator.pause()
            # The market stands still: every request in flight is answered, and then the venue holds
            # exactly the orders the node has open, at the prices and sizes the node has.
            wait_until(
                lambda: _node_orders(store) == _venue_orders(emulator) and len(_venue_orders(emulator)) > 0,
                20,
                f"the venue's open orders to equal the node's (venue {_venue_orders(emulator)}, "
                f"node {_node_orders(store)})",
            )
            time.sleep(0.5)
            assert _node_orders(store) == _venue_orders(emulator)
            # ... and they follow the book: after a minute of a moving market, still at the touch's side
            # and within 0.2 % of the mid
            bid, ask = _touch(emulator)
            mid = (bid + ask) / 2
            for cid, price, _ in _venue_orders(emulator):
                side = emulator.query("SELECT side FROM orders WHERE client_order_id = ?", cid)[0][0]
                assert (price <= bid) if side == "BUY" else (price >= ask), (cid, side, price, bid, ask)
                assert abs(price - mid) <= mid * Decimal("0.002"), (cid, price, mid)
            code = node.terminate()
            text = node.text()
            assert code == 0, text[-3000:]
        refused = _event_count(store, "OrderModifyRejected")
        amended = _event_count(store, "OrderUpdated")
        assert refused == 0, f"{refused} modifies refused:\n{text[-3000:]}"
        assert amended >= 3, f"the quotes hardly moved ({amended} amendments)"
        venue_amendments = emulator.query("SELECT COUNT(*) FROM orders WHERE time_ms < update_ms")[0][0]
        assert venue_amendments > 0

        venue_fills, stored_fills = emulator.fills(), store.fills()
        assert stored_fills == venue_fills and max(stored_fills.values(), default=1) == 1
        amount, entry = emulator.position()
        assert store.position() == amount
        cash = store.balance()
        assert cash == START_CASH + emulator.fill_cash()
        assert abs(cash - (emulator.wallet() - amount * entry)) < Decimal("1e-12")
        assert emulator.open_orders() == [] and store.open_orders() == []
        assert store.audits() == {"reconcile:CorrectBalance": 1}, store.audits()
    finally:
        store.close()
        emulator.stop()


# Kill points inside an engine-side cancel-then-replace: the cancel recorded and not sent (`after_cancel_commit`
# counts only cancels here: the quoter cancels to replace), an intent recorded and not sent (a first quote
# or a replacement), and SIGKILL at seeded random moments.
REPLACE_TRIALS = [
    "after_cancel_commit:3",
    "after_intent_commit:6",
    "kill:11",
    "after_cancel_commit:8",
    "kill:12",
]


def test_a_node_killed_mid_cancel_replace_restarts_without_duplicate_or_lost_orders(tmp_path: Path) -> None:
    """The spread quoter with `venue.amend = false`: every modify is a cancel, then, once confirmed, a new
    order. Killed anywhere in that (and restarted each time), the venue saw every client order id once
    and only ids the node recorded, no modify was refused, fills, position and cash equal the venue's, and
    after SIGTERM nothing is open on either side."""
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    emulator = Emulator(tmp_path / "emulator", speed=4.0)
    emulator.pause()
    store = StoreView(url)
    try:
        config = _config(tmp_path, emulator, url, "spread_quoter", amend=False)
        for n, how in enumerate(REPLACE_TRIALS):
            assert not emulator.admin("GET", "/_admin/status")["finished"], "the recording ran out"
            crash_and_recover(Trial(how), emulator, config, tmp_path / f"{n:02d}")
            venue_ids = emulator.client_order_ids()
            assert len(venue_ids) == len(set(venue_ids)), f"{how}: the venue saw a client order id twice"
            assert set(venue_ids) <= store.client_order_ids(), f"{how}: the venue has orders never recorded"
            assert store.rejections()["duplicate_client_order_id"] == 0
            assert _event_count(store, "OrderModifyRejected") == 0, f"{how}: a modify was refused"
            venue_fills, stored_fills = emulator.fills(), store.fills()
            assert stored_fills == venue_fills, f"{how}: fills differ"
            amount, entry = emulator.position()
            assert store.position() == amount, f"{how}: position {store.position()} here, {amount} there"
            cash = store.balance()
            assert cash == START_CASH + emulator.fill_cash()
            assert abs(cash - (emulator.wallet() - amount * entry)) < Decimal("1e-12")
            assert emulator.open_orders() == [] and store.open_orders() == [], f"{how}: orders left open"
        replaced = store.rows("SELECT COUNT(*) FROM audit WHERE actor LIKE :p", p="%:replace %")[0][0]
        assert replaced >= 5, f"only {replaced} replacements were placed: the trials did not exercise it"
        assert _event_count(store, "OrderUpdated") == 0  # nothing was amended in place
    finally:
        store.close()
        emulator.stop()
