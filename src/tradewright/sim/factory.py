"""Build the simulated venue's models from the `[venue]` section of a run config."""

from __future__ import annotations

from tradewright.config.run import RunConfig
from tradewright.sim.fees import FeeModel
from tradewright.sim.latency import ConstantLatency, EmpiricalLatency, LatencyModel
from tradewright.sim.queue import QueueModel, queue_model_from_config

__all__ = ["build_fees", "build_latency", "build_queue_model"]


def build_latency(config: RunConfig) -> LatencyModel:
    v = config.venue
    if v.latency_file:
        return EmpiricalLatency.from_csv(config.resolve(v.latency_file), seed=config.run.seed)
    cancel = None if v.cancel_latency_us is None else v.cancel_latency_us * 1000
    return ConstantLatency(v.order_latency_us * 1000, v.response_latency_us * 1000, cancel)


def build_queue_model(config: RunConfig) -> QueueModel:
    return queue_model_from_config(config.venue.queue_model, config.venue.queue_power)


def build_fees(config: RunConfig) -> FeeModel:
    return FeeModel(config.venue.maker_fee, config.venue.taker_fee)
