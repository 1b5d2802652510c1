"""OpenTelemetry traces of the order path (off by default; `[api] tracing = true`).

Each order a strategy sends in reaction to a book update becomes one trace: a root span `order_path`
(from the venue update decoded, or handed to the kernel, until the venue's first answer) with a child per
stage — `decode` (live), `strategy`, `risk`, `journal` (live: the intent made durable), `send` and `ack`.
Spans are built after the fact from the latency probe's monotonic stamps (`live/latency.py`), so the
order path itself never calls into OpenTelemetry. The SDK is imported only when tracing is on.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from tradewright.live.latency import OrderPath

__all__ = ["OrderPathTracer", "default_provider"]

log = logging.getLogger("tradewright.tracing")


class OrderPathTracer:
    """A `LatencyProbe.on_path` callback that exports each finished order path as spans."""

    def __init__(self, provider: Any = None) -> None:
        from opentelemetry import trace

        self._trace = trace
        provider = provider if provider is not None else default_provider()
        self.tracer = provider.get_tracer("tradewright.order_path")
        # perf_counter_ns -> wall-clock ns (spans carry epoch times).
        self.offset_ns = time.time_ns() - time.perf_counter_ns()

    def __call__(self, path: OrderPath) -> None:
        wall = self.offset_ns
        start = path.decoded_ns or path.book_ns
        root = self.tracer.start_span(
            "order_path",
            start_time=start + wall,
            attributes={
                "tradewright.client_order_id": path.client_order_id,
                "tradewright.instrument_id": path.instrument_id,
                "tradewright.answer": path.ack_kind,
            },
        )
        context = self._trace.set_span_in_context(root)
        before_send = path.journal_ns or path.risk_ns
        stages = (
            ("decode", path.decoded_ns, path.book_ns),
            ("strategy", path.book_ns, path.strategy_ns),
            ("risk", path.strategy_ns, path.risk_ns),
            ("journal", path.risk_ns if path.journal_ns else 0, path.journal_ns),
            ("send", before_send, path.sent_ns),
            ("ack", path.sent_ns, path.ack_ns),
        )
        for name, begin, end in stages:
            if begin and end:
                span = self.tracer.start_span(name, context=context, start_time=begin + wall)
                span.end(end_time=end + wall)
        root.end(end_time=path.ack_ns + wall)


def default_provider() -> Any:
    """The process's tracer provider; if none is configured, an SDK provider exporting over OTLP
    (`opentelemetry-exporter-otlp`, configured by the standard OTEL_* variables) when installed."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    provider = TracerProvider()
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[import-not-found]
            OTLPSpanExporter,
        )
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    except ImportError:
        log.warning(
            "tracing is on but no exporter is configured: install opentelemetry-exporter-otlp (and set "
            "OTEL_EXPORTER_OTLP_ENDPOINT) or configure a tracer provider before the node starts"
        )
    trace.set_tracer_provider(provider)
    return provider
