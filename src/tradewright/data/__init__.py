"""Market data in: loaders for recordings, the Parquet cache and catalog, and verification."""

from tradewright.data._parse import BookMessage, Issue, detect_format, grid_instrument, log_issue
from tradewright.data.binance import BINANCE_INSTRUMENTS, BinanceMarket, binance_instrument, load_binance
from tradewright.data.cache import StreamSummary, read_stream, read_summary, write_stream
from tradewright.data.catalog import Catalog, CatalogEntry
from tradewright.data.es_bench import ES_INSTRUMENT, load_es_l2
from tradewright.data.tardis import load_tardis_book, load_tardis_trades
from tradewright.data.verify import ChecksumReplay, Verification, replay_checksums, verify_stream

__all__ = [
    "BINANCE_INSTRUMENTS",
    "ES_INSTRUMENT",
    "BinanceMarket",
    "BookMessage",
    "Catalog",
    "CatalogEntry",
    "ChecksumReplay",
    "Issue",
    "StreamSummary",
    "Verification",
    "binance_instrument",
    "detect_format",
    "grid_instrument",
    "load_binance",
    "load_es_l2",
    "load_tardis_book",
    "load_tardis_trades",
    "log_issue",
    "read_stream",
    "read_summary",
    "replay_checksums",
    "verify_stream",
    "write_stream",
]
