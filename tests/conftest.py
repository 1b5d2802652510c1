"""Shared test helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_SHARED_DATA = REPO.parent / "shared" / "data"


def shared_data(relative: str) -> Path:
    """Return a path inside ../shared/data, or skip the test saying why it is absent.

    ../shared/data holds the larger real data sets (always present in CI and on the developers'
    machines); a user's fresh clone has only the demo recording under data/.
    """
    path = _SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"needs ../shared/data/{relative}, which is not present next to this clone")
    return path


def bundled_data(relative: str) -> Path:
    """Return a path inside the repository's own data/ folder (always present)."""
    path = REPO / "data" / relative
    assert path.exists(), f"bundled data file missing: data/{relative}"
    return path
