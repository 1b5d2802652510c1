"""The kernel, the order manager, the multi-leg executor and the ports that venues and stores implement."""

from tradewright.engine.context import KernelContext
from tradewright.engine.executor import ExecutorFigures, ExecutorRisk, MultiLegExecutor, executor_for
from tradewright.engine.kernel import Kernel
from tradewright.engine.leg_fates import LegQuery, VenueAnswer, query_leg_fates
from tradewright.engine.order_manager import OrderManager
from tradewright.engine.ports import EventSink, ExecutionClient, OrderEventHook, RiskGate
from tradewright.engine.saga import MemorySagaStore, SagaStore

__all__ = [
    "EventSink",
    "ExecutionClient",
    "ExecutorFigures",
    "ExecutorRisk",
    "Kernel",
    "KernelContext",
    "LegQuery",
    "MemorySagaStore",
    "MultiLegExecutor",
    "OrderEventHook",
    "OrderManager",
    "RiskGate",
    "SagaStore",
    "VenueAnswer",
    "executor_for",
    "query_leg_fates",
]
