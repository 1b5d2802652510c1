"""Durable multi-leg workflows on a live node: the executor on the store's saga tables, and the restart
step that takes up every open workflow.

A live node's kernel journals its orders in the store, so its executor must be durable too (a backtest's
is in memory): `attach_durable_executor` gives it one on the same database, its client order ids under
the run's own prefix, and maps its two step boundaries onto the node's crash hooks
(`TRADEWRIGHT_CRASH_AT=workflow_step_committed:N` / `workflow_step_acted:N`, see `live/crash.py`).

At start, after the node restored its orders from the store and reconciled them with the venues (so every
order it holds is up to date), `resume_workflows` takes up the open workflows: an order a workflow
recorded as sent that the node does not hold is looked up at its venue by client order id
(`query_leg_fates`), and `MultiLegExecutor.resolve` records what the venue says before each workflow
carries on — a sent order is never sent again, an order the venue never received goes out again as a new
attempt with a new id, and a workflow whose legs broke compensates.

Any node can use both (one venue or many): it passes its venues' state ports keyed by venue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from tradewright.core.errors import TradewrightError
from tradewright.core.ids import Venue
from tradewright.engine.executor import MultiLegExecutor
from tradewright.engine.kernel import Kernel
from tradewright.engine.leg_fates import query_leg_fates
from tradewright.engine.venue_state import VenueStatePort
from tradewright.risk.engine import RiskEngine
from tradewright.store.ports import StateStore

__all__ = ["attach_durable_executor", "resume_workflows"]


def attach_durable_executor(
    kernel: Kernel,
    store: StateStore,
    *,
    id_prefix: str,
    crash: Callable[[str], None] | None = None,
    log: logging.Logger | None = None,
) -> MultiLegExecutor:
    """Attach a `MultiLegExecutor` recording its steps in `store`'s saga tables (SQLite or PostgreSQL).

    `id_prefix` starts every workflow id (and so every leg's client order id: `<id>-<leg>-<attempt>`); give
    the run's own order-id prefix so ids never repeat across restarts."""
    from tradewright.store.saga_store import SqlSagaStore
    from tradewright.store.sql_store import SqlStateStore

    if not isinstance(store, SqlStateStore):
        raise TradewrightError(f"durable workflows need the SQL state store, not {type(store).__name__}")
    risk = kernel.risk if isinstance(kernel.risk, RiskEngine) else None
    return MultiLegExecutor(
        kernel,
        SqlSagaStore(store),
        risk=risk,
        id_prefix=id_prefix,
        crash=crash,
        log=log or logging.getLogger("tradewright.executor"),
    )


async def resume_workflows(executor: MultiLegExecutor, ports: Mapping[Venue, VenueStatePort]) -> int:
    """Take up every open workflow from the store (call after restore and reconciliation); return how many.

    The venues are asked about each order whose fate only they know; then every workflow carries on."""
    queries = executor.recover()
    answers = await query_leg_fates(ports, queries) if queries else {}
    for query in queries:
        answer = answers[query.client_order_id]
        executor.log.warning(
            "workflow %s: order %s was recorded as sent but the node does not hold it; the venue says: %s",
            query.workflow_id,
            query.client_order_id,
            "unknown (never arrived)"
            if answer.order is None
            else f"{answer.order.status} ({len(answer.fills)} fills)",
        )
    executor.resolve(answers)
    return len(executor.workflows())
