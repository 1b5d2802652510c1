"""Helpers for the local venue servers' tests: recordings, in-process servers, a bounded event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

from tests.conftest import shared_data
from tradewright.servers._core import Pacing, Recording, ReplayServer, ServerOptions, load_recording

T = TypeVar("T")

_recordings: dict[str, Recording] = {}


def recording(venue_folder: str) -> Recording:
    """A venue's cryptofeed recordings (read once per test session; servers never change them)."""
    if venue_folder not in _recordings:
        _recordings[venue_folder] = load_recording(shared_data(f"venues/{venue_folder}/cryptofeed_raw"))
    return _recordings[venue_folder]


def run(coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
    """Run a test body on a fresh event loop, bounded in time."""

    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


@contextlib.asynccontextmanager
async def serving(protocol: Any, **options: Any) -> AsyncIterator[ReplayServer]:
    """A started server on an ephemeral port of 127.0.0.1, stopped afterwards."""
    options.setdefault("pacing", Pacing.STEP)
    server = ReplayServer(protocol, ServerOptions(**options))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
