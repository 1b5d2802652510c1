"""Market data: loaders for venue recordings and files, the Parquet cache, the catalog, data QA."""

from tradewright.data.loading import load_stream

__all__ = ["load_stream"]
