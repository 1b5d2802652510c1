"""Position drift against a live node: someone trades on the node's account behind its back.

A drift within the threshold (max(5% of the position, one lot); 0.002 BTC on the 0.040 held here) is corrected to the venue's position with
an audit record; a larger one halts the instrument — new orders are refused with a message naming the
drift — and is recorded as a risk event. Both while the node runs (periodic reconciliation) and when the
change happened while it was down (reconciliation at start).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from tests.integration.crash.harness import Emulator, Node, StoreView, wait_until, write_config
from tests.integration.reconcile.conftest import manual_trade

HOLDER = Path(__file__).with_name("holder.py")
SIZE = Decimal("0.040")  # the threshold is then max(5% = 0.002, 1 lot = 0.001) = 0.002


def holder_config(tmp_path: Path, emulator: Emulator, url: str) -> Path:
    return write_config(
        tmp_path,
        emulator,
        url,
        reconcile={"interval_s": 1.0, "confirmations": 2},
        strategy={"path": str(HOLDER), "class": "Holder", "id": "H"},
        params={"size": str(SIZE), "probe_every_s": 0.5},
    )


def start_holding(tmp_path: Path, emulator: Emulator, store: StoreView, config: Path, log: str) -> Node:
    node = Node(config, tmp_path / log)
    node.wait_started()
    wait_until(
        lambda: store.position() == SIZE and emulator.position()[0] == SIZE, 60, "the position of 0.040"
    )
    return node


def position_audits(store: StoreView) -> list[dict[str, str]]:
    rows = store.rows(
        "SELECT detail FROM audit WHERE actor = 'reconcile' AND action = 'CorrectPosition' ORDER BY id"
    )
    return [json.loads(r[0]) for r in rows]


def halted_probes(store: StoreView) -> list[str]:
    rows = store.rows("SELECT payload FROM order_events WHERE event_type = 'OrderDenied'")
    return [json.loads(r[0])["message"] for r in rows if json.loads(r[0])["reason"] == "halted"]


def test_a_small_drift_while_running_is_corrected_to_the_venues_position_and_audited(
    tmp_path: Path, emulator: Emulator
) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = StoreView(url)
    config = holder_config(tmp_path, emulator, url)
    with start_holding(tmp_path, emulator, store, config, "node.log") as node:
        manual_trade(emulator, "sell", Decimal("0.002"), "manual-small")  # 5%: within the threshold

        wait_until(lambda: position_audits(store) != [], 30, "the correction's audit record")
        assert node.terminate() == 0

    (audit,) = position_audits(store)
    assert (Decimal(audit["local"]), Decimal(audit["venue"]), Decimal(audit["drift"])) == (
        SIZE,
        Decimal("0.038"),
        Decimal("-0.002"),
    )
    assert Decimal(audit["threshold"]) == Decimal("0.002")
    assert store.position() == emulator.position()[0] == Decimal("0.038")
    assert halted_probes(store) == [] and store.risk_events() == []
    reason = store.rows("SELECT reason FROM audit WHERE action = 'CorrectPosition'")[0][0]
    assert "the venue holds 0.038, this node 0.040" in reason and "corrected" in reason
    store.close()


def test_a_large_drift_while_running_halts_the_instrument_naming_the_drift(
    tmp_path: Path, emulator: Emulator
) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = StoreView(url)
    config = holder_config(tmp_path, emulator, url)
    with start_holding(tmp_path, emulator, store, config, "node.log") as node:
        manual_trade(emulator, "sell", Decimal("0.005"), "manual-large")  # 12.5% of the position

        wait_until(lambda: len(halted_probes(store)) >= 2, 30, "new orders to be refused")
        log = node.text()
        assert node.terminate() == 0

    halts = [message for kind, message in store.risk_events() if kind == "ReconcileHalt"]
    assert len(halts) == 1
    for message in (halts[0], halted_probes(store)[0], log):
        assert "the venue holds 0.035, this node 0.040" in message
        assert "drift -0.005" in message and "threshold 0.002" in message
    assert position_audits(store) == []
    assert store.position() == SIZE and emulator.position()[0] == Decimal(
        "0.035"
    )  # not corrected: a person decides
    assert emulator.open_orders() == []  # the halt cancelled the working probe
    store.close()


def test_a_drift_that_happened_while_the_node_was_down_is_found_at_start(
    tmp_path: Path, emulator: Emulator
) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = StoreView(url)
    config = holder_config(tmp_path, emulator, url)
    with start_holding(tmp_path, emulator, store, config, "first.log") as node:
        assert node.terminate() == 0
    manual_trade(emulator, "buy", Decimal("0.002"), "manual-while-down")

    with Node(config, tmp_path / "second.log") as node:
        node.wait_started()
        assert "reconciled with the venue at start: " in node.text()
        assert node.terminate() == 0

    (audit,) = position_audits(store)
    assert (Decimal(audit["local"]), Decimal(audit["venue"])) == (SIZE, Decimal("0.042"))
    assert store.position() == emulator.position()[0] == Decimal("0.042")
    store.close()
