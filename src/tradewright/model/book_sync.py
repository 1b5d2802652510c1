"""Sequence tracking for incremental books: pure state machines, one per venue rule.

Each tracker answers one question per incoming diff — apply it, drop it as stale, or hold it until a
snapshot arrives — and raises `SequenceGap` when an update was missed. It never touches a book or the
network: the caller owns the book, the buffer of early diffs and the snapshot request, so the same
tracker serves the live feed and the recording loaders.

Binance diff-depth (https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams and
the USD-M / COIN-M "How to manage a local order book correctly" pages):

* spot: drop diffs with ``u <= lastUpdateId``; the first applied diff has ``U <= lastUpdateId + 1 <= u``;
  afterwards every diff's ``U`` is the previous ``u + 1``.
* futures (USD-M and COIN-M): drop diffs with ``u < lastUpdateId``; the first applied diff has
  ``U <= lastUpdateId <= u``; afterwards every diff's ``pu`` is the previous ``u``.

OKX v5 books carry ``seqId``/``prevSeqId``: a snapshot sets ``seqId`` and each update's ``prevSeqId`` is
the previous message's ``seqId`` (see `PrevSeqSync`).
"""

from __future__ import annotations

import enum
from typing import ClassVar

from tradewright.core.errors import SequenceGap

__all__ = ["BinanceFuturesSync", "BinanceSpotSync", "Decision", "PrevSeqSync", "SyncState"]


class Decision(enum.Enum):
    """What the caller should do with one diff."""

    APPLY = "apply"  # apply it to the book
    DROP = "drop"  # already contained in the snapshot (or a duplicate): ignore it
    HOLD = "hold"  # no snapshot yet: buffer it and offer it again once the snapshot is in


class SyncState(enum.Enum):
    NEEDS_SNAPSHOT = "needs_snapshot"  # at start and after a gap: the book cannot be trusted
    AWAITING_FIRST = "awaiting_first"  # snapshot taken; looking for the diff that bridges it
    LIVE = "live"  # every applied diff followed the previous one


