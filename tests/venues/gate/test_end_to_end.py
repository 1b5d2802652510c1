"""Gate USDT futures end to end through CCXT against the local Gate v4 server replaying the real 2023
recording verbatim: diffs chained by U/u onto the REST snapshot CCXT fetches (served at the server's
current update id), a corrupted (malformed) diff and a dropped diff (a gap) each detected and the book
rebuilt from a new snapshot, an order's whole life, a server killed mid-stream, a 429 burst,
fail-closed keys. Nothing leaves 127.0.0.1."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from tests.servers.support import recording, run
from tests.venues import e2e
from tradewright.engine.venue_state import AccountSnapshot
from tradewright.model.events import OrderFilled
from tradewright.servers.gate import GateProtocol
from tradewright.venues import gate

CONTRACT = "RDNT_USDT"


def _frames() -> list[dict[str, Any]]:
    (session,) = recording("gate").sessions_matching("/v4/ws/usdt")
    msgs = [json.loads(f.text) for f in session.frames]
    return [
        m
        for m in msgs
        if m.get("channel") == "futures.order_book_update"
        and m.get("event") == "update"
        and m["result"]["s"] == CONTRACT
    ]


def _snapshot() -> dict[str, Any]:
    (r,) = [
        r
        for r in recording("gate").http_matching("/api/v4/futures/usdt/order_book")
        if f"contract={CONTRACT}&" in r.url
    ]
    body: dict[str, Any] = json.loads(r.body)
    return body


def _stale() -> int:
    """Recorded diffs already contained in the recorded REST snapshot (they change nothing)."""
    snap_id = _snapshot()["id"]
    return sum(1 for m in _frames() if m["result"]["u"] <= snap_id)


def _levels(msg: dict[str, Any]) -> tuple[bool, list[tuple[str, str]], list[tuple[str, str]]]:
    r = msg["result"]
    return False, [(lv["p"], str(lv["s"])) for lv in r["b"]], [(lv["p"], str(lv["s"])) for lv in r["a"]]


def _seed(ref: e2e.Reference) -> None:
    snap = _snapshot()
    ref.apply({"result": {"b": snap["bids"], "a": snap["asks"]}})


def _account(node: e2e.Node, account: AccountSnapshot, fills: list[OrderFilled]) -> None:
    (fill,) = fills
    inst = node.instrument
    position = account.positions[node.iid]
    assert position.quantity == node.kernel.portfolio.position(inst).quantity == fill.last_qty
    assert position.entry_price == fill.last_px
    # cash after the fill's full price x size, in the portfolio's convention
    assert (
        account.balances["USDT"]
        == Decimal(100_000) - fill.fee - fill.last_px * fill.last_qty * inst.multiplier
    )


CASE = e2e.VenueCase(
    protocol=lambda: GateProtocol(recording("gate")),
    package=gate,
    config=lambda server, **kw: gate.GateConfig(
        symbols=(CONTRACT,),
        rest_url=None if server is None else server.url,
        ws_url=None if server is None else server.ws_url,
        rate_limited_pause_s=0.1,
        **kw,
    ),
    keys={"GATE_API_KEY": "local-gate-key", "GATE_API_SECRET": "local-gate-secret", "GATE_UID": "1"},
    secrets=["GATE_API_SECRET"],
    topic=f"futures.order_book_update:{CONTRACT}",
    frames=_frames,
    levels_of=_levels,
    corrupt_counter="malformed",
    drop_counter="sequence_gaps",
    place_path="/api/v4/futures/usdt/orders",
    refused=r"GATE refused the API credentials \(GATE_API_KEY / GATE_API_SECRET / GATE_UID\)",
    check_account=_account,
    book_key="RDNT_USDT",
    seed=_seed,
)


def test_gate_book_matches_the_recording_after_every_message_and_recovers_from_corrupt_and_dropped_frames() -> (
    None
):
    first = _stale()
    run(e2e.scenario_book(CASE, first=first, corrupt_at=first + 15, drop_at=first + 25, last=first + 40))


def test_gate_order_is_acknowledged_partially_filled_and_cancelled_and_stream_rest_and_node_agree() -> None:
    run(e2e.scenario_order(CASE))


def test_gate_adapter_reconnects_and_rebuilds_after_the_server_dies_mid_stream() -> None:
    run(e2e.scenario_reconnect(CASE))


def test_gate_429_burst_is_absorbed_by_backing_off_without_exceeding_the_limit() -> None:
    run(e2e.scenario_rate_limit(CASE))


def test_gate_refuses_to_start_without_keys_with_malformed_keys_and_with_keys_the_venue_rejects(
    caplog: pytest.LogCaptureFixture,
) -> None:
    run(e2e.scenario_keys(CASE, caplog))


def test_gate_orders_placed_and_cancelled_in_batches_are_each_acknowledged_and_cancelled() -> None:
    run(e2e.scenario_batch(CASE))


def test_gate_modify_moves_the_order_to_its_new_price_and_size_and_is_never_refused() -> None:
    run(e2e.scenario_modify(CASE))
