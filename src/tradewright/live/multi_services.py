"""The operator port (`KernelOperator`) of a multi-venue node: one health reading per venue, each with
its market-data counters (`FeedStats`), so the API, `/metrics` and `tradewright status` show every venue."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tradewright.live.operator_adapter import KernelOperator, VenueReading
from tradewright.venues._common.ports import VenueHealth

if TYPE_CHECKING:
    from tradewright.live.multi import MultiNode

__all__ = ["multi_operator"]


def multi_operator(node: MultiNode) -> KernelOperator:
    """A `KernelOperator` over the node's kernel, reading each venue's health and feed counters."""

    def reading(name: str) -> Callable[[], VenueReading]:
        def read() -> VenueReading:
            feed = node.venues[name].market_data.stats if name in node.venues else None
            if node.kernel.store_failure is not None:
                return VenueReading(VenueHealth.DOWN, "the state store failed: no new orders", False, feed)
            if not node.trading:
                return VenueReading(VenueHealth.DOWN, "not trading (starting or stopping)", False, feed)
            status = node.health.get(name)
            if status is None:
                return VenueReading(VenueHealth.UP, "connected; trading", False, feed)
            return VenueReading(status.health, status.reason, False, feed)

        return read

    return KernelOperator(
        node.kernel,
        node.risk,
        mode="dry-run" if node.dry_run else "live",
        node=node.config.node.name,
        venues={name: reading(name) for name in node.venues},
        store=node.store,
        config_hash=node.config.config_hash,
    )
