"""The node's REST + WebSocket API, metrics and dashboard host (FastAPI, served by uvicorn inside the
node's event loop when `[api] enabled = true`). See docs/operations.md."""

from tradewright.api.app import create_app
from tradewright.api.server import ApiServer, api_service, check_bind

__all__ = ["ApiServer", "api_service", "check_bind", "create_app"]
