"""Streams loaded once per test session (loading is fast, but many tests look at the same files)."""

from __future__ import annotations

import pytest

from tests.conftest import shared_data
from tradewright.data.binance import load_binance
from tradewright.model.columnar import MarketStream

HFT = "l2/hftbacktest"


@pytest.fixture(scope="session")
def usdm_btc() -> MarketStream:
    return load_binance(shared_data(f"{HFT}/binance_usdm_btcusdt_20240808.jsonl.gz"))


@pytest.fixture(scope="session")
def spot_0808() -> MarketStream:
    return load_binance(shared_data(f"{HFT}/binance_spot_btcusdt_20240808.jsonl.gz"))


@pytest.fixture(scope="session")
def spot_chained() -> MarketStream:
    return load_binance(
        [
            shared_data(f"{HFT}/binance_spot_btcusdt_20240808.jsonl.gz"),
            shared_data(f"{HFT}/binance_spot_btcusdt_20240809.jsonl.gz"),
        ]
    )
