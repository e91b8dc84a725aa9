"""Following references between resources in stack rules.

A node group names its subnets by ID and an instance names its cluster by ID, and
in a first preview those IDs are unknown. What is always known is the engine's
record of *where each input came from*: `property_dependencies`. So references
are resolved through property dependencies first, and by literal names only as a
fallback (for inputs a program wrote as plain strings).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from pulumi_policy import PolicyResource
from pulumi_policy.proxy import UnknownValueError

from hastack_policies.values import is_unknown, peek

SUBNET = "aws:ec2/subnet:Subnet"


class StackGraph:
    def __init__(self, resources: Iterable[PolicyResource]) -> None:
        self.resources = list(resources)
        self._by_type: dict[str, list[PolicyResource]] = defaultdict(list)
        for resource in self.resources:
            self._by_type[resource.resource_type].append(resource)
        self._referrers: dict[tuple[str, tuple[str, ...]],
                              tuple[dict[str, list[int]], dict[str, list[int]]]] = {}

    def of_type(self, *types: str) -> list[PolicyResource]:
        found: list[PolicyResource] = []
        for kind in types:
            found.extend(self._by_type.get(kind, []))
        return found

    @staticmethod
    def referenced(resource: PolicyResource, prop: str, *types: str) -> list[PolicyResource]:
        """Resources the input `prop` of `resource` was computed from (optionally of `types`)."""
        found = (resource.property_dependencies or {}).get(prop, [])
        return [dep for dep in found if not types or dep.resource_type in types]

    def referrers(self, target: PolicyResource, prop: str, types: Iterable[str],
                  literal: Callable[[PolicyResource], Any] | None = None) -> list[PolicyResource]:
        """Resources of `types` whose input `prop` points at `target`, in `of_type` order.

        A pointer is a property dependency on `target`, or else a literal value of
        `prop` equal to `literal(target)` (when that is a known, non-empty string).
        Answered from an index built once per (prop, types), so a rule asking for
        every target's referrers stays linear in the stack.
        """
        wanted = literal(target) if literal else None
        if is_unknown(wanted) or not isinstance(wanted, str) or not wanted:
            wanted = None
        kinds = tuple(types)
        by_dependency, by_name = self._referrer_index(prop, kinds)
        positions = set(by_dependency.get(target.urn, ()))
        if wanted is not None:
            positions.update(by_name.get(wanted, ()))
        candidates = self.of_type(*kinds)
        return [candidates[position] for position in sorted(positions)]

    def _referrer_index(self, prop: str, types: tuple[str, ...]
                        ) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
        """(target URN -> candidate positions, literal name -> positions) for `prop`."""
        key = (prop, types)
        if key not in self._referrers:
            by_dependency: dict[str, list[int]] = defaultdict(list)
            by_name: dict[str, list[int]] = defaultdict(list)
            for position, candidate in enumerate(self.of_type(*types)):
                deps = self.referenced(candidate, prop)
                for urn in {dep.urn for dep in deps}:
                    by_dependency[urn].append(position)
                if not deps:
                    name = _literal(candidate, prop)
                    if isinstance(name, str):
                        by_name[name].append(position)
            self._referrers[key] = (by_dependency, by_name)
        return self._referrers[key]

    @staticmethod
    def region(resource: PolicyResource) -> str | None:
        """The resource's region: its own `region` input (AWS v7), else its provider's."""
        own = peek(resource.props, "region")
        if isinstance(own, str) and own and not is_unknown(own):
            return own
        if resource.provider is not None:
            provided = peek(resource.provider.props, "region")
            if isinstance(provided, str) and provided and not is_unknown(provided):
                return provided
        return None

    def subnet_zones(self, resource: PolicyResource, prop: str = "subnetIds") -> set[str] | None:
        """Zones of the subnets in `prop`; None when none of them can be resolved."""
        zones = {zone for subnet in self.referenced(resource, prop, SUBNET)
                 if (zone := subnet_zone(subnet))}
        return zones or None


def subnet_zone(subnet: PolicyResource) -> str | None:
    for key in ("availabilityZone", "availabilityZoneId"):
        zone = peek(subnet.props, key)
        if isinstance(zone, str) and zone and not is_unknown(zone):
            return zone
    return None


def _literal(resource: PolicyResource, prop: str) -> Any:
    raw = peek(resource.props, prop)
    return None if is_unknown(raw) else raw


def each(resources: Iterable[PolicyResource], judge: Callable[[PolicyResource], None]) -> None:
    """Judge resources one by one; one whose inputs are still unknown is skipped.

    Without this, one unknown input in a first preview would stop a stack rule for
    every resource. The skipped ones are judged when their inputs are known.
    """
    for resource in resources:
        try:
            judge(resource)
        except UnknownValueError:
            continue
