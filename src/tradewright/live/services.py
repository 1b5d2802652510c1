"""Attach faces (`NodeService`s, e.g. the API) to a node through its operator port.

A node that was given services builds a `KernelOperator` over its kernel (`paper_operator`,
`live_operator`), then `start_services` starts the operator's channels and enters every service; the
returned stack, closed when the node stops, exits them in reverse order. A node without services
builds nothing: no sink, no probe, no cost.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tradewright.live.operator import NodeService
from tradewright.live.operator_adapter import KernelOperator, VenueReading
from tradewright.risk.engine import RiskEngine
from tradewright.venues._common.ports import VenueHealth

if TYPE_CHECKING:
    from tradewright.live.node import LiveNode
    from tradewright.live.paper import PaperNode

__all__ = ["live_operator", "paper_operator", "start_services"]


async def start_services(
    operator: KernelOperator | None, services: Sequence[NodeService]
) -> contextlib.AsyncExitStack:
    """Start the operator's channels and enter each service; close the returned stack to stop them."""
    stack = contextlib.AsyncExitStack()
    if operator is None or not services:
        return stack
    await operator.start()
    stack.push_async_callback(operator.stop)
    try:
        for service in services:
            await stack.enter_async_context(service(operator))
    except BaseException:
        await stack.aclose()
        raise
    return stack


def paper_operator(node: PaperNode, name: str) -> KernelOperator:
    """The operator port of a paper node: one simulated venue on a replayed recording."""
    risk = node.kernel.risk
    assert isinstance(risk, RiskEngine)
    venue = str(node.stream.instrument.id.venue)

    def reading() -> VenueReading:
        return VenueReading(VenueHealth.UP, "simulated venue on a replayed recording", simulated=True)

    return KernelOperator(node.kernel, risk, mode="paper", node=name, venues={venue: reading})


def live_operator(node: LiveNode) -> KernelOperator:
    """The operator port of a live node over its venue connection(s)."""
    risk = node.kernel.risk
    assert isinstance(risk, RiskEngine)
    venue = node.venue
    assert venue is not None
    name = str(venue.instrument.id.venue)

    def reading() -> VenueReading:
        if node.kernel.store_failure is not None:
            return VenueReading(VenueHealth.DOWN, "the state store failed: no new orders", simulated=False)
        if not node.trading:
            return VenueReading(VenueHealth.DOWN, "not trading (starting or stopping)", simulated=False)
        link = node.link
        if link is not None and link.held:  # a lost connection: HALTED until back and reconciled
            if link.down:
                return VenueReading(VenueHealth.DOWN, link.describe(), simulated=False)
            return VenueReading(
                VenueHealth.DEGRADED, "reconnected; reconciling before trading again", simulated=False
            )
        return VenueReading(VenueHealth.UP, "connected; trading", simulated=False)

    return KernelOperator(
        node.kernel,
        risk,
        mode="live",
        node=node.config.node.name,
        venues={name: reading},
        store=node.store,
        config_hash=node.config.config_hash,
    )
