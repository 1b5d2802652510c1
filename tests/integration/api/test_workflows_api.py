"""Operators see multi-leg workflows on a running node: its open workflows with their legs (state, client
order id, what filled) through `GET /workflows`, in `/system/status` and `tradewright status`, streamed on
the `workflows` channel, and as metrics (open workflows, open-leg exposure, leg delta)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.api.harness import Node, demo_config, start_node
from tradewright.cli.main import main
from tradewright.core.ids import InstrumentId
from tradewright.model.book import OrderBook
from tradewright.model.enums import OrderSide, TimeInForce
from tradewright.model.multileg import ExecutionPolicy, LegSpec, Plan
from tradewright.strategy.base import BookTrigger, Strategy


class ParkedLeg(Strategy):
    """Starts one plan: a GTC buy 100 ticks under the bid (it rests) that may work for ten minutes."""

    book_trigger = BookTrigger.TOP_PRICE

    def __init__(self, strategy_id: str, instruments: list[InstrumentId]) -> None:
        super().__init__(strategy_id, instruments, None)
        self.workflow_id: str | None = None

    def on_book(self, book: OrderBook, **kw: Any) -> None:
        if self.workflow_id is not None or book.best_bid_tick is None:
            return
        iid = self.instruments[0]
        price = self.ctx.instrument(iid).ticks_to_price(book.best_bid_tick - 100)
        leg = LegSpec(
            instrument_id=iid,
            side=OrderSide.BUY,
            quantity=Decimal("0.002"),
            limit_price=price,
            time_in_force=TimeInForce.GTC,
        )
        policy = ExecutionPolicy(leg_timeout_ms=600_000)
        self.workflow_id = self.ctx.execute(Plan(legs=(leg,), policy=policy, tag="parked"))


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    tmp = tmp_path_factory.mktemp("workflows")
    config = demo_config(tmp)
    strategy = ParkedLeg("P", [InstrumentId.parse("BTCUSDT-PERP.BINANCE")])
    running = start_node(tmp, config, speed=1.0, strategy=strategy)
    yield running
    running.stop()


def _open_workflows(node: Node) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    with httpx.Client(base_url=node.url + "/api/v1", headers=node.headers("viewer"), timeout=10) as client:
        while time.monotonic() < deadline:
            found: list[dict[str, Any]] = client.get("/workflows").json()
            if found and found[0]["legs"][0]["status"] == "SENT":
                return found
            time.sleep(0.1)
    raise AssertionError("no open workflow with its leg in flight appeared")


def test_open_workflows_and_their_legs_are_served_by_the_api(node: Node) -> None:
    (workflow,) = _open_workflows(node)
    leg = workflow["legs"][0]
    assert workflow["status"] == "RUNNING" and workflow["tag"] == "parked"
    assert leg["instrument_id"] == "BTCUSDT-PERP.BINANCE" and leg["side"] == "BUY"
    assert leg["client_order_id"] == f"{workflow['workflow_id']}-0-1" and leg["filled_qty"] == "0"
    with httpx.Client(base_url=node.url + "/api/v1", headers=node.headers("viewer"), timeout=10) as client:
        one = client.get(f"/workflows/{workflow['workflow_id']}")
        assert one.status_code == 200 and one.json()["legs"] == workflow["legs"]
        assert client.get("/workflows/W-none").status_code == 404
        assert client.get("/system/status").json()["workflows"][0]["workflow_id"] == workflow["workflow_id"]
        # the leg's order is the order the orders endpoint shows working
        order = client.get(f"/orders/{leg['client_order_id']}").json()
        assert order["status"] in ("ACCEPTED", "SUBMITTED")


def test_workflow_figures_are_exported_as_metrics(node: Node) -> None:
    (workflow,) = _open_workflows(node)
    leg = workflow["legs"][0]
    with httpx.Client(base_url=node.url, headers=node.headers("metrics"), timeout=10) as client:
        text = client.get("/metrics").text
    assert "tradewright_workflows_open 1.0" in text
    exposure = Decimal(leg["price"]) * Decimal(leg["quantity"])
    line = next(row for row in text.splitlines() if row.startswith("tradewright_workflow_open_leg_exposure "))
    assert Decimal(line.split()[1]) == pytest.approx(exposure)


def test_tradewright_status_lists_the_open_workflow(
    node: Node, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (workflow,) = _open_workflows(node)
    monkeypatch.setenv("TRADEWRIGHT_API_KEY", node.keys["viewer"])
    assert main(["status", "--url", node.url]) == 0
    out = capsys.readouterr().out
    assert "open workflows" in out and workflow["workflow_id"] in out
    assert workflow["legs"][0]["client_order_id"] in out
