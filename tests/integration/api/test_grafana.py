"""The Grafana dashboard in deploy/grafana imports: it validates against the dashboard schema, its panels
do not overlap and stay in the 24-column grid, and every series it plots is one a running node exposes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import jsonschema
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import REPO
from tests.integration.api.harness import Node, demo_config, start_node

DASHBOARD = REPO / "deploy" / "grafana" / "tradewright.json"
SCHEMA = REPO / "deploy" / "grafana" / "dashboard.schema.json"


def load() -> dict[str, object]:
    data: dict[str, object] = json.loads(DASHBOARD.read_text())
    return data


def test_the_dashboard_validates_against_the_schema_and_its_panels_do_not_overlap() -> None:
    dashboard = load()
    jsonschema.validate(dashboard, json.loads(SCHEMA.read_text()))
    cells: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:  # type: ignore[attr-defined]
        g = panel["gridPos"]
        assert g["x"] + g["w"] <= 24, panel["title"]
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not cells & mine, f"{panel['title']} overlaps another panel"
        cells |= mine
    ids = [p["id"] for p in dashboard["panels"]]  # type: ignore[attr-defined]
    assert len(ids) == len(set(ids))


def test_a_broken_dashboard_fails_the_schema() -> None:
    dashboard = load()
    dashboard["panels"][0]["gridPos"]["w"] = 30  # type: ignore[index]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(dashboard, json.loads(SCHEMA.read_text()))


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    tmp = tmp_path_factory.mktemp("grafana")
    running = start_node(tmp, demo_config(tmp), speed=4.0)
    yield running
    running.stop()


@pytest.mark.slow
def test_every_series_the_dashboard_plots_is_exposed_by_a_running_node(node: Node, tmp_path: Path) -> None:
    import time

    time.sleep(3)  # some orders and fills first
    text = httpx.get(node.url + "/metrics", headers=node.headers("metrics")).text
    exposed: set[str] = set()
    for family in text_string_to_metric_families(text):  # a family may have no samples yet (no breaker held)
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"),
                    "summary": ("_sum", "_count")}.get(family.type, ("",))
        exposed |= {family.name + suffix for suffix in suffixes} | {s.name for s in family.samples}
    wanted = set()
    for panel in load()["panels"]:  # type: ignore[attr-defined]
        for target in panel["targets"]:
            wanted |= set(re.findall(r"\btradewright_[a-z_]+", target["expr"]))
    assert len(wanted) >= 15
    missing = sorted(wanted - exposed)
    assert missing == [], f"the dashboard plots series no node exposes: {missing}"
