"""The two layers of an environment, and how a workloads stack file is validated.

An environment (dev, staging, prod, gcp-dev, gcp-prod) is a small set of stacks of
one Pulumi project:

* the infrastructure stack `<env>` (`StackConfig`): every cloud resource of every
  region. It needs cloud credentials only, never cluster access;
* one workloads stack per cluster, `<env>-<region>` (`WorkloadsConfig`): the cluster
  add-ons and the orchestrator of that one cluster. Its stack file only says which
  environment and region it belongs to; what to install comes from the
  environment's stack file, and what the infrastructure built (endpoints, ARNs,
  secrets, the active region) from the infrastructure stack's outputs through a
  `pulumi.StackReference`.

A workloads stack file is validated together with its environment's stack file,
so a workloads stack naming an unknown environment or a region the environment
does not build is one clear error naming the file and key, before anything runs.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, ValidationError

from hastack.config.errors import ConfigError
from hastack.config.model import StackConfig, _Section

STACK_NAME = r"^[a-z][a-z0-9-]{0,62}$"


class WorkloadsConfig(_Section):
    """The `hastack:` keys of a workloads stack file."""

    layer: Literal["workloads"]
    environment: str = Field(pattern=STACK_NAME)
    region: str
    # Fully qualified infrastructure stack (`org/project/stack`); defaults to the
    # environment's stack in this stack's organisation and project.
    infrastructure_stack: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[a-z][a-z0-9-]*$")


@dataclass(frozen=True)
class WorkloadsStack:
    """A validated workloads stack: its own keys and its environment's configuration."""

    config: WorkloadsConfig
    environment: StackConfig

    @property
    def region(self) -> str:
        return self.config.region

    @property
    def cloud(self) -> str:
        return self.environment.cloud

    @property
    def tier(self) -> str:
        return self.environment.tier


def layer_of(settings: Mapping[str, Any]) -> str:
    """The layer a stack file declares (`hastack:layer`); infrastructure when absent."""
    layer = settings.get("layer", "infrastructure")
    return layer if isinstance(layer, str) else "infrastructure"


def workloads_stack_name(environment: str, region: str) -> str:
    return f"{environment}-{region}"


def load_workloads(settings: dict[str, Any], source: str,
                   environments: Callable[[str], StackConfig],
                   known_environments: list[str]) -> WorkloadsStack:
    """Validate a workloads stack file against its environment, listing every problem.

    `environments(name)` loads an environment's infrastructure configuration (and
    raises `ConfigError` for its own file's problems, which are reported as such).
    """
    try:
        config = WorkloadsConfig.model_validate(settings)
    except ValidationError as exc:
        raise ConfigError(source, _problems(exc)) from None
    if config.environment not in known_environments:
        hint = difflib.get_close_matches(config.environment, known_environments, n=1)
        suggestion = f"did you mean '{hint[0]}'? " if hint else ""
        raise ConfigError(source, [(
            "environment",
            f"no infrastructure stack '{config.environment}'; {suggestion}"
            f"allowed: {', '.join(known_environments) or 'none'}")])
    environment = environments(config.environment)
    if config.region not in environment.regions.all:
        raise ConfigError(source, [(
            "region", f"environment '{config.environment}' builds no cluster in "
                      f"'{config.region}'; allowed: {', '.join(environment.regions.all)}")])
    return WorkloadsStack(config, environment)


def _problems(exc: ValidationError) -> list[tuple[str, str]]:
    allowed = sorted(f.alias or n for n, f in WorkloadsConfig.model_fields.items())
    problems = []
    for error in exc.errors(include_url=False):
        path = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            hint = difflib.get_close_matches(path, allowed, n=1)
            suggestion = f"did you mean '{hint[0]}'? " if hint else ""
            message = (f"unknown key in a workloads stack file (everything else lives in "
                       f"the environment's stack file); {suggestion}allowed: {', '.join(allowed)}")
        elif error["type"] == "missing":
            message = "required key is missing"
        else:
            message = f"{error['msg']}; got {error.get('input')!r}"
        problems.append((path, message))
    return problems
