"""Check recorded market data: rebuild the book and compare it with what the venue itself said.

* Binance recordings (or their Parquet cache): the loader's sequence gaps, the messages it refused (by
  reason: malformed, out of range, duplicate trades, time going backwards, ... — see
  `tradewright.data._checks`) and diffs it could not apply; then the book is rebuilt row by row and,
  right after each applied diff, its best bid and ask are compared with every bookTicker whose update id
  equals that diff's final update id ``u``.
* Checksum venues (cryptofeed recordings of OKX, Bitget, Kraken books): every book message's checksum is
  checked against the rebuilt book; a failure discards the book until the next snapshot. A message that
  cannot be decoded or holds a level that is not a number is counted as malformed and skipped (the book
  is then discarded until the next snapshot too).

`verify_path` dispatches on the file; each result is a `Verification` whose `problems` must be 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numba import njit

from tradewright.core.errors import BookError, ChecksumMismatch, DataError, GridError, SequenceGap
from tradewright.data._checks import rejected_counts
from tradewright.data._parse import (
    BookMessage,
    Issue,
    finest_step,
    grid_instrument,
    parse_checksum_recording,
)
from tradewright.model._ladder_jit import OK, ladder_set
from tradewright.model.book import OrderBook
from tradewright.model.book_sync import Decision, PrevSeqSync
from tradewright.model.checksum import ChecksumRule, LevelStrings, verify_checksum
from tradewright.model.columnar import F_LAST, KIND_CLEAR, KIND_DELTA, KIND_QUOTE, MarketStream
from tradewright.model.instrument import Instrument

__all__ = ["ChecksumReplay", "Verification", "compare_quotes", "replay_checksums", "verify_stream"]


@dataclass(slots=True)
class Verification:
    """What one check of one instrument's data found; `problems` counts what must not happen."""

    source: str
    instrument: str
    messages: int = 0
    sequence_gaps: int = 0
    malformed_lines: int = 0
    unsynced_diffs: int = 0
    quotes: int = 0
    quotes_compared: int = 0
    quote_mismatches: int = 0
    checksums_checked: int = 0
    checksum_failures: int = 0
    levels_beyond_range: int = 0  # far levels the ladder cannot hold (they never reach the top)
    rejected: dict[str, int] = field(default_factory=dict)  # messages refused, by reason (malformed, ...)
    zero_size_levels: int = 0  # zero-size levels inside snapshots (harmless, but not what a venue sends)
    examples: list[str] = field(default_factory=list)

    @property
    def problems(self) -> int:
        refused = sum(self.rejected.values()) if self.rejected else self.malformed_lines
        return (
            self.sequence_gaps
            + refused
            + self.zero_size_levels
            + self.quote_mismatches
            + self.checksum_failures
            + (1 if self.unsynced_diffs and not self.sequence_gaps else 0)
        )


# --- Binance: rebuild and compare with bookTicker ----------------------------------------------------
_TOP_COLS = 6  # update_id, bid tick, bid lots, ask tick, ask lots, 1 if the message was a snapshot


@njit(cache=True, nogil=True)
def _replay_tops(
    bids: np.ndarray,
    asks: np.ndarray,
    st: np.ndarray,
    kind: np.ndarray,
    side: np.ndarray,
    tick: np.ndarray,
    lots: np.ndarray,
    flags: np.ndarray,
    uid: np.ndarray,
    start: int,
    skip: int,
    tops: np.ndarray,
    n_tops: int,
    snapshot: bool,
) -> tuple[int, int, bool]:
    """Apply book rows from `start` and record the top after every book message.

    Row `skip` is passed over (a level the ladder cannot hold). Stop at a row that does not fit the
    ladder and return (row, tops recorded, inside a snapshot); the row is len(kind) when done.
    """
    for k in range(start, len(kind)):
        kd = kind[k]
        if kd == KIND_CLEAR:
            bids[:] = 0
            asks[:] = 0
            st[1] = -1
            st[2] = -1
            snapshot = True
        elif kd == KIND_DELTA:
            if k != skip:
                if st[0] < 0:
                    return k, n_tops, snapshot
                if ladder_set(bids, asks, st, side[k], tick[k], lots[k]) != OK and lots[k] != 0:
                    return k, n_tops, snapshot
        else:
            continue
        if flags[k] & F_LAST:
            tops[n_tops, 0] = uid[k]
            tops[n_tops, 1] = st[0] + st[1] if st[1] >= 0 else -1
            tops[n_tops, 2] = bids[st[1]] if st[1] >= 0 else 0
            tops[n_tops, 3] = st[0] + st[2] if st[2] >= 0 else -1
            tops[n_tops, 4] = asks[st[2]] if st[2] >= 0 else 0
            tops[n_tops, 5] = 1 if snapshot else 0
            n_tops += 1
            snapshot = False
    return len(kind), n_tops, snapshot


