"""The browser check itself: it must see script errors, console errors, external requests and empty
charts, or the report tests that rely on it would pass on a broken page."""

from __future__ import annotations

from pathlib import Path

from tests.integration.research.chromium import open_page


def test_the_browser_check_reports_errors_and_network_requests(tmp_path: Path) -> None:
    page_file = tmp_path / "broken.html"
    page_file.write_text(
        "<!DOCTYPE html><html><body><img src='http://127.0.0.1:9/nothing.png'>"
        "<script>console.error('boom'); window.notAFunction();</script></body></html>"
    )
    with open_page(page_file) as page:
        page.wait_for("document.readyState === 'complete'")
        errors = page.log.errors()
        requests = list(page.log.requests)
    assert any("boom" in e for e in errors)
    assert any("notAFunction" in e for e in errors)
    assert "http://127.0.0.1:9/nothing.png" in requests


def test_ink_counts_drawn_pixels_not_an_empty_box(tmp_path: Path) -> None:
    page_file = tmp_path / "ink.html"
    page_file.write_text(
        "<!DOCTYPE html><html><body style='margin:0;background:#fff'>"
        "<svg id='empty' width='300' height='100'></svg>"
        "<svg id='drawn' width='300' height='100'><rect x='0' y='0' width='150' height='100' fill='#333'/></svg>"
        "</body></html>"
    )
    with open_page(page_file) as page:
        assert page.element_ink("#empty") == 0
        assert abs(page.element_ink("#drawn") - 150 * 100) < 300
