"""Write a run folder atomically: everything goes to a temporary sibling folder that is renamed into
place only when complete, so a failed or interrupted run never leaves outputs that look finished.

A result is never lost silently:

* a folder that already holds a run is kept; the new run goes to a dated folder beside it
  (`runs/demo_mm` → `runs/demo_mm-20240808-235959`), unless `overwrite` asks to replace it;
* a run holds a lock on its folder (`.NAME.lock` beside it) from start to finish. A second run that
  wants the same folder at the same time takes the next dated name instead, or, with `overwrite`,
  fails at once naming the process that holds it.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from tradewright.core.clock import ns_to_iso
from tradewright.core.errors import ConfigError
from tradewright.model.orders import Order

__all__ = ["ORDER_COLUMNS", "RunFolder", "holds_run"]

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
    """A run's output folder under construction (`.partial` until `commit()`).

    `requested` is where the run was asked to go; `final` where it will be (see the module docstring).
    """

    def __init__(self, requested: Path, *, overwrite: bool = False) -> None:
        self.requested = requested
        self.overwrite = overwrite
        self._lock: int | None = None
        self._lock_file = Path()
        self._kept = False
        self.final = self._claim(requested)
        self.tmp = self.final.with_name(f".{self.final.name}.partial-{os.getpid()}")
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir(parents=True)

    @property
    def moved(self) -> bool:
        """True when the run goes to a dated folder because the requested one was taken."""
        return self.final != self.requested

    def _claim(self, requested: Path) -> Path:
        if requested.exists() and not requested.is_dir():
            raise ConfigError(f"{requested} is a file, not a run folder: choose another --out")
        if self.overwrite:
            if not self._try_lock(requested):
                raise ConfigError(
                    f"another run ({_holder(requested)}) is writing {requested} right now; "
                    "wait for it to finish, or write this run elsewhere with --out"
                )
            return requested
        if not holds_run(requested) and self._try_lock(requested):
            return requested
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for n in range(1, 1000):
            candidate = requested.with_name(f"{requested.name}-{stamp}" + (f"-{n}" if n > 1 else ""))
            if not candidate.exists() and self._try_lock(candidate):
                return candidate
        raise ConfigError(f"cannot find a free folder name next to {requested}")

    def _try_lock(self, folder: Path) -> bool:
        """Take the lock of `folder` (a `.NAME.lock` file beside it); False when another process has it.

        The lock file is removed when the run ends; a process that locked a file which was removed
        meanwhile sees that its inode is no longer the path's and tries again.
        """
        folder.parent.mkdir(parents=True, exist_ok=True)
        path = _lock_path(folder)
        for _ in range(100):
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.write(fd, f"pid {os.getpid()}\n".encode())
                self._lock, self._lock_file = fd, path
                return True
            os.close(fd)
        return False

    def _unlock(self) -> None:
        if self._lock is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._lock_file)
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            os.close(self._lock)
            self._lock = None

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
        """Move the finished folder into place (with `overwrite`, replacing the run there); release the lock."""
        try:
            self.final.parent.mkdir(parents=True, exist_ok=True)
            old: Path | None = None
            if self.final.exists() and self.overwrite and holds_run(self.final):
                # Set the old run aside first: the folder is never missing a run or half of one.
                old = self.final.with_name(f".{self.final.name}.replaced-{os.getpid()}")
                os.replace(self.final, old)
            try:
                os.replace(self.tmp, self.final)
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
                # Someone wrote the folder without taking its lock: keep theirs, never merge into it.
                self._kept = True
                raise ConfigError(
                    f"{self.final} was filled by another program while this run was writing; "
                    f"this run's outputs are kept in {self.tmp}"
                ) from None
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
            return self.final
        finally:
            self._unlock()

    def abandon(self) -> None:
        """Delete the unfinished folder (unless `commit` kept it for the user) and release the lock."""
        if not self._kept:
            shutil.rmtree(self.tmp, ignore_errors=True)
        self._unlock()


def holds_run(folder: Path) -> bool:
    """True when `folder` exists and is not empty (an earlier run, or anything else, is there)."""
    return folder.is_dir() and any(folder.iterdir())


def _lock_path(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.lock")


def _holder(folder: Path) -> str:
    try:
        text = _lock_path(folder).read_text(encoding="utf-8").strip()
    except OSError:
        text = ""
    return text or "another process"


def span_text(start_ns: int, end_ns: int) -> str:
    return f"{ns_to_iso(start_ns)} → {ns_to_iso(end_ns)}"
