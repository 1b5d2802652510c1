"""The same DayTrader code with its brackets in the engine (`bracket_orders = "engine"`) on paper: the
simulated venue holds no contingent orders, so the engine holds the stop and the target until the entry
fills, releases them for what it filled, resizes them as it fills more, and cancels one when the other
fills — each step recorded in the store before it is sent (engine/contingent.py)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.test_daytrading_ib import week_of_bars
from tests.acceptance.test_daytrading_scenarios import PartialPaperBroker, day_config, run_day
from tradewright.daytrade import prepare_day_run
from tradewright.model.enums import OrderType
from tradewright.model.events import OrderFilled, OrderSubmitted, OrderUpdated
from tradewright.store.sql_store import open_store

ENGINE = {"strategy.params.bracket_orders": "engine"}


@pytest.fixture(scope="module")
def first_days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return week_of_bars(tmp_path_factory.mktemp("bars"))


def events(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "events.jsonl").open()]


def test_on_paper_the_engine_holds_the_children_until_the_entry_fills_and_one_cancels_the_other(
    tmp_path: Path, first_days: Path
) -> None:
    run, summary = run_day(tmp_path, first_days, **ENGINE)
    stream = events(run)
    entries = [e for e in stream if e["type"] == "SubmitOrder" and "risk=" in e["actor"]]
    assert entries and summary["fills"] > 0
    for entry in entries:
        cid = entry["client_order_id"]
        children = [e for e in stream if e["type"] == "SubmitOrder" and e["parent_order_id"] == cid]
        assert sorted(c["order_type"] for c in children) == ["LIMIT", "STOP_MARKET"]
        kids = {c["client_order_id"] for c in children}
        seen = [(e["type"], e["client_order_id"]) for e in stream if e.get("client_order_id") in kids | {cid}]
        filled = ("OrderFilled", cid)
        for kid in kids:
            if ("OrderSubmitted", kid) in seen:  # released: only after the entry's fill
                assert filled in seen and seen.index(filled) < seen.index(("OrderSubmitted", kid))
            else:  # never released: its entry was refused or never filled, and it ended unsent
                assert filled not in seen and ("OrderDenied", kid) in seen
        # When a child filled, the engine cancelled its sibling (one cancels the other).
        for kid in kids:
            if ("OrderFilled", kid) in seen:
                (other,) = kids - {kid}
                cancel = next(
                    e for e in stream if e["type"] == "CancelOrder" and e["client_order_id"] == other
                )
                assert cancel["actor"] in ("engine:contingent", "DAY")
    assert any(e["type"] == "CancelOrder" and e["actor"] == "engine:contingent" for e in stream)
    # The store has every child with its parent and group, held ones as they ended.
    with sqlite3.connect(run / "state.sqlite") as db:
        intents = [json.loads(i) for (i,) in db.execute("select intent from orders")]
    linked = [i for i in intents if i["parent_order_id"] is not None]
    assert len(linked) == 2 * len(entries) and all(
        i["oca_group"] == f"OCA-{i['parent_order_id']}" for i in linked
    )


def test_on_paper_a_thirty_percent_fill_releases_the_children_for_it_and_the_rest_grows_them(
    tmp_path: Path, first_days: Path
) -> None:
    config = day_config(
        tmp_path, first_days, **ENGINE, **{"run.store_url": f"sqlite:///{tmp_path / 'p.sqlite'}"}
    )
    day = prepare_day_run(config)
    day.engine.kernel.add_execution_client(PartialPaperBroker(day))
    try:
        result = day.engine.run()
    finally:
        day.close()
    kernel = result.kernel
    entry = next(
        o for o in kernel.orders.all_orders if o.order_type is OrderType.MARKET and o.parent_order_id is None
    )
    parts = [e for e in entry.events if isinstance(e, OrderFilled)]
    assert [p.last_qty for p in parts] == [2, entry.quantity - 2]
    legs = [o for o in kernel.orders.all_orders if o.parent_order_id == entry.client_order_id]
    for leg in legs:
        released = next(e for e in leg.events if isinstance(e, OrderSubmitted))
        grown = [e.quantity for e in leg.events if isinstance(e, OrderUpdated)]
        assert (released.quantity, grown) == (2, [entry.quantity])  # 30 % first, then the whole entry
    store = open_store(config.run.store_url)
    try:
        rows = store.load_state(orders_since_ns=0).orders
    finally:
        store.close()
    assert {rows[leg.client_order_id].quantity for leg in legs} == {entry.quantity}
