"""The channel hub: a snapshot first, then deltas numbered per channel without gaps; unchanged coalesced
state is not resent; a slow subscriber is dropped instead of holding the node back."""

from __future__ import annotations

import asyncio
import json

import pytest

from tradewright.live.operator_events import EventHub


def hub() -> EventHub:
    return EventHub("paper", lambda: 123, lambda channel: {"snapshot_of": channel})


def drain(queue: asyncio.Queue[bytes]) -> list[dict[str, object]]:
    out = []
    while not queue.empty():
        out.append(json.loads(queue.get_nowait()))
    return out


def test_a_subscriber_gets_a_snapshot_then_consecutive_deltas_per_channel() -> None:
    h = hub()
    h.publish("orders", "order.accepted", {"n": 1})  # before anyone listens: counted, not sent
    sub = h.subscribe(["orders", "fills"], queue_size=100)
    h.publish("orders", "order.filled", {"n": 2})
    h.publish("fills", "fill", {"n": 3})
    h.publish("orders", "order.canceled", {"n": 4})
    messages = drain(sub.queue)
    assert [(m["channel"], m["type"], m["seq"]) for m in messages] == [
        ("orders", "snapshot", 1), ("fills", "snapshot", 0),
        ("orders", "order.filled", 2), ("fills", "fill", 1), ("orders", "order.canceled", 3),
    ]
    assert messages[0]["data"] == {"snapshot_of": "orders"} and messages[2]["mode"] == "paper"


def test_coalesced_state_is_published_only_when_it_changed() -> None:
    h = hub()
    sub = h.subscribe(["pnl"], queue_size=100)
    assert h.publish_state("pnl", "pnl.tick", {"net": "1.5"})
    assert not h.publish_state("pnl", "pnl.tick", {"net": "1.5"})
    assert h.publish_state("pnl", "pnl.tick", {"net": "1.6"})
    assert [m["seq"] for m in drain(sub.queue)] == [0, 1, 2]


def test_a_slow_subscriber_is_dropped_and_the_others_keep_receiving() -> None:
    h = hub()
    slow = h.subscribe(["orders"], queue_size=3)
    fast = h.subscribe(["orders"], queue_size=1000)
    for i in range(10):
        h.publish("orders", "order.accepted", {"n": i})
        drain(fast.queue)
    assert slow.dropped and h.dropped_subscribers == 1
    assert h.subscribers == 1
    h.publish("orders", "order.accepted", {"n": 99})
    assert drain(fast.queue)[-1]["seq"] == 11


def test_unknown_channels_are_refused_with_the_list_of_channels() -> None:
    with pytest.raises(ValueError, match=r"unknown channel.*channels are system, venues"):
        hub().subscribe(["orders", "trades"], queue_size=10)
