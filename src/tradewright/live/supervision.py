"""What every live node does with its background tasks and with a failed store write.

The single-venue node (node.py), the multi-venue node (multi.py) and the broker node (broker.py) each
run their feeds as asyncio tasks and stop trading when a write outside the journal fails; the mechanics
are here, once. Each node keeps its own `_task_done`, since what a task's end means differs per node.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from tradewright.core.errors import StoreError

if TYPE_CHECKING:
    from tradewright.engine.kernel import Kernel


class NodeTasks:
    """Mixin: task spawning and the store-failure halt. The node sets the attributes below."""

    kernel: Kernel
    _tasks: list[asyncio.Task[None]]
    _store_problem: str | None
    _wake: asyncio.Event

    def _task_done(self, task: asyncio.Task[None]) -> None:  # pragma: no cover - each node defines it
        raise NotImplementedError

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        task.add_done_callback(self._task_done)
        self._tasks.append(task)

    def _sink_failed(self, exc: StoreError) -> None:
        """A write outside the journal (a risk event, a snapshot) failed: stop as for a journal failure."""
        message = f"the state store failed: {exc}"
        self.kernel.halt(message)
        if self._store_problem is None:
            self._store_problem = message
        self._wake.set()
