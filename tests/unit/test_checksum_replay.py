"""Replay the recorded OKX, Bitget and Kraken books and check every checksum the venue sent.

Then change one digit of one level and show the resync path: the mismatch is detected, the handler
discards that instrument's book, ignores its updates until the next snapshot arrives, applies it, and
every later checksum matches again.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.conftest import shared_data
from tradewright.data._parse import BookMessage, parse_checksum_recording
from tradewright.data.verify import ChecksumReplay, infer_instruments, replay_checksums

RECORDINGS = {
    "okx": ("checksums/okx_books_ws_2022-05-13.cryptofeed.gz", 290),
    "bitget_spot": ("checksums/bitget_spot_books_ws_2022-04-07.cryptofeed.gz", 443),
    "bitget_mix": ("checksums/bitget_mix_books_ws_2022-04-07.cryptofeed.gz", 194),
    "kraken": ("checksums/kraken_book1000_ws_2021-04-17.cryptofeed.gz", 4269),
}


def _lines(name: str) -> list[bytes]:
    with gzip.open(shared_data(RECORDINGS[name][0]), "rb") as fh:
        return fh.read().split(b"\n")


def _replay(lines: list[bytes]) -> tuple[ChecksumReplay, list[BookMessage]]:
    venue, messages = parse_checksum_recording(Path("recording"), lines)
    replay = ChecksumReplay(venue, infer_instruments(venue, messages))
    for msg in messages:
        replay.apply(msg)
    return replay, messages


@pytest.mark.parametrize("name", list(RECORDINGS))
def test_every_recorded_checksum_matches_the_rebuilt_book(name: str) -> None:
    path, expected = RECORDINGS[name]
    results = replay_checksums(shared_data(path))
    checked = sum(r.checksums_checked for r in results)
    print(f"{name}: {checked} checksums checked over {len(results)} instruments")
    assert checked == expected
    assert [r.checksum_failures for r in results] == [0] * len(results)
    assert sum(r.unsynced_diffs for r in results) == 0


# --- one changed digit, then the resync -----------------------------------------------------------------
def _bump_first_digit(value: str) -> str:
    i = next(k for k, c in enumerate(value) if c in "123456789")
    return value[:i] + str(int(value[i]) % 9 + 1) + value[i + 1 :]


def _okx_like_snapshot_line(stamp: bytes, key: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]],
                            checksum: int, bitget: bool) -> bytes:  # fmt: skip
    arg = (
        {"instType": "sp", "channel": "books", "instId": key}
        if bitget
        else {"channel": "books", "instId": key}
    )
    pad = [] if bitget else ["0", "1"]
    data = {
        "asks": [[p, s, *pad] for p, s in asks],
        "bids": [[p, s, *pad] for p, s in bids],
        "checksum": checksum,
        "ts": "0",
    }
    body = {"arg": arg, "action": "snapshot", "data": [data]}
    return stamp + b": " + json.dumps(body, separators=(",", ":")).encode()


def _kraken_snapshot_line(
    stamp: bytes, key: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]]
) -> bytes:
    body = [0, {"as": [[p, v, "0"] for p, v in asks], "bs": [[p, v, "0"] for p, v in bids]}, "book-1000", key]
    return stamp + b": " + json.dumps(body, separators=(",", ":")).encode()


def _corrupt_snapshot(venue: str, line: bytes) -> tuple[bytes, str]:
    """Change one digit of the best level's size in a snapshot line; return it and the instrument key."""
    stamp, _, body = line.partition(b": ")
    msg = json.loads(body)
    if venue == "kraken":
        msg[1]["as"][0][1] = _bump_first_digit(msg[1]["as"][0][1])
        key = msg[-1]
    else:
        msg["data"][0]["bids"][0][1] = _bump_first_digit(msg["data"][0]["bids"][0][1])
        key = msg["arg"]["instId"]
    return stamp + b": " + json.dumps(msg, separators=(",", ":")).encode(), key


@pytest.mark.parametrize("name", ["okx", "bitget_spot", "kraken"])
def test_one_changed_digit_is_detected_and_the_book_resyncs_from_the_next_snapshot(name: str) -> None:
    lines = _lines(name)
    clean, clean_msgs = _replay(lines)
    venue = clean.rule.value
    first_snapshot = next(m for m in clean_msgs if m.is_snapshot)
    key = first_snapshot.key
    updates = [m for m in clean_msgs if m.key == key and not m.is_snapshot]
    resync_after = updates[9]  # the venue's next snapshot arrives after the 10th update

    # the book as it really was after that update, which is what the next snapshot carries
    truth, _ = _replay(lines[: resync_after.line])
    store = truth.books[key].store
    bids, asks = store.top(1, store.level_count(1)), store.top(-1, store.level_count(-1))
    stamp = lines[resync_after.line - 1].partition(b": ")[0]
    if venue == "kraken":
        snapshot = _kraken_snapshot_line(stamp, key, bids, asks)
    else:
        assert resync_after.checksum is not None
        snapshot = _okx_like_snapshot_line(stamp, key, bids, asks, resync_after.checksum, venue == "bitget")

    edited = list(lines)
    edited[first_snapshot.line - 1], corrupted_key = _corrupt_snapshot(venue, lines[first_snapshot.line - 1])
    assert corrupted_key == key
    edited.insert(resync_after.line, snapshot)
    replay, _ = _replay(edited)

    result = replay.books[key].result
    clean_result = clean.books[key].result
    assert result.checksum_failures == 1
    assert (
        "checksum mismatch: venue sent" in result.examples[0] and key.replace("/", "") in result.examples[0]
    )
    # the failing message's own updates and those up to the new snapshot were ignored, not applied
    ignored = [u for u in updates if u.line <= resync_after.line]
    failed_at = next(u for u in [first_snapshot, *ignored] if u.checksum is not None)
    skipped = [u for u in ignored if u.line > failed_at.line]
    assert result.unsynced_diffs == len(skipped)
    # after the snapshot every checksum the venue sent matches again
    checked_after = sum(1 for u in updates if u.line > resync_after.line and u.checksum is not None)
    assert result.checksums_checked == 1 + checked_after + (1 if venue != "kraken" else 0)
    assert clean_result.checksums_checked == sum(
        1 for m in clean_msgs if m.key == key and m.checksum is not None
    )
    # and no other instrument noticed anything
    for other, book in replay.books.items():
        if other != key:
            assert book.result.checksum_failures == 0
            assert book.result.checksums_checked == clean.books[other].result.checksums_checked
