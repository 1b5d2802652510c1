"""The order-path probe: where the kernel says how far a tick has travelled towards the venue.

A node that wants latency figures (the Prometheus tick-to-quote histogram, OpenTelemetry traces,
`bench/live_latency.py`) sets `Kernel.probe`; the kernel then calls it at each stage of the path

    book update handed to the kernel (`tick`) -> strategy asked to submit (`submitting`)
    -> risk passed (`checked`) -> intent durable (`committed`, with a journal) -> handed to the
    venue's client (`sent`)

and once the strategies have seen the tick (`tick_done`), so an order submitted later (a timer, a
fill) is not counted as a reaction to it. With no probe (backtests) each stage costs one `is None` test.
The probe reads its own monotonic clock: the kernel clock of a backtest or a scaled replay says nothing
about how long the code took.
"""

from __future__ import annotations

from typing import Protocol

from tradewright.core.ids import ClientOrderId, InstrumentId

__all__ = ["PathProbe"]


class PathProbe(Protocol):
    """Stamps the stages of the order path (see the module docstring). Must not raise."""

    def tick(self, instrument_id: InstrumentId) -> None: ...

    def tick_done(self) -> None: ...

    def submitting(self, client_order_id: ClientOrderId) -> None: ...

    def checked(self, client_order_id: ClientOrderId) -> None: ...

    def committed(self, client_order_id: ClientOrderId) -> None: ...

    def sent(self, client_order_id: ClientOrderId) -> None: ...
