"""Read a plan file written by `hastack plan`, and refuse anything else.

Every command that consumes a plan (`check`, `verify`, `assess`, `diff`) reads it
through `load_plan`, so `{}`, a stack-outputs file passed by mistake or a plan of
another project is one clear error (exit 2) instead of a vacuous "passed".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hastack.plan.render import PLAN_FORMAT_VERSION

PROJECT = "hastack"
LAYERS = ("infrastructure", "workloads")
_RESOURCE_KEYS = ("urn", "type", "name")


class PlanFileError(ValueError):
    """A file that is not a usable hastack plan; the message names the file and the fix."""


def load_plan(path: Path | str, *, project: str = PROJECT) -> dict[str, Any]:
    """The plan in `path`, validated by `validate_plan`; raises `PlanFileError`."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise PlanFileError(f"cannot read plan {path}: {error.strerror or error}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise PlanFileError(f"plan {path} is not JSON: {error}") from None
    return validate_plan(data, str(path), project=project)


def validate_plan(data: Any, source: str, *, project: str = PROJECT) -> dict[str, Any]:
    """`data` if it is a plan of `project` in the current format, else `PlanFileError`."""
    hint = "make one with `hastack plan <stack>` (build/plan/<stack>.json)"
    if not isinstance(data, Mapping):
        raise PlanFileError(f"{source} is not a hastack plan (not a JSON object); {hint}")
    if "formatVersion" not in data:
        looks_like = (" it looks like stack outputs (`pulumi stack output --json`);"
                      if data and "resources" not in data else "")
        raise PlanFileError(f"{source} is not a hastack plan (no formatVersion);{looks_like} "
                            f"{hint}")
    if data["formatVersion"] != PLAN_FORMAT_VERSION:
        raise PlanFileError(f"{source}: plan formatVersion {data['formatVersion']!r} is not "
                            f"supported (this hastack reads {PLAN_FORMAT_VERSION}); re-plan it")
    if data.get("project") != project:
        raise PlanFileError(f"{source}: plan of project {data.get('project')!r}, "
                            f"expected {project!r}")
    layer = data.get("layer")
    if layer is not None and layer not in LAYERS:
        raise PlanFileError(f"{source}: unknown layer {layer!r}; allowed: {', '.join(LAYERS)}")
    resources = data.get("resources")
    if not isinstance(resources, list) or not resources:
        raise PlanFileError(f"{source}: the plan has no resources; a plan always registers "
                            f"at least the stack; {hint}")
    for index, resource in enumerate(resources):
        if not isinstance(resource, Mapping) or not all(
                isinstance(resource.get(key), str) for key in _RESOURCE_KEYS):
            raise PlanFileError(f"{source}: resources[{index}] lacks "
                                f"{'/'.join(_RESOURCE_KEYS)}; not a hastack plan")
    return dict(data)
