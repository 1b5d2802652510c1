"""`tradewright db upgrade|current|downgrade|check|backup|restore|prepare|nodes`: manage the state store's schema
(Alembic migrations) and back it up or restore it (SQLite and PostgreSQL alike)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    # The variable's name is written out (it is `tradewright.store.config.URL_ENV_VAR`): importing the
    # store here would load SQLAlchemy and Alembic into every command, a backtest's too.
    p = subparsers.add_parser(
        "db",
        help="migrate, back up or restore the state store, list its nodes (upgrade, current, downgrade, check, backup, restore, prepare, nodes)",
        description="Manage the state store's schema. The database is chosen by --url, else "
        "$TRADEWRIGHT_STORE_URL, else the SQLite file tradewright.sqlite in the current folder. "
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

    bak = actions.add_parser(
        "backup",
        help="write the whole store to one portable file (a consistent snapshot, safe while a node runs)",
        description="Write every table of the store to FILE: gzip-compressed JSON lines with the schema "
        "revision, row counts and checksums. A backup restores on either backend.",
    )
    bak.add_argument("file", help="the backup file to write (replaced atomically if it exists)")
    _add_url(bak)
    bak.set_defaults(func=backup_cmd)

    res = actions.add_parser(
        "restore",
        help="restore a backup into an empty database (all or nothing)",
        description="Restore FILE into an empty database: the schema at the backup's revision, every row, "
        "then checks of every count and checksum before anything is committed. Refuses a database that "
        "already holds tables. Run `tradewright db upgrade` afterwards if the backup is from an older version.",
    )
    res.add_argument("file", help="a file written by `tradewright db backup`")
    _add_url(res)
    res.set_defaults(func=restore_cmd)

    prep = actions.add_parser(
        "prepare",
        help="wait for the store, restore a backup into it if it is empty, migrate it (container start)",
        description="Get the store ready for a node: wait up to --wait-s seconds for the database to answer; "
        "with --restore-from, restore that backup if the database holds no store yet (a store that holds "
        "state is never overwritten; a named backup that is missing stops with an error); then migrate the "
        "schema to the newest revision. The image's entrypoint runs this before every node command.",
    )
    prep.add_argument("--restore-from", metavar="FILE", help="a backup written by `tradewright db backup`")
    prep.add_argument(
        "--wait-s", type=float, default=60.0, help="how long to wait for the database (default 60)"
    )
    _add_url(prep)
    prep.set_defaults(func=prepare_cmd)

    nodes = actions.add_parser(
        "nodes",
        help="list the nodes that share this database (their last run, open orders, fills, positions)",
        description="List every node id with rows in the database (`[store] node_id` of each node's config): "
        "its last run (mode, start, end and exit status; 'running' while no end is recorded), how many orders "
        "are still open, how many orders and fills it has recorded, and how many positions it holds.",
    )
    nodes.add_argument("--json", action="store_true", help="print one JSON object per node")
    _add_url(nodes)
    nodes.set_defaults(func=nodes_cmd)


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


def backup_cmd(args: argparse.Namespace) -> int:
    from tradewright.store.backup import backup
    from tradewright.store.engine import describe

    engine = _engine(args)
    try:
        summary = backup(engine, args.file)
    finally:
        engine.dispose()
    print(
        f"{describe(engine)}: backed up {summary.total_rows} rows in {len(summary.rows)} tables "
        f"(schema {summary.revision}) to {summary.path}"
    )
    return 0


def restore_cmd(args: argparse.Namespace) -> int:
    from tradewright.store import migrate
    from tradewright.store.backup import restore
    from tradewright.store.engine import describe

    engine = _engine(args)
    try:
        summary = restore(engine, args.file)
    finally:
        engine.dispose()
    print(
        f"{describe(engine)}: restored {summary.total_rows} rows in {len(summary.rows)} tables "
        f"(schema {summary.revision}) from {summary.path}"
    )
    if summary.revision != migrate.head_revision():
        print(
            f"the backup's schema is older than this version's ({migrate.head_revision()}): "
            "run `tradewright db upgrade` next"
        )
    return 0


def prepare_cmd(args: argparse.Namespace) -> int:
    from tradewright.core.errors import ConfigError
    from tradewright.store.prepare import prepare

    if args.wait_s < 0:
        raise ConfigError(f"--wait-s must be >= 0, got {args.wait_s}")
    engine = _engine(args)
    try:
        report = prepare(engine, restore_from=args.restore_from or None, wait_s=args.wait_s)
    finally:
        engine.dispose()
    for line in report.lines:
        print(line)
    return 0


def nodes_cmd(args: argparse.Namespace) -> int:
    import dataclasses
    import json
    from datetime import UTC, datetime

    from tradewright.core.errors import StoreError
    from tradewright.store import migrate
    from tradewright.store.engine import describe
    from tradewright.store.nodes import list_nodes

    engine = _engine(args)
    try:
        revision = migrate.current_revision(engine)
        if revision is None:
            print(f"{describe(engine)}: no store here yet (no node has written to it)")
            return 0
        if revision != migrate.head_revision():
            raise StoreError(
                f"{describe(engine)}: schema is at revision {revision}, node ids need "
                f"{migrate.head_revision()}: run `tradewright db upgrade`"
            )
        found = list_nodes(engine)
    finally:
        engine.dispose()
    if args.json:
        for node in found:
            print(json.dumps({**dataclasses.asdict(node), "running": node.running}))
        return 0
    if not found:
        print(f"{describe(engine)}: no node has written to this store yet")
        return 0

    def when(ns: int | None) -> str:
        return "-" if ns is None else datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S")

    print(f"{describe(engine)}: {len(found)} node(s)")
    header = (
        "node",
        "last run",
        "mode",
        "started (UTC)",
        "ended (UTC)",
        "status",
        "open",
        "orders",
        "fills",
        "positions",
    )
    rows = [
        (
            n.node_id,
            n.last_run_id or "-",
            n.last_mode or "-",
            when(n.last_started_ns),
            when(n.last_ended_ns),
            "running" if n.running else (n.last_exit_status or "-"),
            str(n.open_orders),
            str(n.orders),
            str(n.fills),
            str(n.open_positions),
        )
        for n in found
    ]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0
