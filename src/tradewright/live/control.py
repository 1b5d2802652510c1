"""How a running node is told to flatten, and how `tradewright flatten --pid P` makes sure P is one.

A node (paper or live) writes a control file when it starts, in a folder only its user can write
(`$XDG_RUNTIME_DIR/tradewright`, else `<tmp>/tradewright-<uid>`, mode 0700):

    tradewright-node-<pid>.json   {"pid", "nonce", "started", "process_start", "mode", "name"}

`process_start` is the kernel's start time of the process (Linux: /proc/<pid>/stat), so a pid that was
reused by another program after the node died is recognised as someone else. `request_flatten` refuses
unless the control file exists, names that pid and (where the system tells) that very process; only
then does it write the request (`tradewright-node-<pid>.flatten`, with the node's nonce and the reason)
and send SIGUSR1. The node acts on SIGUSR1 only after reading a request whose nonce is its own, so a
stray SIGUSR1 (or a request meant for a previous process with the same pid) flattens nothing.
The node removes both files when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tradewright.core.errors import TradewrightError

__all__ = ["ControlFile", "control_dir", "request_flatten"]


def control_dir() -> Path:
    """The folder of the control files: private to this user."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    fallback = Path(tempfile.gettempdir()) / f"tradewright-{os.getuid()}"
    base = Path(runtime) / "tradewright" if runtime else fallback
    try:
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        base = fallback  # a runtime folder we cannot write: the per-user temporary folder instead
        try:
            base.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise TradewrightError(f"cannot create {base} for node control files: {exc.strerror}") from None
    info = base.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise TradewrightError(
            f"{base} must belong to you and be private (mode 0700) to hold node control files"
        )
    return base


def _process_start(pid: int) -> str | None:
    """The process' start time as the kernel records it (None where /proc is not there)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its closing one.
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def _paths(pid: int) -> tuple[Path, Path]:
    base = control_dir()
    return base / f"tradewright-node-{pid}.json", base / f"tradewright-node-{pid}.flatten"


class ControlFile:
    """The running node's control file and its SIGUSR1 handler (see the module docstring)."""

    def __init__(self, mode: str, name: str) -> None:
        self.pid = os.getpid()
        self.nonce = secrets.token_hex(16)
        self.path, self.request_path = _paths(self.pid)
        record = {
            "pid": self.pid,
            "nonce": self.nonce,
            "started": time.time(),
            "process_start": _process_start(self.pid),
            "mode": mode,
            "name": name,
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record), encoding="utf-8")
        os.replace(tmp, self.path)
        self.request_path.unlink(missing_ok=True)

    def take_request(self) -> str | None:
        """The reason of a flatten request meant for this node (None if there is none, or not for us)."""
        try:
            request = json.loads(self.request_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        self.request_path.unlink(missing_ok=True)
        if not isinstance(request, dict) or request.get("nonce") != self.nonce:
            return None
        reason = str(request.get("reason") or "").strip()
        return reason or "tradewright flatten"

    def install(self, loop: asyncio.AbstractEventLoop, on_flatten: Callable[[str], None]) -> None:
        """Call `on_flatten(reason)` (in the loop) for every valid request that SIGUSR1 announces."""

        def handler() -> None:
            reason = self.take_request()
            if reason is not None:
                on_flatten(reason)

        loop.add_signal_handler(signal.SIGUSR1, handler)

    def uninstall(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.remove_signal_handler(signal.SIGUSR1)

    def remove(self) -> None:
        for path in (self.path, self.request_path):
            with contextlib.suppress(OSError):
                path.unlink()

    def __enter__(self) -> ControlFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def request_flatten(pid: int, reason: str) -> dict[str, Any]:
    """Ask the tradewright node with process id `pid` to flatten; return its control record.

    Raises `TradewrightError` (and signals nothing) unless `pid` is a running node that wrote its
    control file: no file, a file of another process, or a process that has ended.
    """
    if pid <= 0:
        raise TradewrightError(f"--pid must be a process id > 0, got {pid}")
    path, request_path = _paths(pid)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TradewrightError(
            f"pid {pid} is not a running tradewright node (it has no control file in {path.parent}); "
            "nothing was sent. Paper and live nodes print their pid when they start."
        ) from None
    except (OSError, ValueError) as exc:
        raise TradewrightError(f"cannot read the control file {path}: {exc}") from None
    if not isinstance(record, dict) or record.get("pid") != pid or not record.get("nonce"):
        raise TradewrightError(f"{path} is not a tradewright node's control file; nothing was sent")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        path.unlink(missing_ok=True)
        raise TradewrightError(
            f"the node with pid {pid} is no longer running (its control file was left over)"
        ) from None
    except PermissionError:
        raise TradewrightError(f"not allowed to signal pid {pid}") from None
    recorded, actual = record.get("process_start"), _process_start(pid)
    if recorded is not None and actual is not None and recorded != actual:
        raise TradewrightError(
            f"pid {pid} now belongs to another process (the node that wrote {path.name} has ended); "
            "nothing was sent"
        )
    tmp = request_path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"nonce": record["nonce"], "reason": reason}), encoding="utf-8")
    os.replace(tmp, request_path)
    os.kill(pid, signal.SIGUSR1)
    return record
