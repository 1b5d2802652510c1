"""What the commands show on a terminal and in a pipe: progress, error locations, interruptions.

A progress display is a bar on a terminal and, when stderr is a pipe or a file, a plain line every few
seconds (a log a CI job or `nohup` can read). A strategy that raised is shown by the file and line in
the strategy's code where it happened; `--debug` adds the whole traceback.
"""

from __future__ import annotations

import sysconfig
import time
import traceback
from pathlib import Path
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["ProgressDisplay", "error_location", "format_error", "plain"]

_PACKAGE = Path(__file__).resolve().parents[1]
_BUILT_IN_STRATEGIES = _PACKAGE / "strategies"
_LIBRARY_DIRS = tuple(
    Path(p).resolve()
    for p in {sysconfig.get_path(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    if p
)


class ProgressDisplay:
    """Progress of a run on `console` (stderr): a live bar on a terminal, a plain line every
    `every_s` seconds otherwise, nothing when `quiet`. `update(done, total)` may be called often."""

    def __init__(self, console: Console, what: str, unit: str, *, quiet: bool, every_s: float = 5.0) -> None:
        self.console = console
        self.what = what
        self.unit = unit
        self.quiet = quiet
        self.every_s = every_s
        self.done = 0
        self.total: int | None = None
        self.started = time.monotonic()
        self._next_line = self.started + every_s
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> ProgressDisplay:
        self.started = time.monotonic()
        self._next_line = self.started + self.every_s
        if not self.quiet and self.console.is_terminal:
            self._bar = Progress(
                TextColumn(f"[bold]{self.what}[/]"),
                BarColumn(),
                TaskProgressColumn(),
                MofNCompleteColumn(),
                TextColumn(self.unit),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self._bar.__enter__()
            # The total is known only once the data is loaded: rich shows an indeterminate bar until then.
            self._task = self._bar.add_task(self.what, total=None)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.__exit__(kind, exc, tb)
            self._bar = None

    def update(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        if self.quiet:
            return
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=done, total=total)
            return
        now = time.monotonic()
        if now >= self._next_line and done < total:
            self._next_line = now + self.every_s
            self.console.print(self.line(), highlight=False, soft_wrap=True)

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started

    def line(self) -> str:
        """`backtest: 41 % (250,000 of 598,703 events), 2.1 s`."""
        if not self.total:
            return f"{self.what}: loading data, {self.elapsed_s:.1f} s"
        share = 100 * self.done / self.total
        return f"{self.what}: {share:.0f} % ({self.done:,} of {self.total:,} {self.unit}), {self.elapsed_s:.1f} s"


def _is_strategy_code(path: Path) -> bool:
    """A frame the user can act on: their own file, or a built-in strategy (not the engine, not a library)."""
    if path.is_relative_to(_BUILT_IN_STRATEGIES):
        return True
    if path.is_relative_to(_PACKAGE):
        return False
    return not any(path.is_relative_to(lib) for lib in _LIBRARY_DIRS) and path.suffix == ".py"


def error_location(exc: BaseException) -> str | None:
    """Return `file:line in function` of the deepest strategy frame of the error (or of its cause)."""
    found: str | None = None
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for frame in traceback.extract_tb(current.__traceback__):
            path = Path(frame.filename)
            if path.is_absolute() and _is_strategy_code(path.resolve()):
                found = f"{_short(path)}:{frame.lineno} in {frame.name}" + (
                    f": {frame.line.strip()}" if frame.line else ""
                )
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return None


def format_error(exc: BaseException, *, debug: bool) -> str:
    """The message for a command that failed with `exc` (a `TradewrightError`)."""
    message = f"error: {exc}"
    where = error_location(exc)
    if where is not None:
        message += f"\n  at {where}"
    if debug:
        message += "\n\n" + "".join(traceback.format_exception(exc)).rstrip()
    elif where is not None:
        message += "\n  (run again with --debug for the whole traceback)"
    return message


def _short(path: Path) -> str:
    """The path relative to the current folder when it is inside it, else as it is."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def plain(console: Console, text: str, **kw: Any) -> None:
    """Print text without rich's markup or highlighting (paths and numbers as they are)."""
    console.print(text, markup=False, highlight=False, soft_wrap=True, **kw)
