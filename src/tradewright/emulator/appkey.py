"""The aiohttp application key under which the running `EmulatorServer` is found by the handlers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from tradewright.emulator.server import EmulatorServer

__all__ = ["SERVER_KEY"]

SERVER_KEY: web.AppKey[EmulatorServer] = web.AppKey("emulator")
