"""`tradewright paper` on a bar config: the bar backtest engine (`backtest.bar_engine`), paced so that
bars arrive at --speed x real time (a 1-minute bar every 6 s at --speed 10).

The same controls as paper on L2 data: SIGINT/SIGTERM stop it (with `risk.close_positions_on_sigterm`,
the kill switch first, filled on the next bar), `tradewright flatten --pid PID` and --flatten-after fire
the kill switch, a status line is drawn, fills are logged, and the run folder is written as for a
backtest. The engine is the backtest's, so a paper run on bars trades exactly as the backtest would.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from tradewright.cli._status import StatusDisplay
from tradewright.cli._term import plain

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from tradewright.backtest.bar_engine import BarBacktestEngine
    from tradewright.live.status import StatusTracker

__all__ = ["run_bar_paper"]

_SIGNALLED = "stop requested (signal)"


def run_bar_paper(args: argparse.Namespace, config: object, out: Path, err: Console) -> int:
    """Run paper on bars; print the summary; return the exit code."""
    from tradewright.analysis.run_folder import RunFolder
    from tradewright.analysis.run_summary import summary_of, write_outputs
    from tradewright.backtest.bar_runner import build_bar_engine
    from tradewright.cli.backtest_cmd import print_summary, summary_console
    from tradewright.config.run import RunConfig
    from tradewright.core.errors import TradewrightError
    from tradewright.data.loading import load_bar_series
    from tradewright.live.control import ControlFile
    from tradewright.live.status import StatusTracker

    assert isinstance(config, RunConfig)
    series = load_bar_series([config.resolve(p) for p in config.data.paths], config.data)
    if len(series) == 0:
        raise TradewrightError("the bar file has no bars")
    folder = RunFolder(out, overwrite=args.overwrite)
    started = time.perf_counter()
    stop_reason = "end of the data"
    try:
        with (
            folder.path("events.jsonl").open("wb") as events,
            StatusDisplay(err, every_s=args.status_every, fills=not args.no_fills, quiet=args.json) as status,
        ):
            engine = build_bar_engine(config, series, events)
            kernel = engine.kernel
            assert series.instrument is not None
            iid = series.instrument.id
            tracker = StatusTracker(
                kernel, iid, "paper", status, start_equity=config.account.starting_balance
            )
            kernel.sinks.append(tracker)
            requests: list[str] = []
            closes = series.ts_close_ns

            async def main() -> str:
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, stop.set)
                with ControlFile("paper", config.run.name) as control:
                    control.install(loop, requests.append)
                    plain(
                        err,
                        f"paper: {iid} bars at {args.speed:g}x real time, pid {os.getpid()} — "
                        f"Ctrl-C to stop; `tradewright flatten --pid {os.getpid()}` to flatten",
                    )
                    try:
                        return await _pace(
                            engine,
                            closes,
                            args,
                            stop,
                            requests,
                            tracker,
                            config.risk.close_positions_on_sigterm,
                        )
                    finally:
                        control.uninstall(loop)
                        for sig in (signal.SIGINT, signal.SIGTERM):
                            loop.remove_signal_handler(sig)

            engine.start()
            stop_reason = asyncio.run(main())
            engine.finish()
        recorder = engine.recorder
        assert recorder is not None
        summary = summary_of(
            kernel,
            recorder,
            rows=tracker.events,
            wall_seconds=time.perf_counter() - started,
            folder=folder.final,
            starting_balance=config.account.starting_balance,
            extra={
                "mode": "paper",
                "speed": args.speed,
                "stop_reason": stop_reason,
                "open_orders_at_end": len(kernel.orders.open_orders()),
                "bars": tracker.events,
                "bars_per_second": round(tracker.events / max(time.perf_counter() - started, 1e-9)),
            },
        )
        write_outputs(
            folder,
            kernel,
            recorder,
            summary,
            title=f"Paper: {config.run.name}",
            config_text=config.source_text,
        )
        final = folder.commit()
    except BaseException:
        folder.abandon()
        raise
    if args.json:
        json.dump(summary, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        console = summary_console()
        print_summary(summary, console, title=f"paper {config.run.name}")
        console.print(f"report: [bold]{final / 'report.html'}[/]", highlight=False, soft_wrap=True)
    return 0


async def _pace(
    engine: BarBacktestEngine,
    closes: npt.NDArray[np.int64],
    args: argparse.Namespace,
    stop: asyncio.Event,
    requests: list[str],
    tracker: StatusTracker,
    close_on_signal: bool,
) -> str:
    """Feed bar i when the wall clock reaches its close (scaled by --speed); return why it stopped."""
    times = [int(t) for t in closes]
    kernel = engine.kernel
    start = time.monotonic()
    deadline = None if args.duration is None else start + args.duration
    flatten_at = None if args.flatten_after is None else start + args.flatten_after
    for i, close_ns in enumerate(times):
        due = start + (close_ns - times[0]) / 1e9 / args.speed
        while True:
            now = time.monotonic()
            if flatten_at is not None and now >= flatten_at:
                flatten_at = None
                requests.append(f"paper --flatten-after {args.flatten_after:g} s")
            while requests:
                kernel.flatten_all(requests.pop(0), actor="paper")
            if stop.is_set():
                if close_on_signal:
                    reason = f"shutdown: {_SIGNALLED} (risk.close_positions_on_sigterm)"
                    kernel.flatten_all(reason, "paper:shutdown")
                    engine.step(i, i + 1)  # the closing orders fill on the next bar
                    tracker.events = i + 1
                return _SIGNALLED
            if deadline is not None and now >= deadline:
                return f"duration of {args.duration:g} s reached"
            if now >= due:
                break
            await asyncio.sleep(min(0.1, due - now))
        engine.step(i, i + 1)
        tracker.events = i + 1
        tracker.report(i + 1)
    return "end of the data"
