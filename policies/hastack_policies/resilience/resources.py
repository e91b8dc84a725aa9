"""The model's view of a stack: plain resources, whoever supplies them.

`Resource` is what both callers can give: `hastack assess` builds it from plan JSON
entries, the `recovery-targets-met` policy from the Analyzer's AnalyzeStack
resources. `Stack` indexes them and answers the questions the model asks (which
region is active, which resource an input points at).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PLATFORM_TYPES = ("hastack:aws:Platform", "hastack:gcp:Platform")
# A value not known until deployment (the plan's marker; the policy maps the SDK's to it).
UNKNOWN = "[unknown]"
# The root component's input carrying the stack's recovery targets and region roles.
RECOVERY_PROP = "hastackRecovery"


@dataclass(frozen=True)
class Resource:
    type: str
    urn: str
    name: str
    props: Mapping[str, Any]
    region: str | None = None
    parent: str | None = None
    # Input name -> URNs it was computed from (the engine's property dependencies).
    deps: Mapping[str, Sequence[str]] = field(default_factory=dict)
    # The plan's (mock) ID, when known: lets literal references resolve.
    id: str | None = None
    # URN of the explicit provider: a Kubernetes resource lives where its cluster does.
    provider: str | None = None


def get(props: Any, *path: str | int, default: Any = None) -> Any:
    """The value at `path`, or `default` when any step is missing."""
    current = props
    for step in path:
        if isinstance(step, int):
            if not isinstance(current, Sequence) or isinstance(current, str):
                return default
            if step >= len(current):
                return default
            current = current[step]
        else:
            if not isinstance(current, Mapping) or step not in current:
                return default
            current = current[step]
    return default if current is None else current


def as_number(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str):
        try:
            return float(raw)
        except ValueError:
            return None
    return None


def as_bool(raw: Any) -> bool | None:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    return None


class Stack:
    """Resources of one environment (one plan, or the union of its layers' plans)."""

    def __init__(self, resources: Iterable[Resource]) -> None:
        self.resources = list(resources)
        self.by_urn = {r.urn: r for r in self.resources}
        self._by_type: dict[str, list[Resource]] = defaultdict(list)
        for resource in self.resources:
            self._by_type[resource.type].append(resource)
        self._regions = self._resolve_regions()

    def of_type(self, *types: str) -> list[Resource]:
        return [r for kind in types for r in self._by_type.get(kind, [])]

    def region(self, resource: Resource) -> str | None:
        return self._regions.get(resource.urn)

    def in_region(self, region: str | None, *types: str) -> list[Resource]:
        return [r for r in self.of_type(*types) if self.region(r) == region]

    def referenced(self, resource: Resource, prop: str, *types: str) -> list[Resource]:
        found = [self.by_urn[urn] for urn in resource.deps.get(prop, ()) if urn in self.by_urn]
        return [r for r in found if not types or r.type in types]

    def points_at(self, resource: Resource, prop: str, target: Resource,
                  literal: Any = None) -> bool:
        """`resource.prop` refers to `target`: by property dependency, else by literal value."""
        deps = resource.deps.get(prop, ())
        if deps:
            return target.urn in deps
        value = resource.props.get(prop)
        return value is not None and value in {literal, target.id} - {None}

    # --- what the root component says about the stack ---------------------------------

    def recovery(self) -> Mapping[str, Any]:
        for platform in self.of_type(*PLATFORM_TYPES):
            found = platform.props.get(RECOVERY_PROP)
            if isinstance(found, Mapping):
                return found
        return {}

    def regions(self) -> list[str]:
        return sorted({region for r in self.resources
                       if r.type.split(":")[0] in ("aws", "gcp")
                       and (region := self.region(r))})

    def _resolve_regions(self) -> dict[str, str | None]:
        """A resource's own region, else the single region of its nearest component's members."""
        own = {r.urn: r.region for r in self.resources}
        below: dict[str, set[str]] = defaultdict(set)
        for r in self.resources:
            if not r.region:
                continue
            anchor, seen = r.parent, set()
            while anchor and anchor not in seen:
                seen.add(anchor)
                below[anchor].add(r.region)
                anchor = self.by_urn[anchor].parent if anchor in self.by_urn else None
        resolved: dict[str, str | None] = {}

        def by_parents(r: Resource) -> str | None:
            anchor, seen, found = r.parent, set(), None
            while anchor and anchor not in seen:
                seen.add(anchor)
                regions = below.get(anchor, set())
                if len(regions) == 1:
                    found = next(iter(regions))
                    break
                if len(regions) > 1:
                    break
                anchor = self.by_urn[anchor].parent if anchor in self.by_urn else None
            return found

        for r in self.resources:
            found = own[r.urn] or None
            if not found and r.provider in self.by_urn:
                provider = self.by_urn[str(r.provider)]
                found = own[provider.urn] or by_parents(provider)
            resolved[r.urn] = found or by_parents(r)
        return resolved
