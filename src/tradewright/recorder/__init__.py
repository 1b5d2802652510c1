"""The live recorder: a venue's verified books, trades and best bid/offer written to Parquet (see
`tradewright.data.venue_recording` for the format; `tradewright record` runs it)."""

from tradewright.recorder.runner import RecordSummary, record

__all__ = ["RecordSummary", "record"]
