"""Get a store ready before a node starts on it (the container entrypoint's `tradewright db prepare`).

In order: wait until the database answers (a container's database may still be starting); if a backup is
named and the database holds no store yet, restore it (all or nothing, see `backup.restore`); then
migrate the schema to the code's newest revision. A store that already holds state is never
overwritten: the backup is then left alone and the report says so. A backup that was asked for but
cannot be read stops the start, so a node never begins from an empty store by mistake.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from tradewright.core.errors import StoreError
from tradewright.store import migrate
from tradewright.store.backup import restore
from tradewright.store.engine import STORE_FAILURES, describe, store_error

__all__ = ["PrepareReport", "prepare", "wait_for_store"]

# PostgreSQL advisory lock held while one node prepares a shared database: nodes started together wait
# for each other instead of racing to create the schema (or restore) twice.
_PG_PREPARE_LOCK_KEY = 0x7477_0005


@dataclass(slots=True)
class PrepareReport:
    """What `prepare` found and did, one line per step, for the log."""

    revision_before: str | None = None
    revision_after: str | None = None
    restored_rows: int | None = None
    lines: list[str] = field(default_factory=list)


def wait_for_store(
    engine: Engine,
    *,
    wait_s: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str | None:
    """Return the database's schema revision once it answers; StoreError if it has not within `wait_s`."""
    deadline = clock() + wait_s
    while True:
        try:
            return migrate.current_revision(engine)
        except StoreError as exc:
            if clock() >= deadline:
                raise StoreError(f"the store did not answer within {wait_s:g} s: {exc}") from None
            engine.dispose()  # drop any half-open connection before the next try
            sleep(min(1.0, max(0.0, deadline - clock())))


def prepare(engine: Engine, *, restore_from: str | Path | None = None, wait_s: float = 60.0) -> PrepareReport:
    """Wait for the store, restore `restore_from` into it if it is empty, and migrate it to the newest schema."""
    if wait_s < 0:
        raise ValueError(f"wait_s must be >= 0, got {wait_s}")
    report = PrepareReport()
    where = describe(engine)
    wait_for_store(engine, wait_s=wait_s)
    with _exclusive(engine):
        _prepare_locked(engine, report, where, restore_from)
    return report


@contextlib.contextmanager
def _exclusive(engine: Engine) -> Iterator[None]:
    """On PostgreSQL, hold the prepare lock for the block (SQLite serialises writers by itself)."""
    if engine.dialect.name != "postgresql":
        yield
        return
    try:
        conn = engine.connect()
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_PREPARE_LOCK_KEY})
        conn.commit()
    except STORE_FAILURES as exc:
        raise store_error(engine, "taking the prepare lock", exc) from exc
    try:
        yield
    finally:
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_PREPARE_LOCK_KEY})
            conn.commit()
        finally:
            conn.close()


def _prepare_locked(
    engine: Engine, report: PrepareReport, where: str, restore_from: str | Path | None
) -> None:
    report.revision_before = migrate.current_revision(engine)
    if restore_from is not None:
        path = Path(restore_from)
        if report.revision_before is not None:
            report.lines.append(
                f"{where}: already holds a store (schema {report.revision_before}); {path} is not restored"
            )
        else:
            if not path.is_file():
                raise StoreError(
                    f"the backup to restore, {path}, does not exist; the store is empty and is left so "
                    "(unset TRADEWRIGHT_RESTORE_FROM to start from an empty store)"
                )
            summary = restore(engine, path)
            report.restored_rows = summary.total_rows
            report.lines.append(
                f"{where}: restored {summary.total_rows} rows in {len(summary.rows)} tables "
                f"(schema {summary.revision}) from {path}"
            )
    before = migrate.current_revision(engine)
    migrate.upgrade(engine, "head")
    report.revision_after = migrate.current_revision(engine)
    if before == report.revision_after:
        report.lines.append(f"{where}: schema at {report.revision_after} (newest)")
    else:
        report.lines.append(f"{where}: schema upgraded {before or 'empty'} -> {report.revision_after}")
