"""Fixtures for the emulator's integration tests (helpers live in `support`)."""

from __future__ import annotations

import pytest

from tests.integration.emulator.support import spot_path, stream_of, usdm_path
from tradewright.model.columnar import MarketStream


@pytest.fixture()
def spot_stream() -> MarketStream:
    return stream_of(spot_path())


@pytest.fixture()
def usdm_stream() -> MarketStream:
    return stream_of(usdm_path())
