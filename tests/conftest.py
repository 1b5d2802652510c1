"""Shared test helpers."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_SHARED_DATA = REPO.parent / "shared" / "data"


def in_ci() -> bool:
    """True under CI (`CI=true`, as .ci/run is run): missing prerequisites fail there instead of skipping."""
    return os.environ.get("CI", "").strip().lower() == "true"


def shared_data(relative: str) -> Path:
    """Return a path inside ../shared/data, or skip the test saying why it is absent.

    ../shared/data holds the larger real data sets (always present in CI and on the developers'
    machines); a user's fresh clone has only the demo recording under data/. Under CI=true a missing
    file fails the test: CI must not go green by skipping what it was meant to run.
    """
    path = _SHARED_DATA / relative
    if not path.exists():
        message = f"needs ../shared/data/{relative}, which is not present next to this clone"
        if in_ci():
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)
    return path


_RECURSION_LIMIT = sys.getrecursionlimit()


@pytest.fixture(autouse=True)
def _keep_the_recursion_limit() -> None:
    """The official signing clients used as test oracles import py_ecc, which raises the recursion limit
    to 100,000; with it a deeply nested JSON test input overflows the C stack (a crash, not an error).
    Every test starts at the interpreter's own limit, as the product keeps it (venues._common.eth)."""
    sys.setrecursionlimit(_RECURSION_LIMIT)


def bundled_data(relative: str) -> Path:
    """Return a path inside the repository's own data/ folder (always present)."""
    path = REPO / "data" / relative
    assert path.exists(), f"bundled data file missing: data/{relative}"
    return path


# --- fuzz summaries (tests/fuzz): each fuzz test leaves a line per boundary in its report's user
# properties (these reach the controller under xdist too); they are printed at the end of the session.
_FUZZ_LINES: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "teardown":  # the tally fixture adds its lines as it tears down
        _FUZZ_LINES.extend(str(value) for name, value in report.user_properties if name == "fuzz")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _FUZZ_LINES:
        terminalreporter.section("fuzz: messages, rejections by reason, uncaught exceptions")
        total = 0
        for line in _FUZZ_LINES:
            terminalreporter.write_line(line)
            found = re.search(r"([\d,]+) messages in", line)
            total += int(found.group(1).replace(",", "")) if found else 0
        terminalreporter.write_line(f"total: {total:,} messages")
