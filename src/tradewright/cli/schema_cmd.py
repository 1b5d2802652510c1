"""`tradewright schema`: export the JSON schema of every event, command and market-data type."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import msgspec

from tradewright.model.commands import COMMAND_TYPES
from tradewright.model.data import DATA_TYPES
from tradewright.model.events import EVENT_TYPES

__all__ = ["all_schemas", "register"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("schema", help="export JSON schemas of all events, commands and data types")
    p.add_argument("--out", help="write one <Type>.json per type into this folder instead of printing")
    p.set_defaults(func=run)


def all_schemas() -> dict[str, Any]:
    """One JSON-schema document per type, keyed by type name."""
    types: list[type[Any]] = [*EVENT_TYPES, *COMMAND_TYPES, *DATA_TYPES]
    return {t.__name__: msgspec.json.schema(t) for t in types}


def run(args: argparse.Namespace) -> int:
    schemas = all_schemas()
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name, schema in schemas.items():
            (out / f"{name}.json").write_text(
                json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8"
            )
        print(f"wrote {len(schemas)} schemas to {out}")
    else:
        json.dump(schemas, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    return 0
