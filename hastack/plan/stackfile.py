"""Read a stack file the way the Pulumi engine hands it to a program.

The engine merges the project's `config:` defaults (Pulumi.yaml) under the stack
file's `config:`, then passes every value as a string: scalars as text, objects
and lists as JSON. Secure values are decrypted by the engine; offline we cannot,
so each becomes a placeholder flagged secret — the program treats it as a secret
and the plan shows only the marker.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hastack.config.errors import ConfigError

OFFLINE_SECURE_PLACEHOLDER = "offline-placeholder-for-secure-value"


@dataclass
class StackFile:
    name: str
    path: Path
    project: str
    engine_config: dict[str, str]
    secret_keys: list[str] = field(default_factory=list)

    @property
    def display_path(self) -> str:
        return f"stacks/{self.path.name}"


def project_root(start: Path | None = None) -> Path:
    """The directory holding Pulumi.yaml, searched upwards from `start` (or cwd)."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    raise FileNotFoundError("no Pulumi.yaml here or in any parent directory")


def stack_names(root: Path) -> list[str]:
    stacks_dir = root / _stack_config_dir(root)
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in stacks_dir.glob("Pulumi.*.yaml"))


def _project_file(root: Path) -> dict[str, Any]:
    data = yaml.safe_load((root / "Pulumi.yaml").read_text())
    return data if isinstance(data, dict) else {}


def _stack_config_dir(root: Path) -> str:
    return str(_project_file(root).get("stackConfigDir", "."))


def stack_path(root: Path, stack: str) -> Path:
    return root / _stack_config_dir(root) / f"Pulumi.{stack}.yaml"


def read_stack(root: Path, stack: str) -> StackFile:
    project = _project_file(root)
    project_name = str(project["name"])
    path = stack_path(root, stack)
    display = f"stacks/{path.name}"
    if not path.is_file():
        available = ", ".join(stack_names(root)) or "none"
        raise ConfigError(display, [("", f"no such stack file; stacks: {available}")])
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        reason = getattr(exc, "problem", exc)
        raise ConfigError(display, [("", f"not valid YAML{where}: {reason}")]) from None
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise ConfigError(display, [("", "the file needs a top-level 'config:' mapping")])
    merged = _project_defaults(project, project_name)
    merged.update({_qualify(k, project_name): v for k, v in document.get("config", {}).items()})
    engine_config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in sorted(merged.items()):
        encoded, is_secret = _encode(value)
        engine_config[key] = encoded
        if is_secret:
            secret_keys.append(key)
    return StackFile(stack, path, project_name, engine_config, secret_keys)


def _qualify(key: str, project_name: str) -> str:
    return key if ":" in key else f"{project_name}:{key}"


def _project_defaults(project: dict[str, Any], project_name: str) -> dict[str, Any]:
    defaults = {}
    for key, declaration in (project.get("config") or {}).items():
        if isinstance(declaration, dict) and "default" in declaration:
            defaults[_qualify(key, project_name)] = declaration["default"]
    return defaults


def _encode(value: Any) -> tuple[str, bool]:
    """Engine encoding of one config value, and whether any part of it is secure."""
    found_secure = False

    def strip_secure(node: Any) -> Any:
        nonlocal found_secure
        if isinstance(node, dict):
            if set(node) == {"secure"}:
                found_secure = True
                return OFFLINE_SECURE_PLACEHOLDER
            return {k: strip_secure(v) for k, v in node.items()}
        if isinstance(node, list):
            return [strip_secure(v) for v in node]
        return node

    plain = strip_secure(value)
    if isinstance(plain, (dict, list)):
        return json.dumps(plain, sort_keys=True), found_secure
    if isinstance(plain, bool):
        return ("true" if plain else "false"), found_secure
    return ("" if plain is None else str(plain)), found_secure
