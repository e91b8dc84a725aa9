"""Stacks and environments of the project, read from `stacks/`.

Used by the Pulumi program itself (a workloads stack validates against its
environment's stack file, which sits beside it in the same checkout) and by every
offline command, so both see the same environments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hastack.config import ConfigError, StackConfig, load_from_engine_values
from hastack.config.layers import WorkloadsStack, layer_of, load_workloads
from hastack.config.loader import user_settings
from hastack.plan.stackfile import StackFile, read_stack, read_yaml, stack_names, stack_path

Loaded = StackConfig | WorkloadsStack


@dataclass(frozen=True)
class StackInfo:
    """What a stack file says about its place in an environment (no validation)."""

    name: str
    layer: str
    environment: str
    region: str | None


def stack_info(root: Path, stack: str) -> StackInfo:
    """Layer and environment of a stack, read leniently (validation reports the details)."""
    settings = _raw_settings(root, stack)
    layer = layer_of(settings)
    if layer == "workloads":
        environment = settings.get("environment")
        region = settings.get("region")
        return StackInfo(stack, layer, environment if isinstance(environment, str) else stack,
                         region if isinstance(region, str) else None)
    return StackInfo(stack, "infrastructure", stack, None)


def environments(root: Path) -> list[str]:
    """The infrastructure stacks, i.e. the environments."""
    return [s for s in stack_names(root) if stack_info(root, s).layer == "infrastructure"]


def environment_stacks(root: Path, environment: str) -> list[str]:
    """The infrastructure stack of `environment` first, then its workloads stacks by name."""
    workloads = [s for s in stack_names(root)
                 if (info := stack_info(root, s)).layer == "workloads"
                 and info.environment == environment]
    return [environment, *sorted(workloads)]


def environment_cloud(root: Path, environment: str) -> str:
    """`hastack:cloud` as the environment's stack file writes it ("" when it does not)."""
    cloud = _raw_settings(root, environment).get("cloud")
    return cloud if isinstance(cloud, str) else ""


def load_settings_of(stack_file: StackFile, root: Path) -> Loaded:
    """Validate a stack file of either layer; raise `ConfigError` naming file and keys."""
    return load_engine_config(stack_file.engine_config, stack_file.display_path, root)


def load_engine_config(engine_config: Mapping[str, Any], source: str, root: Path) -> Loaded:
    """Validate an engine config map of either layer (what `pulumi up` hands the program)."""
    settings = user_settings(engine_config)
    if layer_of(settings) != "workloads":
        return load_from_engine_values(engine_config, source)
    known = environments(root)
    return load_workloads(settings, source, lambda env: load_environment(root, env), known)


def load_environment(root: Path, environment: str) -> StackConfig:
    stack_file = read_stack(root, environment)
    return load_from_engine_values(stack_file.engine_config, stack_file.display_path)


def load_stack(root: Path, stack: str) -> tuple[StackFile, Loaded]:
    stack_file = read_stack(root, stack)
    return stack_file, load_settings_of(stack_file, root)


def _raw_settings(root: Path, stack: str) -> dict[str, Any]:
    """The scalar `hastack:` keys of a stack file, or nothing if it cannot be read."""
    try:
        document = read_yaml(stack_path(root, stack)) or {}
    except (OSError, KeyError, yaml.YAMLError):
        return {}
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        return {}
    return {k.split(":", 1)[1]: v for k, v in config.items()
            if isinstance(k, str) and k.startswith("hastack:")
            and isinstance(v, (str, int, float, bool))}


__all__ = ["ConfigError", "Loaded", "StackInfo", "environment_cloud", "environment_stacks",
           "environments",
           "load_engine_config", "load_environment", "load_stack", "stack_info"]
