"""Transactions for the store: one per write, or one per `batch()` (group commit).

Every failure of the database becomes a `StoreError` naming the backend and the operation, after the
transaction was rolled back. Callers register what to undo in memory when a transaction is lost
(`on_abort`) and what to do once it is durable (`Tx.after_commit`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.engine import Connection, CursorResult, Engine

from tradewright.core.errors import StoreError
from tradewright.store.engine import STORE_FAILURES, describe, store_error

__all__ = ["Transactions", "Tx"]


class Tx:
    """One open transaction: its connection, the orders it touched, and what to do once committed."""

    __slots__ = ("after_commit", "conn", "failed", "op_touched", "touched", "writes")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.touched: set[str] = set()  # orders changed in this transaction
        self.op_touched: set[str] = set()  # ... by the operation running now
        self.after_commit: list[Callable[[], None]] = []
        self.writes = 0
        self.failed: str | None = None

    def write(self, statement: Executable, params: Any = None) -> CursorResult[Any]:
        """Execute a statement that may change rows, counting it if it did."""
        result = self.conn.execute(statement, params)
        if result.rowcount != 0:
            self.writes += 1
        return result

    def touch(self, client_order_id: str) -> None:
        """Note that this operation changes the order (so a failure forgets its cached state)."""
        self.touched.add(client_order_id)
        self.op_touched.add(client_order_id)


class Transactions:
    """Open, commit and roll back the store's transactions; serialise them with one lock."""

    def __init__(self, engine: Engine, on_abort: Callable[[Iterable[str]], None]) -> None:
        self.engine = engine
        self._on_abort = on_abort
        self._lock = threading.RLock()
        self._batch: Tx | None = None

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One transaction for every write inside the block, committed when it exits (see StateStore)."""
        with self._lock:
            if self._batch is not None:
                yield  # nested: join the outer batch
                return
            tx = self._begin("batch")
            self._batch = tx
            try:
                yield
            except BaseException:
                self._batch = None
                self._abort(tx)
                raise
            self._batch = None
            if tx.failed is not None:
                self._abort(tx)
                raise StoreError(f"{describe(self.engine)}: batch rolled back: {tx.failed}")
            self._commit(tx, f"batch of {tx.writes} writes")

    @contextmanager
    def write(self, operation: str) -> Iterator[Tx]:
        """Run one write operation: in its own transaction, or as part of the open batch."""
        with self._lock:
            if self._batch is not None:
                yield from self._write_in_batch(self._batch, operation)
                return
            tx = self._begin(operation)
            try:
                yield tx
            except STORE_FAILURES as exc:
                self._abort(tx)
                raise store_error(self.engine, operation, exc) from exc
            except BaseException:
                self._abort(tx)
                raise
            self._commit(tx, operation)

    def _write_in_batch(self, tx: Tx, operation: str) -> Iterator[Tx]:
        if tx.failed is not None:
            raise StoreError(
                f"{describe(self.engine)}: {operation} refused: this batch already failed ({tx.failed})"
            )
        writes_before = tx.writes
        tx.op_touched.clear()
        try:
            yield tx
        except STORE_FAILURES as exc:
            self._on_abort(tx.op_touched)
            err = store_error(self.engine, operation, exc)
            tx.failed = str(err)
            raise err from exc
        except BaseException as exc:
            self._on_abort(tx.op_touched)
            # A refusal raised before the operation wrote anything leaves the batch usable.
            if tx.writes != writes_before:
                tx.failed = f"{operation} raised {type(exc).__name__} after writing: {exc}"
            raise

    @contextmanager
    def read(self, operation: str) -> Iterator[Connection]:
        """A consistent read: one snapshot, without blocking writers (or the open batch's connection)."""
        with self._lock:
            if self._batch is not None:
                tx = self._batch
                try:
                    yield tx.conn  # the batch reads its own uncommitted writes
                except STORE_FAILURES as exc:
                    err = store_error(self.engine, operation, exc)
                    tx.failed = str(err)
                    raise err from exc
                return
            try:
                conn = self.engine.connect()
                if conn.dialect.name == "postgresql":
                    conn = conn.execution_options(isolation_level="REPEATABLE READ")
                else:
                    conn = conn.execution_options(sqlite_begin="DEFERRED")  # WAL: a snapshot, no lock
            except STORE_FAILURES as exc:
                raise store_error(self.engine, operation, exc) from exc
            try:
                with conn.begin():
                    yield conn
            except STORE_FAILURES as exc:
                raise store_error(self.engine, operation, exc) from exc
            finally:
                with suppress(*STORE_FAILURES):
                    conn.close()

    def close(self) -> None:
        with self._lock:
            self.engine.dispose()

    def _begin(self, operation: str) -> Tx:
        try:
            # rowcount tells "inserted" from "already there"; SQLAlchemy keeps it for INSERTs only when asked.
            conn = self.engine.connect().execution_options(preserve_rowcount=True)
        except STORE_FAILURES as exc:
            raise store_error(self.engine, operation, exc) from exc
        try:
            conn.begin()
        except STORE_FAILURES as exc:
            with suppress(*STORE_FAILURES):
                conn.close()
            raise store_error(self.engine, operation, exc) from exc
        return Tx(conn)

    def _commit(self, tx: Tx, operation: str) -> None:
        try:
            tx.conn.commit()
        except STORE_FAILURES as exc:
            self._abort(tx)
            raise store_error(self.engine, operation, exc) from exc
        with suppress(*STORE_FAILURES):
            tx.conn.close()
        for action in tx.after_commit:
            action()

    def _abort(self, tx: Tx) -> None:
        self._on_abort(tx.touched)
        with suppress(*STORE_FAILURES):
            tx.conn.rollback()
        with suppress(*STORE_FAILURES):
            tx.conn.close()