def book_tops(stream: MarketStream) -> tuple[np.ndarray, int]:
    """Rebuild the book; return the top after every book message (see `_TOP_COLS`) and the far levels skipped."""
    book = OrderBook(stream.instrument)
    is_book = stream.kind <= KIND_CLEAR
    tops = np.zeros((int(np.count_nonzero(is_book & (stream.flags & F_LAST > 0))), _TOP_COLS), dtype=np.int64)
    row, n_tops, skip, far, snapshot = 0, 0, -1, 0, False
    while True:
        bids, asks, st = book.arrays
        row, n_tops, snapshot = _replay_tops(
            bids, asks, st, stream.kind, stream.side, stream.tick, stream.lots, stream.flags,
            stream.update_id, row, skip, tops, n_tops, snapshot,
        )  # fmt: skip
        if row >= len(stream):
            return tops[:n_tops], far
        try:
            book.ensure_range(int(stream.tick[row]))
            skip = -1
        except BookError:
            far += 1
            skip = row


def compare_quotes(stream: MarketStream, result: Verification, max_examples: int = 5) -> None:
    """Compare the rebuilt top with each bookTicker whose update id is an applied diff's final id."""
    tops, result.levels_beyond_range = book_tops(stream)
    diffs = tops[tops[:, 5] == 0]
    order = np.argsort(diffs[:, 0], kind="stable")
    diff_ids = diffs[order, 0]
    bid_rows = np.flatnonzero((stream.kind[:-1] == KIND_QUOTE) & (stream.side[:-1] > 0))
    ask_rows = bid_rows + 1
    paired = (stream.kind[ask_rows] == KIND_QUOTE) & (stream.side[ask_rows] < 0)
    paired &= stream.update_id[ask_rows] == stream.update_id[bid_rows]
    bid_rows, ask_rows = bid_rows[paired], ask_rows[paired]  # a quote is a bid row then its ask row
    result.quotes = len(bid_rows)
    q_ids = stream.update_id[bid_rows]
    pos = np.minimum(np.searchsorted(diff_ids, q_ids), max(len(diff_ids) - 1, 0))
    matched = (diff_ids[pos] == q_ids) if len(diff_ids) else np.zeros(len(q_ids), dtype=bool)
    book = diffs[order][pos[matched]]
    quote = np.stack(
        [
            stream.tick[bid_rows][matched],
            stream.lots[bid_rows][matched],
            stream.tick[ask_rows][matched],
            stream.lots[ask_rows][matched],
        ],
        axis=1,
    )
    differs = np.flatnonzero((book[:, 1:5] != quote).any(axis=1))
    result.quotes_compared = int(matched.sum())
    result.quote_mismatches = len(differs)
    inst = stream.instrument
    for k in differs[:max_examples].tolist():
        b, q = book[k], quote[k]
        result.examples.append(
            f"u={b[0]}: book {_px(inst, b[1])}x{_sz(inst, b[2])} / {_px(inst, b[3])}x{_sz(inst, b[4])}, "
            f"bookTicker {_px(inst, q[0])}x{_sz(inst, q[1])} / {_px(inst, q[2])}x{_sz(inst, q[3])}"
        )


def _px(inst: Instrument, tick: int) -> str:
    return "-" if tick < 0 else str(inst.ticks_to_price(int(tick)))


def _sz(inst: Instrument, lots: int) -> str:
    return str(inst.lots_to_size(int(lots)))


def verify_stream(stream: MarketStream, issues: Iterable[Issue] = ()) -> Verification:
    """Check a loaded (or cached) stream: the loader's counts, then the book against the quotes."""
    stats = stream.stats
    result = Verification(
        source=stream.source,
        instrument=str(stream.instrument.id),
        messages=stats.get("messages", int(np.count_nonzero(stream.flags & F_LAST))),
        sequence_gaps=stats.get("sequence_gaps", 0),
        malformed_lines=stats.get("malformed_lines", 0),
        unsynced_diffs=stats.get("diffs_unsynced", 0),
        rejected=rejected_counts(stats),
        zero_size_levels=stats.get("zero_size_levels", 0),
    )
    result.examples.extend(str(issue) for issue in list(issues)[:5])
    compare_quotes(stream, result)
    return result


# --- checksum venues ------------------------------------------------------------------------------
_RULES = {"okx": ChecksumRule.OKX, "bitget": ChecksumRule.BITGET, "kraken": ChecksumRule.KRAKEN}


