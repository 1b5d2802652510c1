"""Builders and fakes for tests. Nothing in src imports this package."""

from tradewright.testkit.builders import StreamRows, btc_perp, es_future, make_instrument

__all__ = ["StreamRows", "btc_perp", "es_future", "make_instrument"]
