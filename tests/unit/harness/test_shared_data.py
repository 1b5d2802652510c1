"""The shared-data helper: a fresh clone skips what it cannot run; CI (CI=true) fails instead."""

from __future__ import annotations

import pytest

from tests.conftest import shared_data


def test_missing_shared_data_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match="not present next to this clone"):
        shared_data("no/such/file.csv")


def test_missing_shared_data_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"CI=true: needs \.\./shared/data/no/such/file\.csv"):
        shared_data("no/such/file.csv")
