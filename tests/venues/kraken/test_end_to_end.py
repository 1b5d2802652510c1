"""Kraken spot end to end through CCXT against the local Kraken server, which transcodes the real 2021
WebSocket v1 recording to v2 (each subscriber's depth window; checksums recomputed by the v2 rule):
markets from the recorded AssetPairs, a book that matches the recording (within the subscribed depth)
after every message, corrupt and dropped frames caught by our checksum check (CCXT's is off and broken)
and recovered by unsubscribing and subscribing again, an order's whole life, a server killed
mid-stream, a rate-limit burst, fail-closed keys (the base64 secret checked). Nothing leaves 127.0.0.1."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from tests.servers.support import recording, run
from tests.venues import e2e
from tradewright.engine.venue_state import AccountSnapshot
from tradewright.model.events import OrderFilled
from tradewright.servers.kraken import KrakenProtocol
from tradewright.venues import kraken

SYMBOL = "XMR/USD"
DEPTH = 100


def _frames() -> list[list[Any]]:
    (session,) = [
        s
        for s in recording("kraken").sessions_matching("ws.kraken.com")
        if s.source.endswith("KRAKEN.ws.50.0.gz")
    ]
    msgs = [json.loads(f.text) for f in session.frames]
    return [m for m in msgs if isinstance(m, list) and m[-1] == SYMBOL and str(m[-2]).startswith("book")]


def _levels(msg: list[Any]) -> tuple[bool, list[tuple[str, str]], list[tuple[str, str]]]:
    blocks = [b for b in msg[1:-2] if isinstance(b, dict)]
    snapshot = any("as" in b for b in blocks)
    bids = [(lv[0], lv[1]) for b in blocks for lv in b.get("bs", b.get("b", []))]
    asks = [(lv[0], lv[1]) for b in blocks for lv in b.get("as", b.get("a", []))]
    return snapshot, bids, asks


class _Window(e2e.Reference):
    """The recording's book (Kraken's v1 depth 1000), seen through a depth-100 subscription."""

    def levels(self, side: int) -> list[tuple[str, str]]:
        full = super().levels(side)[:1000]
        return full[:DEPTH]


def _account(node: e2e.Node, account: AccountSnapshot, fills: list[OrderFilled]) -> None:
    (fill,) = fills
    assert (
        account.balances["XMR"] - Decimal(1_000)
        == node.kernel.portfolio.position(node.instrument).quantity
        == fill.last_qty
    )
    assert account.balances["USD"] == Decimal(100_000) - fill.last_px * fill.last_qty - fill.fee


CASE = e2e.VenueCase(
    protocol=lambda: KrakenProtocol(recording("kraken")),
    package=kraken,
    config=lambda server, **kw: kraken.KrakenConfig(
        symbols=(SYMBOL,),
        rest_url=None if server is None else server.url,
        ws_url=None if server is None else server.ws_url,
        rate_limited_pause_s=0.1,
        **kw,
    ),
    keys={
        "KRAKEN_API_KEY": "local-kraken-key",
        "KRAKEN_API_SECRET": "bG9jYWwta3Jha2VuLXNlY3JldC1mb3ItdGVzdHM=",
    },
    secrets=["KRAKEN_API_SECRET"],
    topic=f"book:{SYMBOL}",
    frames=_frames,
    levels_of=_levels,
    corrupt_counter="checksum_failures",
    drop_counter="checksum_failures",
    place_path="/0/private/AddOrder",
    refused=r"KRAKEN refused the API credentials \(KRAKEN_API_KEY / KRAKEN_API_SECRET\)",
    check_account=_account,
    book_key=SYMBOL,
    reference=_Window,
    depth=DEPTH,
)


def test_kraken_book_matches_the_recording_after_every_message_and_recovers_from_corrupt_and_dropped_frames() -> (
    None
):
    run(e2e.scenario_book(CASE, first=0, corrupt_at=30, drop_at=60, last=100), timeout=120)


def test_kraken_order_is_acknowledged_partially_filled_and_cancelled_and_stream_rest_and_node_agree() -> None:
    run(e2e.scenario_order(CASE))


def test_kraken_adapter_reconnects_and_rebuilds_after_the_server_dies_mid_stream() -> None:
    run(e2e.scenario_reconnect(CASE))


def test_kraken_rate_limit_burst_is_absorbed_by_backing_off_without_exceeding_the_limit() -> None:
    run(e2e.scenario_rate_limit(CASE))


def test_kraken_refuses_to_start_without_keys_with_malformed_keys_and_with_keys_the_venue_rejects(
    caplog: pytest.LogCaptureFixture,
) -> None:
    run(e2e.scenario_keys(CASE, caplog))


def test_kraken_orders_placed_and_cancelled_in_batches_are_each_acknowledged_and_cancelled() -> None:
    run(e2e.scenario_batch(CASE))


def test_kraken_modify_moves_the_order_to_its_new_price_and_size_and_is_never_refused() -> None:
    run(e2e.scenario_modify(CASE))
