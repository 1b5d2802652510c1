"""Binance diff-depth and OKX prevSeqId sequence rules, on ids taken from the real recordings."""

from __future__ import annotations

import pytest

from tradewright.core.errors import SequenceGap
from tradewright.model.book_sync import BinanceFuturesSync, BinanceSpotSync, Decision, PrevSeqSync, SyncState


# --- spot: U/u ---------------------------------------------------------------------------------------
def test_spot_sync_follows_binance_rule_on_the_recorded_ids() -> None:
    # binance_spot_btcusdt_20240808: REST snapshot lastUpdateId=50093239218 arrived after three diffs.
    sync = BinanceSpotSync("BTCUSDT.BINANCE")
    assert sync.on_diff(50093239189, 50093239202) is Decision.HOLD  # no snapshot yet
    sync.on_snapshot(50093239218)
    assert sync.on_diff(50093239189, 50093239202) is Decision.DROP  # u <= lastUpdateId
    assert sync.on_diff(50093239203, 50093239207) is Decision.DROP
    assert sync.on_diff(50093239208, 50093239224) is Decision.APPLY  # U <= 50093239219 <= u
    assert sync.on_diff(50093239225, 50093239237) is Decision.APPLY  # U == previous u + 1
    assert sync.last_update_id == 50093239237
    assert sync.state is SyncState.LIVE


def test_spot_gap_names_expected_and_received_ids_then_holds_until_a_snapshot() -> None:
    sync = BinanceSpotSync("BTCUSDT.BINANCE")
    sync.on_snapshot(100)
    assert sync.on_diff(95, 101) is Decision.APPLY
    with pytest.raises(SequenceGap, match=r"expected U=102, received U=103 \(U=103 u=110\)"):
        sync.on_diff(103, 110)
    assert sync.on_diff(111, 120) is Decision.HOLD
    sync.on_snapshot(115)
    assert sync.on_diff(111, 120) is Decision.APPLY


def test_spot_first_diff_must_bridge_the_snapshot() -> None:
    sync = BinanceSpotSync()
    sync.on_snapshot(100)
    assert sync.on_diff(90, 100) is Decision.DROP  # u == lastUpdateId is already in the snapshot
    with pytest.raises(SequenceGap, match=r"expected a diff with U <= 101 <= u, received U=102 u=105"):
        sync.on_diff(102, 105)
    assert not sync.synced


def test_spot_first_diff_may_start_exactly_after_the_snapshot() -> None:
    sync = BinanceSpotSync()
    sync.on_snapshot(100)
    assert sync.on_diff(101, 101) is Decision.APPLY


def test_spot_duplicate_of_an_applied_diff_is_dropped_not_a_gap() -> None:
    sync = BinanceSpotSync()
    sync.on_snapshot(100)
    sync.on_diff(101, 110)
    assert sync.on_diff(101, 110) is Decision.DROP
    assert sync.on_diff(111, 112) is Decision.APPLY


# --- futures: U/u/pu -----------------------------------------------------------------------------------
def test_futures_sync_follows_binance_rule_on_the_recorded_ids() -> None:
    # binance_usdm_btcusdt_20240808: snapshot lastUpdateId=5123107852948 (line 55).
    sync = BinanceFuturesSync("BTCUSDT-PERP.BINANCE")
    sync.on_snapshot(5123107852948)
    assert sync.on_diff(5123107832006, 5123107837557, 5123107831937) is Decision.DROP  # line 1: u < id
    assert sync.on_diff(5123107850310, 5123107853551, 5123107850146) is Decision.APPLY  # line 42 bridges
    assert sync.on_diff(5123107853748, 5123107856210, 5123107853551) is Decision.APPLY  # line 50: pu == u
    assert sync.on_diff(5123107856267, 5123107858366, 5123107856210) is Decision.APPLY  # line 57
    assert sync.last_update_id == 5123107858366


def test_futures_gap_names_expected_and_received_pu() -> None:
    sync = BinanceFuturesSync("BTCUSDT-PERP.BINANCE")
    sync.on_snapshot(5123107852948)
    sync.on_diff(5123107850310, 5123107853551, 5123107850146)
    # line 50 is missing: line 57 says its predecessor was 5123107856210
    with pytest.raises(SequenceGap, match=r"expected pu=5123107853551, received pu=5123107856210"):
        sync.on_diff(5123107856267, 5123107858366, 5123107856210)
    assert sync.on_diff(5123107858767, 5123107860939, 5123107858366) is Decision.HOLD


def test_futures_first_diff_must_contain_the_snapshot_id() -> None:
    sync = BinanceFuturesSync()
    sync.on_snapshot(100)
    assert sync.on_diff(90, 99, 80) is Decision.DROP  # u < lastUpdateId
    assert sync.on_diff(95, 100, 99) is Decision.APPLY  # u == lastUpdateId is kept: U <= 100 <= u

    late = BinanceFuturesSync()
    late.on_snapshot(100)
    with pytest.raises(SequenceGap, match=r"U <= 100 <= u, received U=101 u=105"):
        late.on_diff(101, 105, 100)


def test_futures_diff_without_pu_is_a_gap() -> None:
    sync = BinanceFuturesSync()
    sync.on_snapshot(100)
    sync.on_diff(95, 105, 90)
    with pytest.raises(SequenceGap, match="has no pu"):
        sync.on_diff(106, 110, None)
    assert not sync.synced


def test_reset_discards_the_book_until_the_next_snapshot() -> None:
    sync = BinanceFuturesSync()
    sync.on_snapshot(100)
    sync.on_diff(95, 105, 90)
    sync.reset()
    assert sync.on_diff(106, 110, 105) is Decision.HOLD


# --- OKX seqId / prevSeqId -------------------------------------------------------------------------------
def test_prev_seq_sync_chains_updates_and_names_the_gap() -> None:
    sync = PrevSeqSync("BTC-USDT.OKX")
    assert sync.on_update(11, 10) is Decision.HOLD
    sync.on_snapshot(10)
    assert sync.on_update(11, 10) is Decision.APPLY
    assert sync.on_update(11, 11) is Decision.APPLY  # OKX: nothing changed, same seqId
    with pytest.raises(SequenceGap, match=r"expected prevSeqId=11, received prevSeqId=12 \(seqId=13\)"):
        sync.on_update(13, 12)
    assert sync.on_update(14, 13) is Decision.HOLD