class _BinanceSync:
    """The Binance rules; `futures` selects spot (``U`` chains) or futures (``pu`` chains)."""

    __slots__ = ("last_update_id", "name", "snapshot_id", "state")
    futures: ClassVar[bool]

    def __init__(self, name: str = "") -> None:
        self.name = name
        self.state = SyncState.NEEDS_SNAPSHOT
        self.snapshot_id = 0
        self.last_update_id = 0  # the book's id: the snapshot's, then the last applied diff's `u`

    @property
    def synced(self) -> bool:
        """True once a snapshot has been taken and no gap has been seen since (diffs are not held)."""
        return self.state is not SyncState.NEEDS_SNAPSHOT

    def on_snapshot(self, last_update_id: int) -> None:
        """Start over from a REST snapshot whose ``lastUpdateId`` is given."""
        self.state = SyncState.AWAITING_FIRST
        self.snapshot_id = last_update_id
        self.last_update_id = last_update_id

    def reset(self) -> None:
        """Forget the book (e.g. after a checksum failure): every diff is held until the next snapshot."""
        self.state = SyncState.NEEDS_SNAPSHOT

    def on_diff(self, first_id: int, final_id: int, prev_final_id: int | None = None) -> Decision:
        """Decide about one diff (``U``, ``u`` and, for futures, ``pu``); raise `SequenceGap` on a gap.

        After a gap the tracker needs a new snapshot: further diffs are answered with HOLD.
        """
        if self.state is SyncState.NEEDS_SNAPSHOT:
            return Decision.HOLD
        if self.state is SyncState.AWAITING_FIRST:
            if self._is_stale_for_snapshot(final_id):
                return Decision.DROP
            if not self._bridges_snapshot(first_id, final_id):
                self.state = SyncState.NEEDS_SNAPSHOT
                raise SequenceGap(
                    f"{self._who()}sequence gap after snapshot: expected a diff with {self._bridge_rule()}, "
                    f"received U={first_id} u={final_id}; resync from a new snapshot"
                )
            self.state = SyncState.LIVE
            self.last_update_id = final_id
            return Decision.APPLY
        if final_id <= self.last_update_id:
            return Decision.DROP  # a duplicate of something already applied
        self._check_continues(first_id, final_id, prev_final_id)
        self.last_update_id = final_id
        return Decision.APPLY

    def _gap(self, what: str, expected: int, received: int, first_id: int, final_id: int) -> SequenceGap:
        self.state = SyncState.NEEDS_SNAPSHOT
        return SequenceGap(
            f"{self._who()}sequence gap: expected {what}={expected}, received {what}={received} "
            f"(U={first_id} u={final_id}); resync from a new snapshot"
        )

    def _who(self) -> str:
        return f"{self.name}: " if self.name else ""

    # The two Binance rules differ only here.
    def _is_stale_for_snapshot(self, final_id: int) -> bool:
        return final_id < self.snapshot_id if self.futures else final_id <= self.snapshot_id

    def _bridge_id(self) -> int:
        return self.snapshot_id if self.futures else self.snapshot_id + 1

    def _bridges_snapshot(self, first_id: int, final_id: int) -> bool:
        return first_id <= self._bridge_id() <= final_id

    def _bridge_rule(self) -> str:
        return f"U <= {self._bridge_id()} <= u"

    def _check_continues(self, first_id: int, final_id: int, prev_final_id: int | None) -> None:
        if not self.futures:
            if first_id != self.last_update_id + 1:
                raise self._gap("U", self.last_update_id + 1, first_id, first_id, final_id)
            return
        if prev_final_id is None:
            self.state = SyncState.NEEDS_SNAPSHOT
            raise SequenceGap(f"{self._who()}futures diff U={first_id} u={final_id} has no pu")
        if prev_final_id != self.last_update_id:
            raise self._gap("pu", self.last_update_id, prev_final_id, first_id, final_id)


class BinanceSpotSync(_BinanceSync):
    """Binance spot diff-depth rule (``U``/``u``; no ``pu``)."""

    __slots__ = ()
    futures: ClassVar[bool] = False


class BinanceFuturesSync(_BinanceSync):
    """Binance USD-M and COIN-M futures diff-depth rule (``U``/``u``/``pu``)."""

    __slots__ = ()
    futures: ClassVar[bool] = True


class PrevSeqSync:
    """Chained sequence ids (OKX v5 ``seqId``/``prevSeqId``): each update names its predecessor.

    A snapshot sets the sequence; an update applies only if its ``prevSeqId`` is the last ``seqId``
    (OKX may send ``seqId == prevSeqId`` for a message that changes nothing; that still chains).
    """

    __slots__ = ("last_seq", "name", "state")

    def __init__(self, name: str = "") -> None:
        self.name = name
        self.state = SyncState.NEEDS_SNAPSHOT
        self.last_seq = 0

    @property
    def synced(self) -> bool:
        return self.state is not SyncState.NEEDS_SNAPSHOT

    def on_snapshot(self, seq: int) -> None:
        self.state = SyncState.LIVE
        self.last_seq = seq

    def reset(self) -> None:
        self.state = SyncState.NEEDS_SNAPSHOT

    def on_update(self, seq: int, prev_seq: int) -> Decision:
        """Decide about one update; raise `SequenceGap` if ``prev_seq`` is not the last ``seq``."""
        if self.state is SyncState.NEEDS_SNAPSHOT:
            return Decision.HOLD
        if prev_seq != self.last_seq:
            self.state = SyncState.NEEDS_SNAPSHOT
            who = f"{self.name}: " if self.name else ""
            raise SequenceGap(
                f"{who}sequence gap: expected prevSeqId={self.last_seq}, received prevSeqId={prev_seq} "
                f"(seqId={seq}); resync from a new snapshot"
            )
        self.last_seq = seq
        return Decision.APPLY
