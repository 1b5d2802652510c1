"""Bitget spot end to end through CCXT against the local Bitget server, which transcodes the real 2022
v1 recording to the v2 wire CCXT speaks (books with CRC32 checksums): markets from the recorded
products, a book that matches the recording after every message, corrupt and dropped frames caught by
our checksum check (CCXT's is off) and recovered, an order's whole life, a server killed mid-stream, a
429 burst, fail-closed keys. Nothing leaves 127.0.0.1."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from tests.servers.support import recording, run
from tests.venues import e2e
from tradewright.engine.venue_state import AccountSnapshot
from tradewright.model.events import OrderFilled
from tradewright.servers.bitget import BitgetProtocol
from tradewright.venues import bitget

SYMBOL = "EOSUSDT"


def _frames() -> list[dict[str, Any]]:
    (session,) = recording("bitget").sessions_matching("/spot/v1/stream")
    msgs = [json.loads(f.text) for f in session.frames]
    return [
        m
        for m in msgs
        if m.get("arg", {}).get("channel") == "books" and m["arg"]["instId"] == SYMBOL and "data" in m
    ]


def _levels(msg: dict[str, Any]) -> tuple[bool, list[tuple[str, str]], list[tuple[str, str]]]:
    data = msg["data"][0]
    return msg["action"] == "snapshot", [tuple(lv) for lv in data["bids"]], [tuple(lv) for lv in data["asks"]]  # type: ignore[misc]


def _account(node: e2e.Node, account: AccountSnapshot, fills: list[OrderFilled]) -> None:
    (fill,) = fills
    assert (
        account.balances["EOS"] - Decimal(10_000)
        == node.kernel.portfolio.position(node.instrument).quantity
        == fill.last_qty
    )
    assert account.balances["USDT"] == Decimal(100_000) - fill.last_px * fill.last_qty - fill.fee


CASE = e2e.VenueCase(
    protocol=lambda: BitgetProtocol(recording("bitget")),
    package=bitget,
    config=lambda server, **kw: bitget.BitgetConfig(
        symbols=(SYMBOL,),
        rest_url=None if server is None else server.url,
        ws_url=None if server is None else server.ws_url,
        rate_limited_pause_s=0.1,
        **kw,
    ),
    keys={
        "BITGET_API_KEY": "local-bitget-key",
        "BITGET_API_SECRET": "local-bitget-secret",
        "BITGET_API_PASSPHRASE": "local-bitget-passphrase",
    },
    secrets=["BITGET_API_SECRET", "BITGET_API_PASSPHRASE"],
    topic=f"books:{SYMBOL}",
    frames=_frames,
    levels_of=_levels,
    corrupt_counter="checksum_failures",
    drop_counter="checksum_failures",
    place_path="/api/v2/spot/trade/place-order",
    refused=r"BITGET refused the API credentials \(BITGET_API_KEY / BITGET_API_SECRET / BITGET_API_PASSPHRASE\)",
    check_account=_account,
    book_key=SYMBOL,
)


def test_bitget_book_matches_the_recording_after_every_message_and_recovers_from_corrupt_and_dropped_frames() -> (
    None
):
    run(e2e.scenario_book(CASE, first=0, corrupt_at=15, drop_at=25, last=40))


def test_bitget_order_is_acknowledged_partially_filled_and_cancelled_and_stream_rest_and_node_agree() -> None:
    run(e2e.scenario_order(CASE))


def test_bitget_adapter_reconnects_and_rebuilds_after_the_server_dies_mid_stream() -> None:
    run(e2e.scenario_reconnect(CASE))


def test_bitget_429_burst_is_absorbed_by_backing_off_without_exceeding_the_limit() -> None:
    run(e2e.scenario_rate_limit(CASE))


def test_bitget_refuses_to_start_without_keys_with_malformed_keys_and_with_keys_the_venue_rejects(
    caplog: pytest.LogCaptureFixture,
) -> None:
    run(e2e.scenario_keys(CASE, caplog))


def test_bitget_orders_placed_and_cancelled_in_batches_are_each_acknowledged_and_cancelled() -> None:
    run(e2e.scenario_batch(CASE))


def test_bitget_modify_moves_the_order_to_its_new_price_and_size_and_is_never_refused() -> None:
    run(e2e.scenario_modify(CASE))
