"""The nodes that share one database, for the operator (`tradewright db nodes`): who has written to it,
when each last started and how it ended, and what each holds now."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select, union
from sqlalchemy.engine import Connection, Engine

from tradewright.store.engine import STORE_FAILURES, store_error
from tradewright.store.loader import UNFINISHED
from tradewright.store.schema import balances, fills, orders, positions, runs

__all__ = ["NodeSummary", "list_nodes"]


@dataclass(frozen=True, slots=True)
class NodeSummary:
    """One node's footprint in the database."""

    node_id: str
    runs: int
    last_run_id: str | None
    last_mode: str | None
    last_started_ns: int | None
    last_ended_ns: int | None
    last_exit_status: str | None
    open_orders: int
    orders: int
    fills: int
    open_positions: int

    @property
    def running(self) -> bool:
        """True while its last run has started and not recorded an end (or it was killed before it could)."""
        return self.last_run_id is not None and self.last_ended_ns is None


def list_nodes(engine: Engine) -> list[NodeSummary]:
    """Every node id that has a row in the database, sorted by id."""
    try:
        with engine.connect() as conn:
            return _list(conn)
    except STORE_FAILURES as exc:
        raise store_error(engine, "listing the nodes", exc) from exc


def _counts(
    conn: Connection, column: ColumnElement[str], where: ColumnElement[bool] | None = None
) -> dict[str, int]:
    query = select(column, func.count()).group_by(column)
    if where is not None:
        query = query.where(where)
    return {str(node): int(n) for node, n in conn.execute(query)}


def _list(conn: Connection) -> list[NodeSummary]:
    ids = sorted(
        str(n)
        for n in conn.execute(
            union(
                select(runs.c.node_id),
                select(orders.c.node_id),
                select(positions.c.node_id),
                select(balances.c.node_id),
            )
        ).scalars()
    )
    run_counts = _counts(conn, runs.c.node_id)
    order_counts = _counts(conn, orders.c.node_id)
    open_counts = _counts(conn, orders.c.node_id, orders.c.status.in_(UNFINISHED))
    fill_counts = _counts(conn, fills.c.node_id)
    held: dict[str, int] = {}
    for node, quantity in conn.execute(select(positions.c.node_id, positions.c.quantity)):
        if Decimal(quantity) != 0:
            held[str(node)] = held.get(str(node), 0) + 1
    out = []
    for node in ids:
        last = conn.execute(
            select(runs.c.run_id, runs.c.mode, runs.c.started_ns, runs.c.ended_ns, runs.c.exit_status)
            .where(runs.c.node_id == node)
            .order_by(runs.c.started_ns.desc(), runs.c.run_id.desc())
            .limit(1)
        ).first()
        out.append(
            NodeSummary(
                node_id=node,
                runs=run_counts.get(node, 0),
                last_run_id=None if last is None else last.run_id,
                last_mode=None if last is None else last.mode,
                last_started_ns=None if last is None else last.started_ns,
                last_ended_ns=None if last is None else last.ended_ns,
                last_exit_status=None if last is None else last.exit_status,
                open_orders=open_counts.get(node, 0),
                orders=order_counts.get(node, 0),
                fills=fill_counts.get(node, 0),
                open_positions=held.get(node, 0),
            )
        )
    return out
