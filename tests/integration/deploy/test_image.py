"""The container image and the compose file, checked without a Docker daemon: the Dockerfile is two-stage,
non-root, with a healthcheck and an entrypoint that exist in the build context; the compose file validates
against the Compose Specification's schema; and its services fit together (mounts exist, Prometheus scrapes
the port the node's config serves, Grafana is provisioned with that Prometheus and the dashboard). The
entrypoint and healthcheck themselves run on this host in test_entrypoint.py and test_health.py."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.conftest import REPO
from tradewright.live.config import load_live_config

from .image import (
    COMPOSE_SCHEMA,
    DEPLOY,
    compose,
    dockerignore_excludes,
    exec_form,
    healthcheck_command,
    interpolate,
    stages,
    variables,
)

ENV = {
    "POSTGRES_PASSWORD": "pg-secret",
    "GRAFANA_ADMIN_PASSWORD": "grafana-secret",
    "BINANCE_API_KEY": "key",
    "BINANCE_API_SECRET": "secret",
}


def resolved() -> dict[str, object]:
    return interpolate(compose(), ENV)  # type: ignore[no-any-return]


def test_the_image_is_built_in_two_stages_and_runs_as_an_unprivileged_user() -> None:
    build, final = stages()[0], stages()[-1]
    assert len(stages()) >= 2 and build.name is not None
    assert any(f"--from={build.name}" in c for c in final.all("COPY")), (
        "the final stage copies the build's venv"
    )
    assert not final.all("RUN") or all("pip" not in r for r in final.all("RUN")), (
        "nothing is built in the final stage"
    )
    user = final.last("USER")
    assert user is not None and user.split(":")[0] not in ("root", "0")
    assert "[live,api]" in build.last("RUN") or '".[live,api]"' in " ".join(build.all("RUN"))
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert {"live", "api"} <= set(extras)
    entrypoint = exec_form(final.last("ENTRYPOINT") or "null")
    assert exec_form(final.last("CMD") or "null")[0] == "live"
    copied = {c.split()[-1]: c.split()[-2] for c in final.all("COPY") if "--from" not in c}
    assert (
        copied[entrypoint[0] if "/" in entrypoint[0] else f"/usr/local/bin/{entrypoint[0]}"]
        == "deploy/entrypoint.sh"
    )
    options, command = healthcheck_command(final)
    assert command == ["tradewright", "health"]
    assert {"interval", "timeout", "retries"} <= set(options)


def test_everything_the_dockerfile_copies_is_in_the_build_context() -> None:
    sources = [c.split()[:-1] for s in stages() for c in s.all("COPY") if "--from" not in c]
    paths = [p for words in sources for p in words if not p.startswith("--")]
    assert "src" in paths and "deploy/entrypoint.sh" in paths
    for path in paths:
        assert (REPO / path).exists(), path
        assert not dockerignore_excludes(path), f".dockerignore keeps {path} out of the build context"
    for left_out in (".venv", ".git", "tests", "runs", "deploy/.env", "deploy/backups/store.twb.gz"):
        assert dockerignore_excludes(left_out), left_out


def test_the_compose_file_validates_against_the_compose_specification() -> None:
    jsonschema.Draft7Validator(json.loads(COMPOSE_SCHEMA.read_text())).validate(resolved())


def test_the_compose_file_refuses_to_start_without_its_secrets() -> None:
    for name in ("POSTGRES_PASSWORD", "BINANCE_API_KEY", "GRAFANA_ADMIN_PASSWORD"):
        with pytest.raises(KeyError, match=f"{name}: set {name} in deploy/.env"):
            interpolate(compose(), {k: v for k, v in ENV.items() if k != name})


def test_every_variable_of_the_compose_file_is_in_the_env_example() -> None:
    example = {
        line.lstrip("# ").split("=", 1)[0]
        for line in (DEPLOY / "env.example").read_text().splitlines()
        if "=" in line
    }
    assert variables() <= example, variables() - example


def test_the_compose_services_fit_together(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = resolved()
    services: dict[str, dict[str, object]] = doc["services"]  # type: ignore[assignment]
    assert set(services) == {"postgres", "node", "prometheus", "grafana"}
    node, prom, grafana = services["node"], services["prometheus"], services["grafana"]
    build: dict[str, str] = node["build"]  # type: ignore[assignment]
    assert (DEPLOY / build["context"]).resolve() == REPO and (REPO / build["dockerfile"]).is_file()
    assert node["depends_on"] == {"postgres": {"condition": "service_healthy"}}

    mounts: dict[str, str] = {}
    for service in services.values():
        for volume in service.get("volumes", []):  # type: ignore[attr-defined]
            source, target = volume.split(":")[:2]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), source
                mounts[target] = source
    for service in services.values():  # published ports stay on this host
        assert all(str(p).startswith("127.0.0.1:") for p in service.get("ports", [])), service  # type: ignore[attr-defined]

    # The node's config loads as the image will load it, with the store URL the compose file gives it.
    env: dict[str, str] = node["environment"]  # type: ignore[assignment]
    assert env["TRADEWRIGHT_STORE_URL"].startswith(
        "postgresql+psycopg://tradewright:pg-secret@postgres:5432/"
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    config_path = DEPLOY / mounts["/etc/tradewright/node.toml"]
    config = load_live_config(config_path)
    assert config.store.url == env["TRADEWRIGHT_STORE_URL"] and config.store.node_id == "main"
    assert config.api.enabled and config.api.loopback and not config.api.metrics_auth
    strategy_mount = f"/etc/tradewright/{config.strategy.path}"
    assert strategy_mount in mounts and (DEPLOY / mounts[strategy_mount]).is_file()
    assert command_of(node) == ["live", "/etc/tradewright/node.toml"]

    # Prometheus shares the node's network namespace and scrapes the port the node's API listens on.
    assert prom["network_mode"] == "service:node"
    assert "127.0.0.1:9090:9090" in node["ports"]  # type: ignore[operator]
    scrape = yaml.safe_load((DEPLOY / mounts["/etc/prometheus/prometheus.yml"]).read_text())
    (job,) = scrape["scrape_configs"]
    assert job["static_configs"][0]["targets"] == [f"127.0.0.1:{config.api.port}"]
    assert job["metrics_path"] == "/metrics"

    # Grafana: the provisioned data source is that Prometheus; the dashboard is mounted where the provider reads.
    provisioning = DEPLOY / mounts["/etc/grafana/provisioning"]
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yaml").read_text())["datasources"]
    assert source["type"] == "prometheus" and source["url"] == "http://node:9090"
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "tradewright.yaml").read_text())["providers"]
    dashboard_target = next(t for t in mounts if t.endswith("tradewright.json"))
    assert Path(dashboard_target).parent == Path(provider["options"]["path"])
    dashboard = json.loads((DEPLOY / mounts[dashboard_target]).read_text())
    # Provisioned dashboards get no import dialog: the data source the panels name must be a variable.
    variables_ = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert (
        variables_["DS_PROMETHEUS"]["type"] == "datasource"
        and variables_["DS_PROMETHEUS"]["query"] == "prometheus"
    )
    assert grafana["depends_on"] == ["prometheus"]


def command_of(service: dict[str, object]) -> list[str]:
    command = service["command"]
    assert isinstance(command, list)
    return [str(c) for c in command]
