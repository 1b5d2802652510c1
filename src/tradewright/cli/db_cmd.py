"""`tradewright db upgrade|current|downgrade|check`: manage the state store's schema (Alembic migrations)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    from tradewright.store.config import URL_ENV_VAR

    p = subparsers.add_parser(
        "db",
        help="migrate the state store's schema (upgrade, current, downgrade, check)",
        description="Manage the state store's schema. The database is chosen by --url, else "
        f"${URL_ENV_VAR}, else the SQLite file tradewright.sqlite in the current folder. "
        "Back up the database before upgrading or downgrading.",
    )
    actions = p.add_subparsers(dest="db_action", metavar="ACTION", required=True)

    up = actions.add_parser("upgrade", help="migrate up to a revision (default: the newest)")
    up.add_argument("revision", nargs="?", default="head", help="target revision (default: head)")
    _add_url(up)
    up.set_defaults(func=upgrade)

    cur = actions.add_parser(
        "current",
        help="show the database's revision and the newest one",
        description="Show the database's schema revision. Exit code 0 at the newest revision, 1 otherwise.",
    )
    _add_url(cur)
    cur.set_defaults(func=current)

    down = actions.add_parser(
        "downgrade",
        help="migrate down to a revision ('base' drops every table)",
        description="Migrate down to REVISION. Tables that later revisions added are dropped with their data.",
    )
    down.add_argument("revision", help="target revision, e.g. 0001, or base")
    _add_url(down)
    down.set_defaults(func=downgrade)

    chk = actions.add_parser("check", help="fail if the database schema differs from the code's")
    _add_url(chk)
    chk.set_defaults(func=check)


def _add_url(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        help="database URL: sqlite:///path.sqlite or postgresql+psycopg://user@host:5432/db "
        "(put passwords in the environment variable, not on the command line)",
    )


def _engine(args: argparse.Namespace) -> Any:
    from tradewright.store.config import StoreConfig, default_url
    from tradewright.store.engine import make_engine

    url = args.url or default_url()
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        # A new SQLite store may live in a folder that does not exist yet (e.g. runs/): create it.
        Path(url.removeprefix("sqlite:///").split("?", 1)[0]).parent.mkdir(parents=True, exist_ok=True)
    return make_engine(StoreConfig(url=url))


def upgrade(args: argparse.Namespace) -> int:
    from tradewright.store import migrate
    from tradewright.store.engine import describe

    engine = _engine(args)
    try:
        before = migrate.current_revision(engine)
        migrate.upgrade(engine, args.revision)
        after = migrate.current_revision(engine)
    finally:
        engine.dispose()
    if before == after:
        print(f"{describe(engine)}: already at {after}")
    else:
        print(f"{describe(engine)}: upgraded {before or 'empty'} -> {after}")
    return 0


def downgrade(args: argparse.Namespace) -> int:
    from tradewright.store import migrate
    from tradewright.store.engine import describe

    engine = _engine(args)
    try:
        before = migrate.current_revision(engine)
        migrate.downgrade(engine, args.revision)
        after = migrate.current_revision(engine)
    finally:
        engine.dispose()
    print(f"{describe(engine)}: downgraded {before or 'empty'} -> {after or 'base (empty)'}")
    return 0


def current(args: argparse.Namespace) -> int:
    from tradewright.store import migrate
    from tradewright.store.engine import describe

    engine = _engine(args)
    try:
        revision = migrate.current_revision(engine)
    finally:
        engine.dispose()
    head = migrate.head_revision()
    if revision is None:
        state = "no schema yet (run `tradewright db upgrade`, or open the store once)"
    elif revision == head:
        state = f"{revision} (head)"
    else:
        state = f"{revision} (the code's newest is {head}: run `tradewright db upgrade`)"
    print(f"{describe(engine)}: {state}")
    return 0 if revision == head else 1


def check(args: argparse.Namespace) -> int:
    from tradewright.store import migrate
    from tradewright.store.engine import describe

    engine = _engine(args)
    try:
        migrate.check(engine)
    finally:
        engine.dispose()
    print(f"{describe(engine)}: schema matches the code")
    return 0
