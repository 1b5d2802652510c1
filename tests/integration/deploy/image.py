"""Read deploy/Dockerfile and deploy/compose.yaml as docker would, for the deployment tests (no daemon)."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

import yaml

from tests.conftest import REPO

DEPLOY = REPO / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
# The Compose Specification's JSON schema (github.com/compose-spec/compose-spec, schema/compose-spec.json
# at commit 170098ba07d9f53c383a41bfd4c5166b0a4529a6, Apache-2.0): what `docker compose config` checks.
COMPOSE_SCHEMA = DEPLOY / "compose-spec.schema.json"


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [arg for kw, arg in self.instructions if kw == keyword]

    def last(self, keyword: str) -> str | None:
        found = self.all(keyword)
        return found[-1] if found else None


def stages() -> list[Stage]:
    """The Dockerfile's build stages with their instructions (continuation lines joined, comments dropped)."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out: list[Stage] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, arg = line.partition(" ")
        keyword, arg = keyword.upper(), arg.strip()
        if keyword == "FROM":
            parts = arg.split()
            out.append(
                Stage(base=parts[0], name=parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None)
            )
        else:
            assert out, f"{keyword} before the first FROM"
            out[-1].instructions.append((keyword, arg))
    return out


def exec_form(arg: str) -> list[str]:
    """An instruction's JSON (exec) form, e.g. ENTRYPOINT ["x"]; the shell form is refused."""
    value = json.loads(arg)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), arg
    return value


def healthcheck_command(stage: Stage) -> tuple[dict[str, str], list[str]]:
    """HEALTHCHECK's options and its command (exec form)."""
    arg = stage.last("HEALTHCHECK")
    assert arg is not None, "the image has no HEALTHCHECK"
    options: dict[str, str] = {}
    words = arg.split(" CMD ", 1)
    for opt in shlex.split(words[0]):
        key, _, value = opt.removeprefix("--").partition("=")
        options[key] = value
    return options, exec_form(words[1])


def dockerignore_excludes(relative: str) -> bool:
    """Whether the repository's .dockerignore keeps `relative` out of the build context (last match wins)."""
    excluded = False
    for raw in (REPO / ".dockerignore").read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.removeprefix("!").rstrip("/").removeprefix("**/")
        parts = relative.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(p, pattern) for p in prefixes) or fnmatch.fnmatch(parts[-1], pattern):
            excluded = not negate
    return excluded


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?][^}]*)?\}")


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} interpolation, on every string of a document."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        name, rest = match.group(1), match.group(0)[len(match.group(1)) + 2 : -1]
        if rest.startswith((":-", "-")):
            default = rest.split("-", 1)[1]
            return env.get(name) or default
        if rest.startswith((":?", "?")):
            if not env.get(name):
                raise KeyError(f"{name}: {rest.split('?', 1)[1]}")
            return env[name]
        return env.get(name, "")

    return _VAR.sub(one, value)


def variables() -> set[str]:
    return set(_VAR.findall(COMPOSE.read_text()))
