"""Entry point of the `tradewright` command.

Each command group lives in its own module with a `register(subparsers)` function that adds its parser
and sets `func` (a callable taking the parsed namespace and returning an exit code).

Every command also takes `--debug`: an error then prints its whole traceback (by default an error is one
message naming what was wrong, and for a strategy that raised, the file and line in its code).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from tradewright import __version__
from tradewright.core.errors import TradewrightError

__all__ = ["EXIT_BROKEN_PIPE", "EXIT_INTERRUPTED", "build_parser", "main"]

#: Exit codes a shell gives a process ended by SIGINT (130) and by SIGPIPE (141).
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141

# Command modules, in the order they appear in --help. Each has register(subparsers).
_COMMAND_MODULES = (
    "tradewright.cli.backtest_cmd",
    "tradewright.cli.paper_cmd",
    "tradewright.cli.live_cmd",
    "tradewright.cli.flatten_cmd",
    "tradewright.cli.status_cmd",
    "tradewright.cli.probe_cmd",
    "tradewright.cli.api_cmd",
    "tradewright.cli.report_cmd",
    "tradewright.cli.journal_cmd",
    "tradewright.cli.sweep_cmd",
    "tradewright.cli.walkforward_cmd",
    "tradewright.cli.data_cmd",
    "tradewright.cli.emulator_cmd",
    "tradewright.cli.venues_cmd",
    "tradewright.cli.markets_cmd",
    "tradewright.cli.record_cmd",
    "tradewright.cli.polymarket_cmd",
    "tradewright.cli.turbine_cmd",
    "tradewright.cli.db_cmd",
    "tradewright.cli.schema_cmd",
    "tradewright.cli.health_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tradewright", description="Algorithmic trading and market making.")
    parser.add_argument("--version", action="version", version=f"tradewright {__version__}")
    _add_debug(parser, default=False)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # command group not built yet
            raise
        module.register(subparsers)
    for sub in _subparsers(parser):
        _add_debug(sub, default=argparse.SUPPRESS)
    return parser


def _add_debug(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--debug", action="store_true", default=default, help="on an error, print the whole traceback"
    )


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every parser below `parser` (commands and their subcommands)."""
    found: list[argparse.ArgumentParser] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                found += [child, *_subparsers(child)]
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    from tradewright.cli._term import format_error

    try:
        code: int = args.func(args)
        sys.stdout.flush()  # inside the try: a reader that went away is noticed here, not at exit
    except TradewrightError as exc:
        print(format_error(exc, debug=args.debug), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader (e.g. `| head`) closed the pipe: stop quietly. Point stdout at /dev/null so the
        # interpreter's final flush does not complain about the pipe again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return code


if __name__ == "__main__":
    sys.exit(main())
