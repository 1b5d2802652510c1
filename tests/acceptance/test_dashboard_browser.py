"""The dashboard in a real browser (Playwright driving Debian's Chromium) against a paper node replaying
the bundled Binance recording at 3x: log in, watch fills arrive live on the quotes page, cancel a resting
order from the orders page, run the two-step flatten to HALTED and flat — with no console errors.
Screenshots are kept in runs/ci-artifacts/dashboard/ (or $TRADEWRIGHT_ARTIFACTS_DIR)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO
from tests.integration.api.anchored_mm import anchored
from tests.integration.api.harness import PASSWORD, Node, demo_config, start_node
from tradewright.data.loading import load_stream

pytestmark = pytest.mark.slow


def chromium() -> str:
    path = os.environ.get("TRADEWRIGHT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but no Chromium is installed: .ci/run installs it with apt-get install chromium")
        pytest.skip("needs Chromium (apt-get install chromium); none found on PATH")
    return path


def artifacts() -> Path:
    folder = Path(os.environ.get("TRADEWRIGHT_ARTIFACTS_DIR", REPO / "runs" / "ci-artifacts")) / "dashboard"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    tmp = tmp_path_factory.mktemp("dash")
    config = demo_config(tmp)
    stream = load_stream([config.resolve(p) for p in config.data.paths], fmt=config.data.format)
    running = start_node(tmp, config, speed=3.0, strategy=anchored(config, stream.instrument.id))
    yield running
    running.stop()


def test_operator_logs_in_watches_fills_cancels_an_order_and_flattens_to_halted_and_flat(node: Node) -> None:
    from playwright.sync_api import sync_playwright

    shots = artifacts()
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(), args=["--no-sandbox", "--disable-dev-shm-usage"])
        page = browser.new_page(viewport={"width": 1400, "height": 950})
        page.on("console", lambda m: problems.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} {r.failure}"))
        try:
            page.goto(node.url + "/")
            page.get_by_test_id("username").fill("admin")
            page.get_by_test_id("password").fill("wrong password!")
            page.get_by_test_id("login").click()
            page.wait_for_selector("#login-error:has-text('wrong password')")
            # The browser logs the deliberate failed login's 401 as a console error: that one is expected.
            assert [p for p in problems if "401" in p] and all("401" in p for p in problems), problems
            problems.clear()
            page.get_by_test_id("password").fill(PASSWORD)
            page.get_by_test_id("login").click()
            page.wait_for_selector("[data-testid=mode]:has-text('PAPER')")
            page.wait_for_selector("[data-testid=trading-state]:has-text('ACTIVE')")
            page.wait_for_selector("[data-testid=ws-status].up")

            # Quotes page: fills arrive live (rows in the table, markers in the chart's data).
            page.goto(node.url + "/#/quotes")
            page.wait_for_selector("[data-testid=quote-chart] canvas")
            first = _fill_markers(page)
            page.wait_for_function(f"Number(document.querySelector('#quote-chart').dataset.fills) > {first}",
                                   timeout=60_000)
            page.wait_for_selector("[data-testid=fill-row]")
            page.wait_for_selector("[data-testid=ladder] tr.own", timeout=30_000)
            assert int(page.get_attribute("#quote-chart", "data-points") or 0) > 10
            page.screenshot(path=str(shots / "quotes.png"))

            # Orders page: cancel the resting bid by hand.
            anchor = node.node.kernel.strategies[0].anchor  # type: ignore[attr-defined]
            assert anchor is not None
            page.goto(node.url + "/#/orders")
            row = page.locator(f"tr[data-cid='{anchor}']")
            row.wait_for()
            page.screenshot(path=str(shots / "orders.png"))
            row.get_by_test_id("cancel-order").click()
            row.wait_for(state="detached", timeout=15_000)
            with httpx.Client(base_url=node.url) as c:
                status = c.get(f"/api/v1/orders/{anchor}", headers=node.headers("viewer")).json()["status"]
                audit = c.get("/api/v1/audit", headers=node.headers("viewer"), params={"limit": 1000}).json()
            assert status == "CANCELED"
            assert any(r["action"] == "order.cancel" and r["actor"] == "api:user:admin" for r in audit)

            # The kill switch, in two steps, from the header.
            page.goto(node.url + "/#/overview")
            page.get_by_test_id("flatten").click()
            page.wait_for_selector("[data-testid=flatten-preview]")
            page.screenshot(path=str(shots / "flatten-confirm.png"))
            assert page.get_by_test_id("flatten-execute").is_disabled()
            page.get_by_test_id("flatten-confirm-text").fill("FLATTEN")
            page.get_by_test_id("flatten-reason").fill("browser drill")
            page.get_by_test_id("flatten-execute").click()
            page.wait_for_selector("[data-testid=trading-state]:text-is('HALTED')", timeout=30_000)
            page.wait_for_function("!document.querySelector('#dialog').open", timeout=10_000)
            deadline = time.monotonic() + 30
            with httpx.Client(base_url=node.url) as c:
                while time.monotonic() < deadline:
                    positions = c.get("/api/v1/positions", headers=node.headers("viewer")).json()
                    orders = c.get("/api/v1/orders", headers=node.headers("viewer")).json()
                    if all(float(p["quantity"]) == 0 for p in positions) and not orders:
                        break
                    time.sleep(0.2)
                risk = c.get("/api/v1/risk/state", headers=node.headers("viewer")).json()
            assert all(float(p["quantity"]) == 0 for p in positions) and orders == []
            assert risk["state"] == "HALTED" and any(h["cause"] == "kill_switch" for h in risk["holds"])
            page.goto(node.url + "/#/risk")
            page.wait_for_selector("[data-testid=risk-state]:has-text('HALTED')")
            page.screenshot(path=str(shots / "risk-halted.png"))
            for name in ("pnl", "connectivity", "strategies", "logs"):
                page.goto(f"{node.url}/#/{name}")
                page.wait_for_timeout(800)
            page.screenshot(path=str(shots / "logs.png"))
        finally:
            browser.close()
    assert problems == []


def _fill_markers(page: object) -> int:
    value = page.get_attribute("#quote-chart", "data-fills")  # type: ignore[attr-defined]
    return int(value or 0)
