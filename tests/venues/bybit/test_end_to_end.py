"""Bybit v5 linear end to end through CCXT against the local Bybit v5 server replaying Bybit's own
`orderbook.500.XRPUSDT` history frames (the v2 cryptofeed recording is a retired API CCXT cannot
speak): a book checked by our u-chain (CCXT has no Bybit check), a corrupted and a dropped frame each
detected and rebuilt from a fresh snapshot, an order's whole life, a server killed mid-stream, a 429
burst (Bybit's retCode 10006), fail-closed keys. Nothing leaves 127.0.0.1."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import shared_data
from tests.servers.support import run
from tests.venues import e2e
from tradewright.engine.venue_state import AccountSnapshot
from tradewright.model.events import OrderFilled
from tradewright.servers._core import load_frame_lines
from tradewright.servers.bybit import BybitProtocol
from tradewright.venues import bybit

FRAMES = "l2/nautilus/bybit_xrpusdt-ob500.data.zip"
INSTRUMENTS = "venues/bybit/nautilus_rust/http_get_instruments_linear.json"


def _frames() -> list[dict[str, Any]]:
    return [json.loads(f.text) for f in load_frame_lines(shared_data(FRAMES))]


def _levels(msg: dict[str, Any]) -> tuple[bool, list[tuple[str, str]], list[tuple[str, str]]]:
    data = msg["data"]
    return msg["type"] == "snapshot", [tuple(lv) for lv in data["b"]], [tuple(lv) for lv in data["a"]]  # type: ignore[misc]


def _account(node: e2e.Node, account: AccountSnapshot, fills: list[OrderFilled]) -> None:
    (fill,) = fills
    position = account.positions[node.iid]
    assert position.quantity == node.kernel.portfolio.position(node.instrument).quantity == fill.last_qty
    assert account.balances["USDT"] == Decimal(100_000) - fill.fee - fill.last_px * fill.last_qty


CASE = e2e.VenueCase(
    protocol=lambda: BybitProtocol(shared_data(FRAMES), shared_data(INSTRUMENTS)),
    package=bybit,
    config=lambda server, **kw: bybit.BybitConfig(
        symbols=("XRPUSDT",),
        rest_url=None if server is None else server.url,
        ws_url=None if server is None else server.ws_url,
        rate_limited_pause_s=0.1,
        **kw,
    ),
    keys={"BYBIT_API_KEY": "local-bybit-key", "BYBIT_API_SECRET": "local-bybit-secret"},
    secrets=["BYBIT_API_SECRET"],
    topic="orderbook.500.XRPUSDT",
    frames=_frames,
    levels_of=_levels,
    corrupt_counter="malformed",
    drop_counter="sequence_gaps",
    place_path="/v5/order/create",
    refused=r"BYBIT refused the API credentials \(BYBIT_API_KEY / BYBIT_API_SECRET\)",
    check_account=_account,
    book_key="XRPUSDT",
)


def test_bybit_book_matches_the_recording_after_every_message_and_recovers_from_corrupt_and_dropped_frames() -> (
    None
):
    run(e2e.scenario_book(CASE, first=0, corrupt_at=15, drop_at=25, last=45))


def test_bybit_order_is_acknowledged_partially_filled_and_cancelled_and_stream_rest_and_node_agree() -> None:
    run(e2e.scenario_order(CASE))


def test_bybit_adapter_reconnects_and_rebuilds_after_the_server_dies_mid_stream() -> None:
    run(e2e.scenario_reconnect(CASE))


def test_bybit_429_burst_is_absorbed_by_backing_off_without_exceeding_the_limit() -> None:
    run(e2e.scenario_rate_limit(CASE))


def test_bybit_refuses_to_start_without_keys_with_malformed_keys_and_with_keys_the_venue_rejects(
    caplog: pytest.LogCaptureFixture,
) -> None:
    run(e2e.scenario_keys(CASE, caplog))


def test_bybit_orders_placed_and_cancelled_in_batches_are_each_acknowledged_and_cancelled() -> None:
    run(e2e.scenario_batch(CASE))


def test_bybit_modify_moves_the_order_to_its_new_price_and_size_and_is_never_refused() -> None:
    run(e2e.scenario_modify(CASE))