@dataclass(slots=True)
class _Book:
    store: LevelStrings
    depth: int  # levels a side the venue maintains (Kraken's subscription depth), 0 = unbounded
    seq: PrevSeqSync
    result: Verification
    synced: bool = False


class ChecksumReplay:
    """Rebuild checksummed books message by message and check every checksum.

    On a mismatch or a sequence gap the handler discards that instrument's book and ignores its updates
    until the venue sends the next snapshot — the same thing a live client does after resubscribing.
    """

    def __init__(
        self,
        venue: str,
        instruments: dict[str, Instrument],
        source: str = "",
        on_issue: Callable[[Issue], None] | None = None,
    ) -> None:
        self.rule = _RULES[venue]
        self.source = source
        self.on_issue = on_issue
        self.books: dict[str, _Book] = {}
        for key, inst in instruments.items():
            self.books[key] = _Book(
                LevelStrings(OrderBook(inst)),
                0,
                PrevSeqSync(str(inst.id)),
                Verification(source, str(inst.id)),
            )

    def apply(self, msg: BookMessage) -> None:
        """Apply one venue book message, then check its checksum (if it carries one)."""
        book = self.books[msg.key]
        result = book.result
        result.messages += 1
        if msg.is_snapshot:
            book.store.clear()
            book.depth = msg.depth
            book.synced = True
            if msg.seq is not None:
                book.seq.on_snapshot(msg.seq)
        elif not book.synced:
            result.unsynced_diffs += 1
            return
        elif msg.seq is not None and msg.prev_seq is not None:
            try:
                if book.seq.on_update(msg.seq, msg.prev_seq) is not Decision.APPLY:
                    result.unsynced_diffs += 1
                    return
            except SequenceGap as gap:
                result.sequence_gaps += 1
                self._discard(book, msg, str(gap))
                return
        try:
            for side, levels in ((1, msg.bids), (-1, msg.asks)):
                for price, size in levels:
                    book.store.set(side, price, size)
        except (GridError, BookError) as exc:  # a level that is not a number on the grid: the book is unknown
            result.malformed_lines += 1
            result.rejected["malformed"] = result.rejected.get("malformed", 0) + 1
            self._discard(book, msg, f"malformed level: {exc}")
            return
        if book.depth:
            book.store.truncate(book.depth)
        if msg.checksum is None:
            return
        result.checksums_checked += 1
        try:
            verify_checksum(self.rule, book.store, msg.checksum)
        except ChecksumMismatch as exc:
            result.checksum_failures += 1
            self._discard(book, msg, str(exc))

    def _discard(self, book: _Book, msg: BookMessage, why: str) -> None:
        """Resync path: drop the book; its updates are ignored until the next snapshot."""
        book.store.clear()
        book.synced = False
        book.seq.reset()
        if len(book.result.examples) < 5:
            book.result.examples.append(f"line {msg.line}: {why}")
        if self.on_issue is not None:
            kind = "checksum" if "checksum" in why else "malformed" if "malformed" in why else "sequence_gap"
            self.on_issue(Issue(kind, self.source, msg.line, why))

    def results(self) -> list[Verification]:
        return [book.result for book in self.books.values()]


def infer_instruments(venue: str, messages: list[BookMessage]) -> dict[str, Instrument]:
    """Grid-only instruments for a recording: tick and lot from the finest decimals in its messages."""
    prices: dict[str, list[str]] = {}
    sizes: dict[str, list[str]] = {}
    for msg in messages:
        for levels in (msg.bids, msg.asks):
            prices.setdefault(msg.key, []).extend(p for p, _ in levels)
            sizes.setdefault(msg.key, []).extend(s for _, s in levels)
    return {
        key: grid_instrument(venue, key.replace("/", ""), finest_step(prices[key]), finest_step(sizes[key]))
        for key in prices
    }


def replay_checksums(path: Path, on_issue: Callable[[Issue], None] | None = None) -> list[Verification]:
    """Replay a cryptofeed recording of a checksum venue; one result per instrument.

    Messages that cannot be decoded are skipped, reported to `on_issue` and counted as malformed in every
    result (which instrument they were for cannot be told).
    """
    issues: list[Issue] = []
    venue, messages = parse_checksum_recording(path, on_issue=issues.append)
    if not messages:
        raise DataError("no book messages found", source=str(path))
    replay = ChecksumReplay(venue, infer_instruments(venue, messages), str(path), on_issue)
    for msg in messages:
        replay.apply(msg)
    results = replay.results()
    for issue in issues:
        if on_issue is not None:
            on_issue(issue)
        for result in results:
            result.malformed_lines += 1
            result.rejected["malformed"] = result.rejected.get("malformed", 0) + 1
            if len(result.examples) < 5:
                result.examples.append(str(issue))
    return results
