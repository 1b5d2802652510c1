"""`GET /metrics`: Prometheus series read from the node at scrape time (a custom collector; nothing is
counted twice and the node's hot path never touches prometheus_client).

Series (all prefixed `tradewright_`; labels in brackets):
- `orders_submitted_total`, `orders_accepted_total`, `orders_rejected_total`, `orders_denied_total`,
  `cancels_total`, `fills_total`, `filled_quantity_total` [instrument] — rates with `rate()`
- `fill_ratio` [instrument] — fills / orders submitted
- `position` [instrument], `unrealized_pnl` / `realized_pnl` / `fees` [instrument], `pnl_net`, `equity`
- `denials_total` [reason] — risk denials by reason (cancel rate limits included)
- `trading_state` [scope, target] — 0 ACTIVE, 1 REDUCING, 2 HALTED; `breaker_active` [breaker, scope, target]
- `kill_switch_active`
- `book_updates_total`, `book_resyncs_total` [instrument]; `venue_up` [venue] — 1 UP, 0.5 DEGRADED, 0 DOWN
- `tick_to_quote_seconds`, `order_ack_seconds`, `order_path_stage_seconds` [stage] — histograms
- `ws_subscribers`, `api_store_query_seconds` [query] (summary)
- `workflows_open`, `workflow_leg_delta` [asset], `workflow_open_leg_exposure`, `workflow_unhedged_exposure`,
  `workflows_finished_total` [status], `workflow_compensations_total`, `workflows_refused_total` — multi-leg
  workflows (docs/arbitrage.md), on a node with an executor
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

from tradewright.api.deps import ApiState
from tradewright.live.latency import Histogram

__all__ = ["NodeCollector", "registry_for"]

_P = "tradewright_"
_STATE = {"ACTIVE": 0.0, "REDUCING": 1.0, "HALTED": 2.0}
_VENUE = {"UP": 1.0, "DEGRADED": 0.5, "DOWN": 0.0}


class NodeCollector(Collector):
    """Reads the operator port (and its counters) at each scrape."""

    def __init__(self, state: ApiState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        operator: Any = self.state.operator
        yield from self._orders(operator)
        yield from self._portfolio(operator)
        yield from self._risk(operator)
        yield from self._feeds(operator)
        yield from self._latency(operator)
        yield from self._workflows(operator)
        subs = GaugeMetricFamily(_P + "ws_subscribers", "WebSocket subscriptions open")
        subs.add_metric([], float(operator.hub.subscribers))
        yield subs
        store = SummaryMetricFamily(_P + "api_store_query_seconds", "Store calls behind the API", labels=["query"])
        for name, times in sorted(self.state.store_seconds.items()):
            store.add_metric([name], count_value=len(times), sum_value=sum(times))
        yield store

    def _orders(self, operator: Any) -> Iterator[Metric]:
        names = {
            "orders_submitted": "Orders sent to a venue",
            "orders_accepted": "Orders a venue accepted",
            "orders_rejected": "Orders a venue rejected",
            "orders_denied": "Orders the node's risk checks denied",
            "cancels": "Cancel requests sent",
            "fills": "Fills",
        }
        families = {k: CounterMetricFamily(_P + k, doc, labels=["instrument"]) for k, doc in names.items()}
        qty = CounterMetricFamily(_P + "filled_quantity", "Filled size in the base asset", labels=["instrument"])
        ratio = GaugeMetricFamily(_P + "fill_ratio", "Fills per order submitted", labels=["instrument"])
        for iid, c in sorted(operator.counters.items()):
            for key, family in families.items():
                family.add_metric([iid], float(getattr(c, key)))
            qty.add_metric([iid], float(c.filled_qty))
            ratio.add_metric([iid], c.fills / c.orders_submitted if c.orders_submitted else 0.0)
        yield from families.values()
        yield qty
        yield ratio

    def _portfolio(self, operator: Any) -> Iterator[Metric]:
        pnl = operator.pnl()
        position = GaugeMetricFamily(_P + "position", "Signed position (inventory) in the base asset", labels=["instrument"])
        realized = GaugeMetricFamily(_P + "realized_pnl", "Realised PnL before fees", labels=["instrument"])
        unrealized = GaugeMetricFamily(_P + "unrealized_pnl", "Unrealised PnL at the mark", labels=["instrument"])
        fees = GaugeMetricFamily(_P + "fees", "Fees paid (negative: rebates)", labels=["instrument"])
        quantities = {p.instrument_id: p.quantity for p in operator.positions()}
        for line in pnl.by_instrument:
            position.add_metric([line.instrument_id], float(quantities.get(line.instrument_id, 0)))
            realized.add_metric([line.instrument_id], float(line.realized))
            unrealized.add_metric([line.instrument_id], float(line.unrealized))
            fees.add_metric([line.instrument_id], float(line.fees))
        yield from (position, realized, unrealized, fees)
        net = GaugeMetricFamily(_P + "pnl_net", "Realised + unrealised - fees, every instrument")
        net.add_metric([], float(pnl.net))
        equity = GaugeMetricFamily(_P + "equity", "Balances plus open positions at the mark")
        equity.add_metric([], float(pnl.equity))
        yield net
        yield equity

    def _workflows(self, operator: Any) -> Iterator[Metric]:
        figures = operator.workflow_figures()
        if figures is None:
            return  # no multi-leg executor on this node
        open_ = GaugeMetricFamily(_P + "workflows_open", "Multi-leg workflows running or compensating")
        open_.add_metric([], float(figures.open_workflows))
        delta = GaugeMetricFamily(
            _P + "workflow_leg_delta", "Signed size the open workflows hold, per base asset (0: legs balance)", labels=["asset"]
        )
        for asset, size in sorted(figures.leg_delta_base.items()):
            delta.add_metric([asset], float(size))
        exposure = GaugeMetricFamily(
            _P + "workflow_open_leg_exposure", "Value of the unfilled size of every leg and compensation in flight"
        )
        exposure.add_metric([], float(figures.open_leg_exposure_quote))
        unhedged = GaugeMetricFamily(
            _P + "workflow_unhedged_exposure", "Per open workflow, |net value of what it holds|, summed"
        )
        unhedged.add_metric([], float(figures.unhedged_exposure_quote))
        finished = CounterMetricFamily(_P + "workflows_finished", "Workflows ended, by end state", labels=["status"])
        for status, n in sorted(figures.finished.items()):
            finished.add_metric([status], float(n))
        comps = CounterMetricFamily(_P + "workflow_compensations", "Compensation orders sent (unwinds and hedges)")
        comps.add_metric([], float(figures.compensations_sent))
        refused = CounterMetricFamily(_P + "workflows_refused", "Plans refused before anything was sent")
        refused.add_metric([], float(figures.refused))
        yield from (open_, delta, exposure, unhedged, finished, comps, refused)

    def _risk(self, operator: Any) -> Iterator[Metric]:
        risk = operator.risk_state()
        state = GaugeMetricFamily(_P + "trading_state", "0 ACTIVE, 1 REDUCING, 2 HALTED", labels=["scope", "target"])
        state.add_metric(["node", ""], _STATE[risk.state])
        breakers = GaugeMetricFamily(
            _P + "breaker_active", "1 while a breaker (or other cause) holds a scope", labels=["breaker", "scope", "target"]
        )
        for hold in risk.holds:
            breakers.add_metric([hold.cause, hold.scope, hold.target], 1.0)
            if hold.scope != "node":
                state.add_metric([hold.scope, hold.target], _STATE[hold.state])
        denials = CounterMetricFamily(_P + "denials", "Commands the risk engine denied", labels=["reason"])
        for reason, n in risk.denials.items():
            denials.add_metric([reason], float(n))
        kill = GaugeMetricFamily(_P + "kill_switch_active", "1 while the kill switch is flattening")
        kill.add_metric([], 1.0 if risk.kill_switch_active else 0.0)
        yield from (state, breakers, denials, kill)

    def _feeds(self, operator: Any) -> Iterator[Metric]:
        updates = CounterMetricFamily(_P + "book_updates", "Book updates handed to strategies", labels=["instrument"])
        resyncs = CounterMetricFamily(_P + "book_resyncs", "Book rebuilds after a gap or checksum failure", labels=["instrument"])
        for market in operator.status().markets:
            updates.add_metric([market.instrument_id], float(market.book_updates))
            resyncs.add_metric([market.instrument_id], float(market.book_resyncs))
        venue = GaugeMetricFamily(_P + "venue_up", "1 UP, 0.5 DEGRADED, 0 DOWN", labels=["venue"])
        for info in operator.venues():
            venue.add_metric([info.venue], _VENUE.get(info.health, 0.0))
        yield from (updates, resyncs, venue)

    def _latency(self, operator: Any) -> Iterator[Metric]:
        probe = operator.probe
        yield _histogram("tick_to_quote_seconds", "Book update handed to the kernel -> order handed to the venue client", probe.tick_to_quote)
        yield _histogram("order_ack_seconds", "Order handed to the venue client -> the venue's first answer", probe.order_ack)
        stages = HistogramMetricFamily(_P + "order_path_stage_seconds", "Each stage of the order path", labels=["stage"])
        for stage, hist in probe.stages.items():
            stages.add_metric([stage], _buckets(hist), sum_value=hist.sum_s)
        yield stages


def _buckets(hist: Histogram) -> list[tuple[str, float]]:
    return [("+Inf" if bound == float("inf") else repr(bound), float(n)) for bound, n in hist.cumulative()]


def _histogram(name: str, doc: str, hist: Histogram) -> HistogramMetricFamily:
    family = HistogramMetricFamily(_P + name, doc)
    family.add_metric([], _buckets(hist), sum_value=hist.sum_s)
    return family


def registry_for(state: ApiState) -> CollectorRegistry:
    """A registry of this app's own (no process-global default registry)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(NodeCollector(state))
    return registry
