"""Draw a running node's status (`tradewright.live.status`): a live line at the bottom of a terminal,
or a compact log line every `every_s` seconds when stderr is a pipe or a file; fills as lines above."""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.text import Text

from tradewright.live.status import FillNotice, NodeStatus

__all__ = ["StatusDisplay"]


class StatusDisplay:
    """A `StatusSink` for the command line. `fills`: print each fill (a line each)."""

    def __init__(
        self, console: Console, *, every_s: float = 10.0, fills: bool = True, quiet: bool = False
    ) -> None:
        self.console = console
        self.every_s = every_s
        self.show_fills = fills
        self.quiet = quiet
        self._live: Live | None = None
        self._next = time.monotonic() + every_s
        self.last: NodeStatus | None = None

    def __enter__(self) -> StatusDisplay:
        if not self.quiet and self.console.is_terminal:
            self._live = Live(Text(""), console=self.console, refresh_per_second=4, transient=True)
            self._live.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.__exit__(kind, exc, tb)
            self._live = None

    def status(self, status: NodeStatus) -> None:
        self.last = status
        if self.quiet:
            return
        if self._live is not None:
            self._live.update(Text(status.text(), no_wrap=True, overflow="ellipsis"))
            return
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self.every_s
            self.console.print(status.text(), markup=False, highlight=False, soft_wrap=True)

    def fill(self, notice: FillNotice) -> None:
        if not self.quiet and self.show_fills:
            self.console.print(notice.text(), markup=False, highlight=False, soft_wrap=True)
