"""Drive a headless Chromium over the DevTools protocol (aiohttp's WebSocket client; no extra package).

`open_page(path)` loads a local HTML file in a fresh browser profile and records every console message,
uncaught exception, log entry and network request, so a test can assert that a report opened offline
without errors. `element_ink(selector)` takes a real screenshot of an element and measures, in the page
itself (canvas), how much of it is not background: a chart that drew nothing scores ~0.

Chromium is looked up on PATH. Outside CI a missing browser skips the test with the reason; in CI
(CI=true) it fails, because .ci/run installs it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--window-size=1360,1000",
)
_LISTENING = re.compile(r"DevTools listening on (ws://127\.0\.0\.1:\d+/\S+)")


def chromium_binary() -> str:
    """The Chromium to drive; skip (outside CI) or fail (CI=true) when there is none."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path is not None:
            return path
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI=true but no Chromium is installed: .ci/run installs it with apt-get install chromium")
    pytest.skip(
        "needs Chromium for the headless browser check (apt-get install chromium); none found on PATH"
    )


@dataclass
class PageLog:
    console: list[dict[str, Any]] = field(default_factory=list)
    exceptions: list[dict[str, Any]] = field(default_factory=list)
    log_entries: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def errors(self) -> list[str]:
        """Everything that counts as an error on a report page."""
        found = [
            f"console.{m.get('type')}: {m.get('args')}"
            for m in self.console
            if m.get("type") in ("error", "assert")
        ]
        found += [f"exception: {e.get('exceptionDetails', {}).get('text')} {e}" for e in self.exceptions]
        found += [
            f"log {e.get('entry', {}).get('level')}: {e.get('entry', {}).get('text')}"
            for e in self.log_entries
            if e.get("entry", {}).get("level") == "error"
        ]
        return found


class Page:
    """One page of the browser, reached through its DevTools WebSocket."""

    def __init__(self, loop: asyncio.AbstractEventLoop, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._loop = loop
        self._ws = ws
        self._next_id = 0
        self.log = PageLog()

    def call(self, method: str, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
        return self._loop.run_until_complete(asyncio.wait_for(self._call(method, params), timeout))

    async def _call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self._next_id += 1
        ident = self._next_id
        await self._ws.send_str(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = await self._ws.receive()
            if message.type != aiohttp.WSMsgType.TEXT:
                raise RuntimeError(f"DevTools connection closed: {message.type}")
            data = json.loads(message.data)
            if data.get("id") == ident:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                result: dict[str, Any] = data.get("result", {})
                return result
            self._event(data)

    def _event(self, data: dict[str, Any]) -> None:
        method, params = data.get("method"), data.get("params", {})
        if method == "Runtime.consoleAPICalled":
            args = [a.get("value", a.get("description")) for a in params.get("args", [])]
            self.log.console.append({"type": params.get("type"), "args": args})
        elif method == "Runtime.exceptionThrown":
            self.log.exceptions.append(params)
        elif method == "Log.entryAdded":
            self.log.log_entries.append(params)
        elif method == "Network.requestWillBeSent":
            self.log.requests.append(params.get("request", {}).get("url", ""))

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"page script failed: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {expression}")

    def element_ink(self, selector: str) -> int:
        """Scroll the element into view, screenshot it, and return how many of its pixels are not
        near-white (counted in the page with a canvas, from the PNG Chromium returned)."""
        rect = self.evaluate(
            f"""new Promise(resolve => {{
                const el = document.querySelector({json.dumps(selector)});
                el.scrollIntoView({{block: "center"}});
                // two frames: the scroll is painted before the screenshot is taken
                requestAnimationFrame(() => requestAnimationFrame(() => {{
                    const r = el.getBoundingClientRect();
                    resolve({{x: r.left + window.scrollX, y: r.top + window.scrollY, width: r.width, height: r.height}});
                }}));
            }})"""
        )
        shot = self.call("Page.captureScreenshot", format="png", clip={**rect, "scale": 1})
        png = shot["data"]
        assert base64.b64decode(png)[:8] == b"\x89PNG\r\n\x1a\n"
        script = f"""new Promise((resolve, reject) => {{
            const img = new Image();
            img.onload = () => {{
                const c = document.createElement("canvas");
                c.width = img.width; c.height = img.height;
                const g = c.getContext("2d"); g.drawImage(img, 0, 0);
                const px = g.getImageData(0, 0, c.width, c.height).data;
                let ink = 0;
                for (let i = 0; i < px.length; i += 4) if (px[i] < 235 || px[i + 1] < 235 || px[i + 2] < 235) ink++;
                resolve(ink);
            }};
            img.onerror = reject;
            img.src = "data:image/png;base64,{png}";
        }})"""
        return int(self.evaluate(script))

    def screenshot_full(self, path: Path) -> Path:
        """Save a PNG of the whole page (the window stretched to the page's height) and return its path."""
        height = int(self.evaluate("document.documentElement.scrollHeight"))
        self.call(
            "Emulation.setDeviceMetricsOverride", width=1360, height=height, deviceScaleFactor=1, mobile=False
        )
        self.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(1))))")
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        self.call("Emulation.clearDeviceMetricsOverride")
        return path


@contextmanager
def open_page(html_file: Path) -> Iterator[Page]:
    """Load `html_file` in a fresh headless Chromium; yield the page once its load event fired."""
    binary = chromium_binary()
    profile = tempfile.mkdtemp(prefix="tw-chromium-")
    proc = subprocess.Popen(
        [binary, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    loop = asyncio.new_event_loop()
    session: aiohttp.ClientSession | None = None
    try:
        browser_ws = _devtools_url(proc)
        port = browser_ws.split(":")[2].split("/")[0]
        session = loop.run_until_complete(_session())
        targets = loop.run_until_complete(_get_json(session, f"http://127.0.0.1:{port}/json/list"))
        page_ws = next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")
        ws = loop.run_until_complete(session.ws_connect(page_ws, max_msg_size=0))
        page = Page(loop, ws)
        for domain in ("Runtime", "Log", "Network", "Page"):
            page.call(f"{domain}.enable")
        page.call("Page.navigate", url=html_file.resolve().as_uri())
        page.wait_for("document.readyState === 'complete'")
        yield page
        loop.run_until_complete(ws.close())
    finally:
        if session is not None:
            loop.run_until_complete(session.close())
        loop.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)


def _devtools_url(proc: subprocess.Popen[str]) -> str:
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    seen = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        match = _LISTENING.search(line)
        if match is not None:
            # Keep reading what Chromium still writes, so a full pipe never blocks it.
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return match.group(1)
    raise AssertionError("Chromium did not start its DevTools endpoint:\n" + "".join(seen[-20:]))


async def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession()


async def _get_json(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as response:
        return await response.json(content_type=None)
