"""Recordings a local venue server replays: cryptofeed session files and JSON-lines frame files.

cryptofeed writes one file per connection (see ../shared/data/README.md), one event a line:

* ``configuration: {json}`` — the feed's subscription config;
* ``<url> -> <unix_s>: <body>`` — an HTTP GET and the body it returned;
* ``<wss_url> <-> <unix_s>`` — a WebSocket connected;
* ``<wss_url> <- <unix_s>: <json>`` — a message the recorder sent (its subscriptions);
* ``<unix_s>: <json>`` — a message received on the file's WebSocket.

`load_recording` reads a file or every ``*.gz`` file of a folder into one `Recording`: HTTP bodies
keyed by URL and WebSocket sessions with their frames in arrival order. Bodies and frames are kept as
the exact text received (prices are decimal strings; nothing is re-encoded). `load_frame_lines` reads a
file (or a one-file zip) of raw JSON frames, one a line, stamped from a field of each frame.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from tradewright.core.errors import DataError

__all__ = ["HttpRecord", "Recording", "WsFrame", "WsSession", "load_frame_lines", "load_recording"]

_HTTP = re.compile(r"^(?P<url>https?://\S+) -> (?P<ts>\d+(?:\.\d+)?): (?P<body>.*)$", re.S)
_WS_OPEN = re.compile(r"^(?P<url>wss?://\S+) <-> (?P<ts>\d+(?:\.\d+)?)\s*$")
_WS_SENT = re.compile(r"^(?P<url>wss?://\S+) <- (?P<ts>\d+(?:\.\d+)?): (?P<body>.*)$", re.S)
_WS_RECV = re.compile(r"^(?P<ts>\d+(?:\.\d+)?): (?P<body>.*)$", re.S)


def _ns(seconds: str) -> int:
    """Unix seconds with a fraction (as cryptofeed writes them) to integer nanoseconds, exactly."""
    whole, _, frac = seconds.partition(".")
    return int(whole) * 1_000_000_000 + int((frac + "000000000")[:9])


@dataclass(frozen=True, slots=True)
class HttpRecord:
    """One recorded HTTP GET: the full URL and the body the venue returned."""

    url: str
    ts_ns: int
    body: str

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> str:
        return urlsplit(self.url).query


@dataclass(frozen=True, slots=True)
class WsFrame:
    """One message received from the venue: our receive time and the exact text."""

    ts_ns: int
    text: str


@dataclass(slots=True)
class WsSession:
    """One recorded WebSocket connection: where it went, what was sent and every frame received."""

    url: str
    connect_ns: int
    source: str
    sent: list[tuple[int, str]] = field(default_factory=list)
    frames: list[WsFrame] = field(default_factory=list)

    @property
    def path(self) -> str:
        return urlsplit(self.url).path


@dataclass(slots=True)
class Recording:
    """Everything read from one or more cryptofeed files of a venue."""

    sources: list[str] = field(default_factory=list)
    http: list[HttpRecord] = field(default_factory=list)
    sessions: list[WsSession] = field(default_factory=list)
    config: dict[str, object] = field(default_factory=dict)

    def http_matching(self, path_contains: str) -> list[HttpRecord]:
        """Recorded HTTP answers whose URL path contains the text, oldest first."""
        return [r for r in self.http if path_contains in r.path]

    def sessions_matching(self, url_contains: str) -> list[WsSession]:
        return [s for s in self.sessions if url_contains in s.url]


def _open_text(path: Path) -> Iterator[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
        yield from fh


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            raise DataError("the folder holds no recording files", source=str(path))
        return files
    if not path.is_file():
        raise DataError("recording not found", source=str(path))
    return [path]


def load_recording(paths: Path | str | Iterable[Path | str]) -> Recording:
    """Read cryptofeed recording files (or folders of them) into one `Recording`.

    A line that fits none of the formats raises `DataError` naming the file and line: a recording the
    server cannot read faithfully is refused rather than replayed with holes.
    """
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    rec = Recording()
    for item in items:
        for path in _files(Path(item)):
            _read_file(path, rec)
    rec.http.sort(key=lambda r: r.ts_ns)
    return rec


def _read_file(path: Path, rec: Recording) -> None:
    rec.sources.append(str(path))
    session: WsSession | None = None
    for lineno, raw in enumerate(_open_text(path), 1):
        line = raw.rstrip("\n")
        if not line.strip():
            continue
        if line.startswith("configuration: "):
            try:
                rec.config.update(json.loads(line[len("configuration: ") :]))
            except json.JSONDecodeError as exc:
                raise DataError(f"bad configuration JSON: {exc}", source=str(path), line=lineno) from None
            continue
        m = _HTTP.match(line)
        if m:
            rec.http.append(HttpRecord(m["url"], _ns(m["ts"]), m["body"]))
            continue
        m = _WS_OPEN.match(line)
        if m:
            session = WsSession(m["url"], _ns(m["ts"]), str(path))
            rec.sessions.append(session)
            continue
        m = _WS_SENT.match(line)
        if m:
            if session is None:
                session = WsSession(m["url"], _ns(m["ts"]), str(path))
                rec.sessions.append(session)
            session.sent.append((_ns(m["ts"]), m["body"]))
            continue
        m = _WS_RECV.match(line)
        if m:
            if session is None:
                raise DataError("a frame before any connection", source=str(path), line=lineno)
            session.frames.append(WsFrame(_ns(m["ts"]), m["body"]))
            continue
        raise DataError(f"not a cryptofeed recording line: {line[:120]!r}", source=str(path), line=lineno)


def load_frame_lines(path: Path | str, *, ts_ms_field: str = "ts") -> list[WsFrame]:
    """Read raw JSON frames, one a line (a plain file, or a zip holding one such file).

    Each frame is stamped with its own `ts_ms_field` (milliseconds), as venue history files carry no
    receive time (Bybit's public order-book history is this format).
    """
    p = Path(path)
    if not p.is_file():
        raise DataError("frame file not found", source=str(p))
    if zipfile.is_zipfile(p):
        with zipfile.ZipFile(p) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
            if len(names) != 1:
                raise DataError(f"expected one file in the zip, found {len(names)}", source=str(p))
            lines: Iterable[str] = io.TextIOWrapper(zf.open(names[0]), encoding="utf-8").readlines()
    else:
        lines = list(_open_text(p))
    frames = []
    for lineno, line in enumerate(lines, 1):
        text = line.strip()
        if not text:
            continue
        try:
            ts_ms = int(json.loads(text)[ts_ms_field])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise DataError(
                f"not a JSON frame with {ts_ms_field!r}: {exc}", source=str(p), line=lineno
            ) from None
        frames.append(WsFrame(ts_ms * 1_000_000, text))
    return frames
