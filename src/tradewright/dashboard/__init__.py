"""The operator dashboard: static HTML, CSS and plain ES modules (no build step), served by the API.

`STATIC_DIR` holds the pages; `VENDOR_DIR` the vendored chart library in `tradewright/web/vendor` (uPlot, MIT, see its VENDORED.md).
"""

from pathlib import Path

__all__ = ["STATIC_DIR", "VENDOR_DIR"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Shared with the HTML report: src/tradewright/web/vendor (a data folder, not a package).
VENDOR_DIR = Path(__file__).resolve().parents[1] / "web" / "vendor"
