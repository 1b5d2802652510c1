"""Entry point of the `tradewright` command.

Each command group lives in its own module with a `register(subparsers)` function that adds its parser
and sets `func` (a callable taking the parsed namespace and returning an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from tradewright import __version__
from tradewright.core.errors import TradewrightError

__all__ = ["main"]

# Command modules, in the order they appear in --help. Each has register(subparsers).
_COMMAND_MODULES = (
    "tradewright.cli.backtest_cmd",
    "tradewright.cli.paper_cmd",
    "tradewright.cli.live_cmd",
    "tradewright.cli.flatten_cmd",
    "tradewright.cli.status_cmd",
    "tradewright.cli.api_cmd",
    "tradewright.cli.report_cmd",
    "tradewright.cli.journal_cmd",
    "tradewright.cli.sweep_cmd",
    "tradewright.cli.walkforward_cmd",
    "tradewright.cli.data_cmd",
    "tradewright.cli.emulator_cmd",
    "tradewright.cli.db_cmd",
    "tradewright.cli.schema_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tradewright", description="Algorithmic trading and market making.")
    parser.add_argument("--version", action="version", version=f"tradewright {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # command group not built yet
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        code: int = args.func(args)
    except TradewrightError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
