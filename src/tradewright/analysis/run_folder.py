"""Write a run folder atomically: everything goes to a temporary sibling folder that is renamed into
place only when complete, so a failed or interrupted run never leaves outputs that look finished."""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from tradewright.core.clock import ns_to_iso
from tradewright.model.orders import Order

__all__ = ["ORDER_COLUMNS", "RunFolder"]

ORDER_COLUMNS = (
    "client_order_id",
    "instrument_id",
    "side",
    "order_type",
    "time_in_force",
    "post_only",
    "reduce_only",
    "price",
    "quantity",
    "status",
    "filled_qty",
    "avg_px",
    "fees",
    "ts_init_ns",
    "ts_last_ns",
    "reason",
)


class RunFolder:
    """A run's output folder under construction (`.partial` until `commit()`)."""

    def __init__(self, final: Path) -> None:
        self.final = final
        self.tmp = final.with_name(f".{final.name}.partial-{os.getpid()}")
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir(parents=True)

    def path(self, name: str) -> Path:
        return self.tmp / name

    def write_csv(self, name: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        with self.path(name).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)

    def write_text(self, name: str, text: str) -> None:
        self.path(name).write_text(text, encoding="utf-8")

    def write_json(self, name: str, payload: dict[str, Any]) -> None:
        self.path(name).write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    def write_orders(self, orders: Iterable[Order]) -> None:
        rows = []
        for o in orders:
            reason = ""
            for event in reversed(o.events):
                reason = getattr(event, "reason", "") or getattr(event, "message", "")
                if reason:
                    break
            rows.append(
                (
                    o.client_order_id,
                    str(o.instrument_id),
                    o.side.value,
                    o.order_type.value,
                    o.time_in_force.value,
                    int(o.post_only),
                    int(o.reduce_only),
                    "" if o.price is None else str(o.price),
                    str(o.quantity),
                    o.status.value,
                    str(o.filled_qty),
                    "" if o.avg_px is None else str(o.avg_px),
                    str(o.fees),
                    o.ts_init,
                    o.ts_last,
                    reason,
                )
            )
        self.write_csv("orders.csv", ORDER_COLUMNS, rows)

    def commit(self) -> Path:
        """Move the finished folder into place (replacing an older run of the same name)."""
        if self.final.exists():
            shutil.rmtree(self.final)
        self.final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.tmp, self.final)
        return self.final

    def abandon(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def span_text(start_ns: int, end_ns: int) -> str:
    return f"{ns_to_iso(start_ns)} → {ns_to_iso(end_ns)}"
