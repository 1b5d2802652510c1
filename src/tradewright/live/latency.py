"""The node's own latency, measured on the order path (see `tradewright.engine.probe`).

`LatencyProbe` is the kernel's `PathProbe`. For an order a strategy submits while reacting to a book
update it stamps, on the monotonic clock:

    decoded (the node got the venue's parsed update; live only) -> book (handed to the kernel)
    -> strategy (the strategy asked to submit) -> risk (passed) -> journal (intent durable; live)
    -> sent (handed to the venue's client) -> ack (the venue accepted it, or filled/rejected it)

and feeds `tick_to_quote` (book -> sent) and `order_ack` (sent -> ack) histograms plus one histogram
per stage. Histograms use fixed buckets (Prometheus style, read by `tradewright.api.metrics`) and keep
the last samples for quantiles (the dashboard's latency channel, `tradewright status`). When an
`on_path` callback is set (OpenTelemetry, `live/tracing.py`) every finished path is handed to it.
Nothing here imports a metrics or tracing library: the node stays light when the API is off.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from tradewright.core.ids import ClientOrderId, InstrumentId

__all__ = ["BUCKETS_S", "Histogram", "LatencyProbe", "OrderPath"]

# 10 µs .. 5 s: the order path inside the node is tens of µs; an ack over a network is milliseconds.
BUCKETS_S = (
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
)  # fmt: skip
_RECENT = 4096
_OPEN_PATHS = 10_000  # orders awaiting their ack (older ones are forgotten: never acknowledged)


class Histogram:
    """Cumulative-bucket histogram in seconds plus a window of recent samples for quantiles."""

    __slots__ = ("count", "counts", "recent", "sum_s")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS_S) + 1)  # the last one is +Inf
        self.count = 0
        self.sum_s = 0.0
        self.recent: deque[float] = deque(maxlen=_RECENT)

    def observe(self, seconds: float) -> None:
        self.count += 1
        self.sum_s += seconds
        self.recent.append(seconds)
        for i, bound in enumerate(BUCKETS_S):
            if seconds <= bound:
                self.counts[i] += 1
                return
        self.counts[-1] += 1

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound, samples <= bound) for every bucket, +Inf last."""
        total = 0
        out: list[tuple[float, int]] = []
        for bound, n in zip((*BUCKETS_S, float("inf")), self.counts, strict=True):
            total += n
            out.append((bound, total))
        return out

    def quantile(self, q: float) -> float | None:
        """The q-quantile of the recent samples, in seconds (None before any)."""
        if not self.recent:
            return None
        ordered = sorted(self.recent)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass(slots=True)
class OrderPath:
    """Monotonic stamps (ns) of one order's way out; 0 = the stage did not happen (e.g. no journal)."""

    client_order_id: str
    instrument_id: str
    decoded_ns: int = 0
    book_ns: int = 0
    strategy_ns: int = 0
    risk_ns: int = 0
    journal_ns: int = 0
    sent_ns: int = 0
    ack_ns: int = 0
    ack_kind: str = ""
    stages: dict[str, int] = field(default_factory=dict)


STAGES = ("decode", "strategy", "risk", "journal", "send")


class LatencyProbe:
    """The kernel's `PathProbe` plus the venue side (acks). Cheap: a few clock reads per order."""

    def __init__(self, on_path: Callable[[OrderPath], None] | None = None) -> None:
        self.tick_to_quote = Histogram()
        self.order_ack = Histogram()
        self.stages = {name: Histogram() for name in STAGES}
        self.on_path = on_path
        self._decoded_ns = 0
        self._tick_ns = 0
        self._tick_iid: InstrumentId | None = None
        self._open: dict[str, OrderPath] = {}
        self._sent_at: dict[str, int] = {}  # every order sent (reactions or not) -> when, for the ack
        self.ticks: dict[InstrumentId, int] = {}  # book updates handed to the kernel, per instrument

    # --- venue side -------------------------------------------------------------------------
    def decoded(self) -> None:
        """The node received a parsed venue update (call before applying it to the book)."""
        self._decoded_ns = time.perf_counter_ns()

    def acknowledged(self, client_order_id: str, kind: str) -> None:
        """The venue's first answer to an order (accepted, filled or rejected)."""
        sent = self._sent_at.pop(client_order_id, None)
        if sent is None:
            return
        now = time.perf_counter_ns()
        self.order_ack.observe((now - sent) / 1e9)
        path = self._open.pop(client_order_id, None)
        if path is not None:
            path.ack_ns = now
            path.ack_kind = kind
            if self.on_path is not None:
                self.on_path(path)

    # --- PathProbe --------------------------------------------------------------------------
    def tick(self, instrument_id: InstrumentId) -> None:
        self._tick_ns = time.perf_counter_ns()
        self._tick_iid = instrument_id
        self.ticks[instrument_id] = self.ticks.get(instrument_id, 0) + 1

    def tick_done(self) -> None:
        self._tick_iid = None
        self._decoded_ns = 0

    def submitting(self, client_order_id: ClientOrderId) -> None:
        if self._tick_iid is None:
            return  # not a reaction to market data (a timer, a fill, an operator): no tick-to-quote
        if len(self._open) >= _OPEN_PATHS:
            self._open.pop(next(iter(self._open)))
        self._open[client_order_id] = OrderPath(
            client_order_id=client_order_id,
            instrument_id=str(self._tick_iid),
            decoded_ns=self._decoded_ns,
            book_ns=self._tick_ns,
            strategy_ns=time.perf_counter_ns(),
        )

    def checked(self, client_order_id: ClientOrderId) -> None:
        path = self._open.get(client_order_id)
        if path is not None:
            path.risk_ns = time.perf_counter_ns()

    def committed(self, client_order_id: ClientOrderId) -> None:
        path = self._open.get(client_order_id)
        if path is not None:
            path.journal_ns = time.perf_counter_ns()

    def sent(self, client_order_id: ClientOrderId) -> None:
        now = time.perf_counter_ns()
        if len(self._sent_at) >= _OPEN_PATHS:
            self._sent_at.pop(next(iter(self._sent_at)))
        self._sent_at[client_order_id] = now
        path = self._open.get(client_order_id)
        if path is None:
            return
        path.sent_ns = now
        self.tick_to_quote.observe((now - path.book_ns) / 1e9)
        stages = self.stages
        if path.decoded_ns:
            stages["decode"].observe((path.book_ns - path.decoded_ns) / 1e9)
        stages["strategy"].observe((path.strategy_ns - path.book_ns) / 1e9)
        stages["risk"].observe((path.risk_ns - path.strategy_ns) / 1e9)
        before_send = path.risk_ns
        if path.journal_ns:
            stages["journal"].observe((path.journal_ns - path.risk_ns) / 1e9)
            before_send = path.journal_ns
        stages["send"].observe((now - before_send) / 1e9)

    def forget(self, client_order_id: str) -> None:
        """The order ended without an answer worth timing (denied before it left)."""
        self._open.pop(client_order_id, None)
        self._sent_at.pop(client_order_id, None)
