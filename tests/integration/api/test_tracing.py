"""OpenTelemetry traces of the order path: off by default; when on, every order a strategy sends in
reaction to a book update is one trace whose stages (strategy, risk, send, ack) nest in order under it."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.integration.api.harness import demo_config
from tradewright.data.loading import load_stream
from tradewright.live.paper import PaperNode
from tradewright.live.services import paper_operator
from tradewright.strategy.loader import make_strategy

pytestmark = pytest.mark.slow


def run_paper_node(tmp: Path, *, tracing: TracerProvider | None) -> PaperNode:
    config = demo_config(tmp)
    stream = load_stream([config.resolve(p) for p in config.data.paths], fmt=config.data.format)
    node = PaperNode(stream, make_strategy(config, stream.instrument.id), config, speed=4.0)
    operator = paper_operator(node, "traced")
    if tracing is not None:
        operator.enable_tracing(tracing)
    node.operator = operator

    async def main() -> None:
        await node.run(asyncio.Event(), duration_s=4)

    asyncio.run(main())
    return node


def test_order_path_traces_are_off_by_default(tmp_path: Path) -> None:
    node = run_paper_node(tmp_path, tracing=None)
    assert node.operator is not None and node.operator.probe.on_path is None
    assert node.operator.probe.tick_to_quote.count > 0  # the latency figures are there all the same


def test_each_quote_is_a_trace_of_strategy_risk_send_and_ack_in_order(tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    run_paper_node(tmp_path, tracing=provider)
    spans = exporter.get_finished_spans()
    roots = [s for s in spans if s.name == "order_path"]
    assert len(roots) > 5
    by_trace: dict[int, list[object]] = {}
    for span in spans:
        by_trace.setdefault(span.context.trace_id, []).append(span)
    for root in roots:
        children = {s.name: s for s in by_trace[root.context.trace_id] if s is not root}  # type: ignore[attr-defined]
        assert {"strategy", "risk", "send", "ack"} <= set(children), children.keys()
        assert all(c.parent.span_id == root.context.span_id for c in children.values())  # type: ignore[attr-defined]
        order = [children[n] for n in ("strategy", "risk", "send", "ack")]
        for before, after in itertools.pairwise(order):
            assert before.end_time <= after.start_time + 1  # type: ignore[attr-defined]
        assert root.start_time <= order[0].start_time and order[-1].end_time <= root.end_time + 1
        assert root.attributes["tradewright.client_order_id"].startswith("PP-MM-")
        assert root.attributes["tradewright.answer"] in ("OrderAccepted", "OrderFilled", "OrderRejected")
