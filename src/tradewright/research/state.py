"""The on-disk state of a sweep: its lock, and results.jsonl (one JSON line per finished trial).

A line is written whole, flushed and fsync'ed as soon as its trial finishes, so a sweep killed at any
moment keeps every result it had; a last line cut off mid-write is dropped when the file is read
again (that trial runs again).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tradewright.core.errors import ConfigError, DataError
from tradewright.research.trial import TrialResult, decode_metric, encode_metric

__all__ = ["ResultsFile", "locked_folder"]


@contextmanager
def locked_folder(folder: Path) -> Iterator[None]:
    """Hold the folder's lock file while a sweep writes into it (a second sweep there is refused)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(f"another sweep is running in {folder}") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class ResultsFile:
    """results.jsonl: read once, then appended to one line per trial (each line written whole and synced)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.latest: dict[str, TrialResult] = {}
        if path.exists():
            raw = path.read_bytes()
            if raw and not raw.endswith(b"\n"):
                # The sweep was killed while writing its last line: that trial simply runs again.
                raw = raw[: raw.rfind(b"\n") + 1]
                with path.open("r+b") as fh:
                    fh.truncate(len(raw))
            for number, line in enumerate(raw.decode("utf-8").splitlines(), start=1):
                if line.strip():
                    result = _decode(line, str(path), number)
                    self.latest[result.trial_id] = result

    def finished(self, tid: str) -> bool:
        """True when the trial has an "ok" result whose run folder is still there."""
        result = self.latest.get(tid)
        return result is not None and result.ok and Path(result.run_dir).is_dir()

    def append(self, result: TrialResult) -> None:
        line = json.dumps(_encode(result), sort_keys=True, separators=(",", ":"), default=str) + "\n"
        with self.path.open("ab") as fh:
            fh.write(line.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        self.latest[result.trial_id] = result


def _encode(r: TrialResult) -> dict[str, Any]:
    return {
        "trial": r.trial_id,
        "status": r.status,
        "params": r.params,
        "metrics": {k: encode_metric(v) for k, v in r.metrics.items()},
        "error": r.error,
        "run_dir": r.run_dir,
        "wall_seconds": round(r.wall_seconds, 3),
        "meta": r.meta,
    }


def _decode(line: str, source: str, number: int) -> TrialResult:
    try:
        raw = json.loads(line)
        return TrialResult(
            trial_id=str(raw["trial"]),
            params=dict(raw["params"]),
            status=str(raw["status"]),
            metrics={str(k): decode_metric(v) for k, v in raw["metrics"].items()},
            error=str(raw.get("error", "")),
            run_dir=str(raw.get("run_dir", "")),
            wall_seconds=float(raw.get("wall_seconds", 0.0)),
            meta=dict(raw.get("meta", {})),
        )
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataError(f"not a sweep result line: {exc}", source=source, line=number) from None
