"""The kernel, the order manager and the ports that venues implement."""

from tradewright.engine.context import KernelContext
from tradewright.engine.kernel import Kernel
from tradewright.engine.order_manager import OrderManager
from tradewright.engine.ports import EventSink, ExecutionClient, RiskGate

__all__ = ["EventSink", "ExecutionClient", "Kernel", "KernelContext", "OrderManager", "RiskGate"]
