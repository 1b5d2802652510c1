"""A two-leg workflow across two venues on the multi-venue live node: one leg on OKX, one on Gate (their
servers on 127.0.0.1 speaking the real wire formats), recorded in the store's saga tables before each
order goes out, and finished once both venues filled their leg."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from tests.integration.crash.legs import __file__ as LEGS
from tests.integration.multi.harness import KEYS, eventually, two_venues, write_config
from tests.servers.support import run
from tradewright.engine.executor import MultiLegExecutor
from tradewright.live.multi import MultiNode
from tradewright.live.multi_config import load_multi_config
from tradewright.model.enums import OrderStatus
from tradewright.store.sql_store import SqlStateStore
from tradewright.venues.registry import venue_package

ARB = f"""
[[strategies]]
id = "L"
path = "{LEGS}"
class = "LegsTrader"
markets = ["okx:BTC-USDT"]
params = {{ size = "0.001", sizes = ["0.001", "3"], sides = ["BUY", "BUY"], instruments = ["RDNT_USDT-PERP.GATE"] }}

[[strategies]]
id = "G"
path = "{LEGS}"
class = "LegsTrader"
markets = ["gate:RDNT_USDT"]
params = {{ size = "3", sides = [], start_plans = 0 }}
"""


def test_a_two_venue_workflow_is_recorded_then_filled_on_both_venues(tmp_path: Path) -> None:
    async def body() -> None:
        async with two_venues() as (okx, gate):
            config, venues, tasks = load_multi_config(write_config(tmp_path, okx, gate, ARB))
            creds = {v.name: venue_package(v.kind).credentials(v.config, KEYS) for v in venues}
            store = SqlStateStore(config.store)
            node = MultiNode(config, venues, tasks, creds, store)
            stop = asyncio.Event()
            running = asyncio.create_task(node.run(stop))
            try:
                await eventually(
                    lambda: (
                        isinstance(node.kernel.executor, MultiLegExecutor)
                        and any(not w.is_open for w in node.kernel.executor.workflows(open_only=False))
                    ),
                    timeout_s=30,
                    what="the workflow to finish",
                )
            finally:
                stop.set()
                code = await running
            assert code == 0, node.stop_reason
            executor = node.kernel.executor
            assert isinstance(executor, MultiLegExecutor)
            (workflow,) = executor.workflows(open_only=False)
            assert workflow.status.value == "COMPLETED", workflow.reason
            cids = [leg.client_order_id for leg in workflow.legs]
            orders = [node.kernel.orders.get(cid) for cid in cids if cid is not None]
            assert [str(o.instrument_id.venue) for o in orders if o is not None] == ["OKX", "GATE"]
            assert all(o is not None and o.status is OrderStatus.FILLED and o.venue_order_id for o in orders)
            with store.engine.connect() as conn:
                steps = [r[0] for r in conn.execute(text("SELECT step_type FROM saga_steps ORDER BY id"))]
                status = conn.execute(text("SELECT status FROM saga_workflows")).scalar_one()
            assert steps[0] == "WorkflowStarted" and steps[-1] == "WorkflowFinished" and status == "COMPLETED"
            assert steps.count("LegSent") == 2
            store.close()

    run(body())
