"""Quick-market rotation in simulated time: in the next market before the current one ends, out of
the expiring one (orders cancelled) before it expires."""

from __future__ import annotations

import pytest

from tradewright.venues.turbine.rotation import Action, ActionKind, QuickMarket, Rotation, RotationConfig

MIN = 60_000_000_000
SEC = 1_000_000_000
T0 = 1_767_225_600 * SEC  # 2026-01-01 00:00 UTC


def btc(k: int, **kw: object) -> QuickMarket:
    return QuickMarket(
        market_id=f"0x{k:064x}",
        asset="BTC",
        interval_minutes=15,
        start_ns=T0 + k * 15 * MIN,
        end_ns=T0 + (k + 1) * 15 * MIN,
        **kw,
    )  # type: ignore[arg-type]


def run(
    rotation: Rotation, until_ns: int, discover: dict[int, list[QuickMarket]]
) -> list[tuple[int, Action]]:
    """Drive the rotation second by second; `discover[t]` is what discovery reports at time t."""
    log: list[tuple[int, Action]] = []
    now = T0 - 2 * MIN
    while now <= until_ns:
        found = discover.get(now, [])
        actions = rotation.on_markets(now, found) if found else rotation.on_time(now)
        log += [(now, a) for a in actions]
        now += SEC
    return log


def test_three_consecutive_markets_rotate_with_no_quoting_past_the_stop_lead() -> None:
    cfg = RotationConfig(subscribe_next_lead_ms=60_000, stop_quoting_lead_ms=30_000)
    rotation = Rotation(cfg)
    markets = [btc(0), btc(1), btc(2)]
    # Each next market becomes known 5 minutes before the current one ends.
    discover = {T0 - 2 * MIN: [markets[0]], T0 + 10 * MIN: [markets[1]], T0 + 25 * MIN: [markets[2]]}
    log = run(rotation, T0 + 46 * MIN, discover)
    for m in markets:
        mine = [(t, a.kind) for t, a in log if a.market.market_id == m.market_id]
        kinds = [k for _, k in mine]
        assert kinds == [
            ActionKind.SUBSCRIBE,
            ActionKind.START_QUOTING,
            ActionKind.STOP_QUOTING,
            ActionKind.FOLLOW_RESOLUTION,
            ActionKind.UNSUBSCRIBE,
        ]
        when = dict((k, t) for t, k in mine)
        assert when[ActionKind.STOP_QUOTING] == m.end_ns - 30 * SEC  # out 30 s before expiry
        assert when[ActionKind.START_QUOTING] == m.start_ns
        assert when[ActionKind.SUBSCRIBE] <= m.start_ns - 60 * SEC or m is markets[0]
    # Never two markets quoted at once, and never one within 30 s of its end.
    for t in range(T0, T0 + 45 * MIN, 5 * SEC):
        quoting = rotation.quoting(t)
        assert len(quoting) <= 1
        assert all(t < q.end_ns - 30 * SEC for q in quoting)


def test_a_market_discovered_too_late_is_watched_but_never_quoted() -> None:
    rotation = Rotation(RotationConfig(stop_quoting_lead_ms=30_000))
    late = btc(0)
    actions = rotation.on_markets(late.end_ns - 10 * SEC, [late])
    assert [a.kind for a in actions] == [ActionKind.SUBSCRIBE]
    assert rotation.quoting(late.end_ns - 10 * SEC) == []
    later = rotation.on_time(late.end_ns + 10 * SEC)
    assert [a.kind for a in later] == [ActionKind.FOLLOW_RESOLUTION, ActionKind.UNSUBSCRIBE]


def test_other_assets_and_intervals_are_ignored_and_wakeups_are_exact() -> None:
    rotation = Rotation(RotationConfig())
    eth = QuickMarket(market_id="0xeth", asset="ETH", interval_minutes=15, start_ns=T0, end_ns=T0 + 15 * MIN)
    hourly = QuickMarket(market_id="0xh", asset="BTC", interval_minutes=60, start_ns=T0, end_ns=T0 + 60 * MIN)
    assert rotation.on_markets(T0, [eth, hourly]) == []
    assert rotation.next_wakeup_ns() is None
    rotation.on_markets(T0 - 5 * MIN, [btc(0)])
    assert rotation.next_wakeup_ns() == T0 - 60 * SEC


def test_lead_times_that_leave_no_quoting_window_are_refused() -> None:
    with pytest.raises(ValueError, match="no time to quote"):
        RotationConfig(interval_minutes=15, stop_quoting_lead_ms=15 * 60_000)
