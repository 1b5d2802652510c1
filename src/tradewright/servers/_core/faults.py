"""Fault injection for the local venue servers: set per run (`--fault NAME=VALUE`) or live through the
loopback-only admin endpoint (``POST /_admin/faults``).

Counters ("the next N ...") count down as faults fire and are then off; durations and switches stay
until changed. `match` narrows the market-data faults to frames whose topic contains the text (an
instrument id, or a channel such as ``books``); `http_match` narrows the HTTP faults to paths that
contain it. What fired is counted in `fired` (``GET /_admin/faults`` shows both).

| setting | effect on the wire |
|---|---|
| `corrupt` N | the next N book frames carry a wrong size at one of their top levels (the checksum is kept) |
| `corrupt_checksum` N | the next N book frames carry a wrong checksum |
| `drop` N | the next N book frames are not sent: a sequence gap |
| `duplicate` N | the next N book frames are sent twice |
| `reorder` N | the next N book frames are held back and sent after the frame that follows each |
| `delay_ms` | every market frame is held this long |
| `disconnect_after` N | every WebSocket is closed after N more market frames (mid-stream) |
| `http_5xx` N | the next N HTTP requests fail with `http_5xx_status`; with `http_5xx_after_execute` an order among them *was* carried out |
| `http_429` N | the next N HTTP requests get the venue's own "too many requests" answer |
| `slow_ack_ms` | subscribe/login acknowledgements and order answers are held this long |
| `reject_orders` N | the next N new orders are refused with the venue's `reject_code` (its default: insufficient funds) |
| `clock_skew_ms` | the server's clock for signature timestamp checks runs this far ahead (negative: behind) |
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from tradewright.core.errors import ConfigError

__all__ = ["FaultSettings", "Faults", "FrameAction"]

NonNeg = Annotated[int, msgspec.Meta(ge=0)]


class FaultSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Every fault mode; all default to off."""

    corrupt: NonNeg = 0
    corrupt_checksum: NonNeg = 0
    drop: NonNeg = 0
    duplicate: NonNeg = 0
    reorder: NonNeg = 0
    match: str = ""
    delay_ms: NonNeg = 0
    disconnect_after: NonNeg = 0
    http_5xx: NonNeg = 0
    http_5xx_status: Literal[500, 502, 503, 504] = 503
    http_5xx_after_execute: bool = False
    http_429: NonNeg = 0
    http_match: str = ""
    retry_after_s: Annotated[float, msgspec.Meta(ge=0)] = 1.0
    slow_ack_ms: NonNeg = 0
    reject_orders: NonNeg = 0
    reject_code: str = ""
    clock_skew_ms: int = 0


class FrameAction(msgspec.Struct, frozen=True):
    """What to do with one market frame: which faults apply to it."""

    drop: bool = False
    corrupt: bool = False
    corrupt_checksum: bool = False
    duplicate: bool = False
    hold: bool = False


_PASS = FrameAction()


class Faults:
    """The live fault state, shared by the REST, WebSocket and replay paths of one server."""

    def __init__(self, settings: FaultSettings | None = None) -> None:
        self._s = settings or FaultSettings()
        self.fired: dict[str, int] = {}

    @property
    def settings(self) -> FaultSettings:
        return self._s

    def update(self, changes: dict[str, Any]) -> FaultSettings:
        """Merge changes; unknown names or bad values raise `ConfigError` naming them."""
        merged = msgspec.structs.asdict(self._s) | dict(changes)
        try:
            new = msgspec.convert(merged, FaultSettings, strict=False)
        except msgspec.ValidationError as exc:
            raise ConfigError(f"invalid fault settings: {exc}") from None
        self._s = new
        return new

    def clear(self) -> None:
        self._s = FaultSettings()

    def snapshot(self) -> dict[str, Any]:
        return {"settings": msgspec.structs.asdict(self._s), "fired": dict(self.fired)}

    def _take(self, name: str) -> bool:
        left: int = getattr(self._s, name)
        if left <= 0:
            return False
        self._s = msgspec.structs.replace(self._s, **{name: left - 1})
        self.fired[name] = self.fired.get(name, 0) + 1
        return True

    # --- market frames ---------------------------------------------------------------------------
    def book_frame(self, topic: str) -> FrameAction:
        """Decide the faults for one book frame of `topic` (each counter fires at most once a frame)."""
        s = self._s
        if s.match and s.match not in topic:
            return _PASS
        if not (s.drop or s.corrupt or s.corrupt_checksum or s.duplicate or s.reorder):
            return _PASS
        if self._take("drop"):
            return FrameAction(drop=True)
        return FrameAction(
            corrupt=self._take("corrupt"),
            corrupt_checksum=self._take("corrupt_checksum"),
            duplicate=self._take("duplicate"),
            hold=self._take("reorder"),
        )

    def frame_delay_s(self) -> float:
        return self._s.delay_ms / 1000.0

    def count_disconnect(self) -> bool:
        """Count one market frame toward `disconnect_after`; True when the connections must close now."""
        return self._take("disconnect_after") and self._s.disconnect_after == 0

    # --- HTTP ------------------------------------------------------------------------------------
    def _http_applies(self, path: str) -> bool:
        return not self._s.http_match or self._s.http_match in path

    def http_5xx(self, path: str) -> tuple[int, bool] | None:
        """(status, execute first) if this request is to fail with a server error."""
        if not self._http_applies(path) or not self._take("http_5xx"):
            return None
        return self._s.http_5xx_status, self._s.http_5xx_after_execute

    def http_429(self, path: str) -> bool:
        return self._http_applies(path) and self._take("http_429")

    def order_rejection(self) -> str | None:
        """The venue code to refuse this order with ("" = the venue's default), or None."""
        if not self._take("reject_orders"):
            return None
        return self._s.reject_code

    def ack_delay_s(self) -> float:
        return self._s.slow_ack_ms / 1000.0

    def skew_ms(self) -> int:
        return self._s.clock_skew_ms
