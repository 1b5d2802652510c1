"""The shared venue base: credentials never shown, reconnect backoff, client-side rate buckets."""

from __future__ import annotations

import asyncio
import random

import pytest

from tradewright.core.errors import ConfigError
from tradewright.venues._common import Backoff, Credentials, FeedStats, TokenBucket
from tradewright.venues.registry import venue_package


def test_credentials_refuse_naming_the_venue_and_every_missing_variable() -> None:
    env = {"OKX_API_KEY": "key-1234567890"}
    names = {"api_key": "OKX_API_KEY", "secret": "OKX_API_SECRET", "passphrase": "OKX_API_PASSPHRASE"}
    with pytest.raises(ConfigError) as caught:
        Credentials.from_env("OKX", names, env)
    message = str(caught.value)
    assert "OKX" in message and "OKX_API_SECRET" in message and "OKX_API_PASSPHRASE" in message
    assert "key-1234567890" not in message


def test_credentials_never_show_a_secret_in_repr_or_str() -> None:
    creds = Credentials.from_env(
        "OKX",
        {"api_key": "K", "secret": "S", "passphrase": "P"},
        {"K": "abcdefghijkl", "S": "topsecretvalue", "P": "hunter2pass"},
    )
    for text in (repr(creds), str(creds), f"{creds}"):
        assert "topsecretvalue" not in text and "hunter2pass" not in text and "abcdefghijkl" not in text
    assert creds.get("secret") == "topsecretvalue"
    assert set(creds.secrets()) == {"abcdefghijkl", "topsecretvalue", "hunter2pass"}


def test_optional_credential_parts_may_be_absent() -> None:
    creds = Credentials.from_env(
        "IB", {"api_key": "A", "account": "B"}, {"A": "x" * 10}, optional=frozenset({"account"})
    )
    assert not creds.has("account")
    with pytest.raises(ConfigError, match="account"):
        creds.get("account")


def test_backoff_grows_exponentially_within_its_cap_and_resets() -> None:
    backoff = Backoff(base_s=0.1, cap_s=2.0, rng=random.Random(7))
    delays = [backoff.next_delay_s() for _ in range(12)]
    assert all(0.1 <= d <= 2.0 for d in delays)
    ceilings = [min(2.0, 0.1 * 2**n) for n in range(12)]
    assert all(d <= c for d, c in zip(delays, ceilings, strict=True))
    assert max(delays[6:]) > 0.8  # the ceiling has reached the cap: delays spread up to it
    backoff.reset()
    assert backoff.next_delay_s() <= 0.1 + 1e-12


def test_backoff_jitter_spreads_clients_apart() -> None:
    first = [Backoff(0.1, 30.0, rng=random.Random(seed)) for seed in range(20)]
    for b in first:
        for _ in range(5):
            b.next_delay_s()
    sixth = {round(b.next_delay_s(), 6) for b in first}
    assert len(sixth) == 20


class _FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_grants_up_to_capacity_then_refills_at_its_rate() -> None:
    clock = _FakeTime()
    bucket = TokenBucket("orders", capacity=10, period_s=1.0, clock=clock)
    assert bucket.delay_for(10) == 0.0
    bucket._tokens -= 10  # spend everything (as ten acquires would)
    assert bucket.delay_for(1) == pytest.approx(0.1)
    clock.now = 0.5
    assert bucket.available() == pytest.approx(5.0)


def test_token_bucket_penalty_grants_nothing_until_it_ends() -> None:
    clock = _FakeTime()
    bucket = TokenBucket("weight", capacity=1200, period_s=60.0, clock=clock)
    bucket.penalise(30.0)
    assert bucket.available() == 0.0
    assert bucket.delay_for(1) == pytest.approx(30.0)
    clock.now = 30.0
    assert bucket.delay_for(1) == pytest.approx(0.0)  # 30 s of refill (600 tokens) is there once it ends
    assert bucket.penalties == 1


def test_token_bucket_acquire_paces_a_burst_at_the_venue_rate() -> None:
    async def burst() -> float:
        bucket = TokenBucket("orders", capacity=5, period_s=0.25)
        loop = asyncio.get_running_loop()
        start = loop.time()
        for _ in range(10):
            await bucket.acquire(1)
        return loop.time() - start

    elapsed = asyncio.run(burst())
    # 5 at once, then 5 more at 20/s: at least 0.25 s in all (never faster than the limit).
    assert elapsed >= 0.24


def test_feed_stats_count_per_instrument() -> None:
    from tradewright.core.ids import InstrumentId

    stats = FeedStats()
    iid = InstrumentId.parse("BTC-USDT.OKX")
    stats.of(iid).resyncs += 1
    stats.of(iid).resyncs += 1
    assert stats.instruments[iid].resyncs == 2


def test_unknown_venue_kind_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="unknown venue kind 'nope'"):
        venue_package("nope")


def test_signing_venues_leave_the_recursion_limit_alone() -> None:
    """py_ecc raises it to 100,000 on import; then a deeply nested message would crash the process in
    the JSON decoder (a C stack overflow) instead of being refused."""
    import subprocess
    import sys

    code = (
        "import sys; before = sys.getrecursionlimit(); "
        "import tradewright.venues.polymarket, tradewright.venues.turbine, tradewright.servers.polymarket; "
        "import json\n"
        "try:\n    json.loads('[' * 200000 + ']' * 200000)\nexcept RecursionError:\n    pass\n"
        "print(before, sys.getrecursionlimit())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-500:]
    before, after = out.stdout.split()
    assert before == after
