"""The simulated venue: queue-aware L2 matching, latency and fee models."""

from tradewright.sim.fees import FeeModel
from tradewright.sim.latency import ConstantLatency, EmpiricalLatency, LatencyModel
from tradewright.sim.own_orders import OwnOrders
from tradewright.sim.queue import (
    ConservativeQueue,
    LogProbQueue,
    PowerProbQueue,
    QueueModel,
    queue_model_from_config,
)
from tradewright.sim.venue import SimVenue

__all__ = [
    "ConservativeQueue",
    "ConstantLatency",
    "EmpiricalLatency",
    "FeeModel",
    "LatencyModel",
    "LogProbQueue",
    "OwnOrders",
    "PowerProbQueue",
    "QueueModel",
    "SimVenue",
    "queue_model_from_config",
]
