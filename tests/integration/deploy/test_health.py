"""The image's HEALTHCHECK command (as the Dockerfile names it), run on this host against a real paper node
with its API: healthy while the node runs, unhealthy (exit 1, saying why) once it has stopped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from tests.integration.api.harness import demo_config, start_node

from .image import healthcheck_command, stages


def run_healthcheck(port: int) -> subprocess.CompletedProcess[str]:
    _, command = healthcheck_command(stages()[-1])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEWRIGHT", "PYTEST"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["TRADEWRIGHT_API_PORT"] = str(port)  # the image sets it (ENV) to the port its node config serves
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def test_the_healthcheck_passes_while_the_node_runs_and_fails_once_it_stopped(tmp_path: Path) -> None:
    node = start_node(tmp_path, demo_config(tmp_path), speed=5.0)
    port = urlsplit(node.url).port
    assert port is not None
    try:
        up = run_healthcheck(port)
    finally:
        node.stop()
    down = run_healthcheck(port)

    assert up.returncode == 0, up.stderr
    assert up.stdout.startswith(f"healthy: http://127.0.0.1:{port}/api/v1/health")
    assert down.returncode == 1
    assert down.stderr.startswith(f"unhealthy: http://127.0.0.1:{port}/api/v1/health: no answer")
    assert "Traceback" not in down.stderr


def test_a_bad_port_variable_is_refused_naming_it() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEWRIGHT", "PYTEST"))}
    env["TRADEWRIGHT_API_PORT"] = "eighty"
    done = subprocess.run(
        [sys.executable, "-m", "tradewright.cli.main", "health"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "$TRADEWRIGHT_API_PORT must be a port number, got 'eighty'" in done.stderr
