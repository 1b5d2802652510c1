"""schemathesis generates requests from the node's OpenAPI document and sends them to a running paper node
(with an admin key, so every command runs for real against the simulated venue): no request, however
odd, may produce a server error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.integration.api.harness import Node, demo_config, start_node

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    tmp = tmp_path_factory.mktemp("contract")
    # Generous rate limits: the contract test is about answers, not about being throttled.
    config = demo_config(tmp, api={"read_rate_per_s": 10_000.0, "command_rate_per_s": 10_000.0})
    # Speed 1: the replay (six minutes of data) outlasts the fuzzing of every operation on a loaded machine.
    running = start_node(tmp, config, speed=1.0)
    yield running
    running.stop()


def test_no_generated_request_makes_the_api_fail_with_a_server_error(node: Node) -> None:
    schema = schemathesis.openapi.from_url(node.url + "/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 35
    tried: dict[str, int] = {}
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"
        _fuzz(node, operation, label, tried)
    assert len(tried) == len(operations)


def _fuzz(node: Node, operation: Any, label: str, tried: dict[str, int]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case: Any) -> None:
        response = case.call(base_url=node.url, headers=node.headers("admin"), timeout=10)
        case.validate_response(response, checks=[not_a_server_error])
        tried[label] = tried.get(label, 0) + 1

    check()
