"""Builders and fakes for tests. Nothing in src imports this package."""

from tradewright.testkit.builders import StreamRows, btc_perp, es_future, make_instrument
from tradewright.testkit.venue import REJECT, REST, FakeVenue

__all__ = ["REJECT", "REST", "FakeVenue", "StreamRows", "btc_perp", "es_future", "make_instrument"]
