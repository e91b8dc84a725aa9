"""Recovery targets: the stack's modeled RTO/RPO meet its `recovery.*` targets.

The arithmetic is `hastack_policies.resilience` (the same model `hastack assess` runs
on plans); this module only turns the Analyzer's resources into the model's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import PolicyResource

from hastack_policies.catalogue import HIGH, Levels, Report, StackSubject, own, stack_rule
from hastack_policies.resilience.model import DOMAINS, assess
from hastack_policies.resilience.resources import PLATFORM_TYPES, UNKNOWN, Resource
from hastack_policies.resilience.workloads import region_of_provider_props
from hastack_policies.values import _unwrap, is_unknown

# Blocking where a target is a promise (staging drills it, prod lives by it).
RECOVERY = Levels("advisory", "mandatory", "mandatory")


def _plain(value: Any) -> Any:
    """The proxy's raw value as plain data; unknowns (first preview) become UNKNOWN."""
    value = _unwrap(value)
    if is_unknown(value):
        return UNKNOWN
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_plain(v) for v in value]
    return value


def _region(resource: PolicyResource, props: Mapping[str, Any]) -> str | None:
    own_region = props.get("region")
    if isinstance(own_region, str) and own_region:
        return own_region
    if resource.provider is not None:
        provider = _plain(resource.provider.props) or {}
        region = provider.get("region")
        if isinstance(region, str) and region:
            return region
        return region_of_provider_props(provider)
    return None


def model_resources(resources: Sequence[PolicyResource]) -> list[Resource]:
    converted = []
    for resource in resources:
        props = _plain(resource.props) or {}
        deps = {key: [dep.urn for dep in found]
                for key, found in (resource.property_dependencies or {}).items()}
        converted.append(Resource(
            type=resource.resource_type, urn=resource.urn, name=resource.name, props=props,
            region=_region(resource, props),
            parent=resource.parent.urn if resource.parent is not None else None, deps=deps,
            provider=resource.provider.urn if resource.provider is not None else None))
    return converted


def _seconds(value: Any) -> str:
    return "unrecoverable" if value is None else f"{value:g} s"


@stack_rule(
    name="recovery-targets-met",
    description="The modeled RTO/RPO of every failure domain meet the stack's recovery "
                "targets (the same model as `hastack assess`).",
    severity=HIGH, levels=RECOVERY,
    anchors=(own("HA-DR-1"),),
    remediation="Run `hastack assess <env>` to see the terms on the critical path; shorten "
                "the dominating one (health checks, TTLs, replicas, tolerations, managed RPO) "
                "or state a target the platform can meet in stacks/Pulumi.<stack>.yaml.",
)
def recovery_targets_met(stack: StackSubject, report: Report) -> None:
    resources = model_resources(stack.resources)
    platform = next((r.urn for r in resources if r.type in PLATFORM_TYPES), None)
    result = assess(resources, stack="policy")
    for name in DOMAINS:
        domain = result.domains[name]
        if domain.met is not False:
            continue
        reason = next((n for n in domain.notes if n.startswith("unrecoverable")), "")
        report(f"{name}: modeled RTO {_seconds(domain.rto)} (target "
               f"{_seconds(domain.target_rto)}), RPO {_seconds(domain.rpo)} (target "
               f"{_seconds(domain.target_rpo)}){'; ' + reason if reason else ''}", platform)
