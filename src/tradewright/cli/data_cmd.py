"""`tradewright data import|verify|list`: convert recordings to the Parquet cache, check them, list a cache."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from tradewright.core.errors import ConfigError, DataError

if TYPE_CHECKING:  # the data package pulls in numba and pyarrow: import it when a command runs
    from tradewright.data import Issue, Verification
    from tradewright.model.columnar import MarketStream
    from tradewright.model.instrument import Instrument

__all__ = ["register"]

_IMPORT_FORMATS = ["auto", "binance", "tardis", "es"]
_VERIFY_FORMATS = ["auto", "binance", "tardis", "es", "parquet", "cryptofeed", "venue_recording"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("data", help="import, verify and list recorded market data")
    sub = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    p.set_defaults(func=lambda args: _help(p))

    imp = sub.add_parser(
        "import",
        help="convert recordings to the Parquet cache",
        description="Load recordings once and write one Parquet file per instrument into --out. Binance "
        "recordings of the same instrument are chained in time order (e.g. a day and the next).",
    )
    imp.add_argument("sources", nargs="+", metavar="SRC", help="recording files")
    imp.add_argument(
        "--format", choices=_IMPORT_FORMATS, default="auto", help="input format (default: detect)"
    )
    imp.add_argument("--out", required=True, help="cache folder to write into")
    _loader_options(imp)
    imp.set_defaults(func=run_import)

    ver = sub.add_parser(
        "verify",
        help="rebuild books and report gaps, checksum failures and disagreements with the venue",
        description="Rebuild the order book from a recording or a Parquet cache and report sequence gaps, "
        "malformed lines, checksum failures (OKX, Bitget, Kraken recordings) and disagreements with the "
        "venue's own best bid/ask (bookTicker). Exits 1 if there is any problem.",
    )
    ver.add_argument(
        "sources",
        nargs="+",
        metavar="RECORDING",
        help="recording or cache files, or `tradewright record` folders",
    )
    ver.add_argument(
        "--format", choices=_VERIFY_FORMATS, default="auto", help="input format (default: detect)"
    )
    _loader_options(ver)
    ver.set_defaults(func=run_verify)

    lst = sub.add_parser("list", help="list the cached streams in a folder")
    lst.add_argument("folder", help="cache folder")
    lst.set_defaults(func=run_list)


def _loader_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--symbol", help="venue symbol to load when a file holds several (e.g. BTCUSDT)")
    p.add_argument(
        "--instrument", metavar="JSON", help="instrument spec as a JSON file (overrides built-ins)"
    )
    p.add_argument(
        "--infer-grid", action="store_true", help="Tardis: infer tick and lot from the data's decimals"
    )
    p.add_argument(
        "--strict", action="store_true", help="stop at the first malformed line instead of skipping it"
    )


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


# --- loading ----------------------------------------------------------------------------------------
def _instrument(args: argparse.Namespace) -> Instrument | None:
    import msgspec

    from tradewright.model.instrument import Instrument

    if args.instrument is None:
        return None
    try:
        return msgspec.json.decode(Path(args.instrument).read_bytes(), type=Instrument)
    except OSError as exc:
        raise ConfigError(f"--instrument {args.instrument}: {exc.strerror}") from None
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ConfigError(f"--instrument {args.instrument}: not an instrument spec: {exc}") from None


def _by_format(sources: list[str], fmt: str, formats: list[str]) -> dict[str, list[Path]]:
    from tradewright.data import detect_format

    buckets: dict[str, list[Path]] = {}
    for source in sources:
        path = Path(source)
        if (path / "instrument.json").is_file():
            found = "venue_recording"  # a `tradewright record` folder
        elif not path.is_file():
            raise DataError("file not found (or not a recording folder)", source=source)
        else:
            try:
                found = detect_format(path) if fmt in ("auto", "tardis") else fmt
            except DataError:
                raise _undetected(path, formats) from None
        if fmt == "tardis" and not found.startswith("tardis"):
            raise DataError(
                f"not a Tardis incremental_book_L2 or trades CSV (looks like {found})", source=source
            )
        buckets.setdefault(found, []).append(path)
    return buckets


def _load(fmt: str, paths: list[Path], args: argparse.Namespace) -> list[tuple[MarketStream, list[Issue]]]:
    """Load the files of one format: one stream per instrument, each with the issues its loader reported."""
    from tradewright.data import load_binance, load_es_l2, load_tardis_book, load_tardis_trades, read_stream
    from tradewright.data.binance import group_recordings

    inst = _instrument(args)
    if fmt.startswith("tardis") and inst is None and not args.infer_grid:
        # Tardis CSVs carry prices but not the instrument's grid: say which option supplies it.
        raise ConfigError(
            f"{paths[0]}: a Tardis file does not say its tick and lot size: pass --instrument SPEC.json "
            "(an instrument spec) or --infer-grid (read them off the data's decimals)"
        )
    if fmt == "binance":
        loaded = []
        for group in group_recordings(paths):
            issues: list[Issue] = []
            stream = load_binance(
                group, instrument=inst, symbol=args.symbol, strict=args.strict, on_issue=issues.append
            )
            loaded.append((stream, issues))
        return loaded
    if fmt == "tardis_book":
        return [
            (load_tardis_book(p, inst, infer_grid=args.infer_grid, symbol=args.symbol), []) for p in paths
        ]
    if fmt == "tardis_trades":
        return [
            (load_tardis_trades(p, inst, infer_grid=args.infer_grid, symbol=args.symbol), []) for p in paths
        ]
    if fmt == "es":
        return [(load_es_l2(p) if inst is None else load_es_l2(p, inst), []) for p in paths]
    if fmt == "parquet":
        return [(read_stream(p), []) for p in paths]
    raise DataError(f"{fmt} files cannot be loaded as a stream", source=str(paths[0]))


# --- commands ---------------------------------------------------------------------------------------
def run_import(args: argparse.Namespace) -> int:
    from tradewright.data import Catalog

    out, err = _console(), _console(stderr=True)
    catalog = Catalog(args.out)
    issues: list[Issue] = []
    table = Table(title=f"imported into {args.out}")
    for col in ("file", "instrument", "rows", "from (UTC)", "to (UTC)", "deltas", "trades", "quotes"):
        table.add_column(col, justify="right" if col in ("rows", "deltas", "trades", "quotes") else "left")
    for fmt, paths in _by_format(args.sources, args.format, _IMPORT_FORMATS).items():
        for stream, found in _load(fmt, paths, args):
            issues += found
            path = catalog.add(stream)
            kinds = {k: int((stream.kind == v).sum()) for k, v in (("delta", 0), ("trade", 2), ("quote", 3))}
            table.add_row(
                path.name, str(stream.instrument.id), f"{len(stream):,}", _utc(stream.ts_recv[0]),
                _utc(stream.ts_recv[-1]), f"{kinds['delta']:,}", f"{kinds['trade']:,}", f"{kinds['quote']:,}",
            )  # fmt: skip
    out.print(table)
    _print_issues(err, issues)
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from tradewright.data import replay_checksums, verify_stream

    out, err = _console(), _console(stderr=True)
    results: list[Verification] = []
    for fmt, paths in _by_format(args.sources, args.format, _VERIFY_FORMATS).items():
        if fmt == "cryptofeed":
            for path in paths:
                results += replay_checksums(path)
            continue
        if fmt == "venue_recording":
            from tradewright.data.venue_recording import verify_venue_recording

            for path in paths:
                results += verify_venue_recording(path)
            continue
        for stream, issues in _load(fmt, paths, args):
            results.append(verify_stream(stream, issues))
    out.print(_verification_table(results))
    for r in results:
        for line in r.examples:
            err.print(f"[red]{r.instrument}[/]: {line}", highlight=False, soft_wrap=True)
    bad = sum(1 for r in results if r.problems)
    out.print(
        f"{len(results)} checked, {bad} with problems" if bad else f"{len(results)} checked, all consistent"
    )
    return 1 if bad else 0


def run_list(args: argparse.Namespace) -> int:
    from tradewright.data import Catalog

    entries = Catalog(args.folder).entries()
    table = Table(title=f"{len(entries)} cached streams in {args.folder}")
    for col in ("instrument", "rows", "from (UTC)", "to (UTC)", "kinds", "file"):
        table.add_column(col, justify="right" if col == "rows" else "left")
    for e in entries:
        kinds = " ".join(f"{k}={v:,}" for k, v in e.kinds.items() if v)
        table.add_row(e.instrument_id, f"{e.rows:,}", _utc(e.start_ns), _utc(e.end_ns), kinds, e.path.name)
    _console().print(table)
    return 0


def _verification_table(results: list[Verification]) -> Table:
    table = Table(title="data verification")
    columns = ("source", "instrument", "messages", "gaps", "malformed", "refused (by reason)", "unsynced",
               "bookTicker compared", "mismatches", "checksums", "failures", "status")  # fmt: skip
    for col in columns:
        table.add_column(col, justify="left" if col in ("source", "instrument", "status") else "right")
    for r in results:
        name = " + ".join(Path(s).name for s in r.source.split("+"))
        status = "[red]FAIL[/]" if r.problems else "[green]OK[/]"
        refused = {k: v for k, v in r.rejected.items() if k != "malformed"}
        if r.zero_size_levels:
            refused["zero_size_levels"] = r.zero_size_levels
        table.add_row(
            name, r.instrument, f"{r.messages:,}", str(r.sequence_gaps), str(r.malformed_lines),
            " ".join(f"{k}={v:,}" for k, v in sorted(refused.items())) or "0",
            f"{r.unsynced_diffs:,}", f"{r.quotes_compared:,} of {r.quotes:,}", str(r.quote_mismatches),
            f"{r.checksums_checked:,}", str(r.checksum_failures), status,
        )  # fmt: skip
    return table


def _print_issues(console: Console, issues: list[Issue], limit: int = 20) -> None:
    for issue in issues[:limit]:
        console.print(f"[yellow]warning[/]: {issue}", highlight=False, soft_wrap=True)
    if len(issues) > limit:
        console.print(f"[yellow]warning[/]: ... and {len(issues) - limit} more", highlight=False)


_BAR_COLUMNS = ("open", "high", "low", "close")


def _undetected(path: Path, formats: list[str]) -> ConfigError:
    """The error for a file whose format cannot be told: a bar file gets pointed to backtests."""
    import gzip

    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            header = fh.readline().lower()
    except OSError:
        header = ""
    if all(col in header for col in _BAR_COLUMNS):
        return ConfigError(
            f"{path} looks like a bar (OHLCV) file: bar files are not imported into the L2 cache; use them "
            'directly in a backtest config with `[data] format = "bars"` (see docs/strategies.md)'
        )
    choices = ", ".join(f for f in formats if f != "auto")
    return ConfigError(
        f"{path}: cannot tell the format from its name or first line: pass --format ({choices})"
    )


def _console(stderr: bool = False) -> Console:
    """A console; when writing to a file or pipe, wide enough that tables are not cut to 80 columns."""
    console = Console(stderr=stderr)
    return console if console.is_terminal else Console(stderr=stderr, width=220)


def _utc(ns: int) -> str:
    return datetime.fromtimestamp(int(ns) / 1e9, tz=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
