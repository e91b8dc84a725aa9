"""Evaluate one rule on a fixture plan through the SDK's own argument types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hastack_policies.catalogue import Rule, to_policy
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import unknown_checking_proxy

from hastack.check.protocol import SECRET_MARKER, engine_inputs, is_provider
from tests.policies.plans import leaf_unknowns


@dataclass
class Outcome:
    violations: list[tuple[str, str | None]] = field(default_factory=list)
    not_applicable: list[str] = field(default_factory=list)

    @property
    def messages(self) -> list[str]:
        return [message for message, _ in self.violations]


def rule_config(rule: Rule, tier: str = "prod") -> dict[str, Any]:
    config = {k: v for k, v in rule.tier_config(tier).items() if k != "enforcementLevel"}
    if "secretsRedactedAs" in rule.settings:
        config["secretsRedactedAs"] = SECRET_MARKER
    return config


def _props(resource: dict[str, Any], unknowns: bool) -> Any:
    inputs = engine_inputs(resource)
    if unknowns:
        inputs = leaf_unknowns(inputs)
    return unknown_checking_proxy(deserialize_properties(inputs))


def _options(resource: dict[str, Any]) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        bool(resource.get("protect")), list(resource.get("ignoreChanges") or []),
        resource.get("deleteBeforeReplace"), [], PolicyCustomTimeouts(0, 0, 0),
        list(resource.get("additionalSecretOutputs") or []), resource.get("parent"))


def _provider(plan: dict[str, Any], resource: dict[str, Any]) -> PolicyProviderResource | None:
    urn = resource.get("provider")
    found = next((r for r in plan["resources"] if r["urn"] == urn), None)
    if found is None:
        return None
    return PolicyProviderResource(found["type"], _props(found, False), urn, found["name"])


def run_resource_rule(rule: Rule, plan: dict[str, Any], name: str, *, tier: str = "prod",
                      unknowns: bool = False) -> Outcome:
    resource = next(r for r in plan["resources"] if r["name"] == name)
    policy = to_policy(rule)
    args = ResourceValidationArgs(
        resource["type"], _props(resource, unknowns), resource["urn"], resource["name"],
        _options(resource), _provider(plan, resource), rule_config(rule, tier), {})
    outcome = Outcome()
    try:
        policy.validate(args, lambda message, urn=None: outcome.violations.append((message, urn)))
    except _NotApplicableError as skipped:
        outcome.not_applicable.append(skipped.reason or "")
    return outcome


def stack_resources(plan: dict[str, Any], *, unknowns: bool = False) -> list[PolicyResource]:
    """PolicyResources linked like the servicer links them (parent, dependencies)."""
    built = {}
    for resource in plan["resources"]:
        built[resource["urn"]] = PolicyResource(
            resource["type"], _props(resource, unknowns), resource["urn"], resource["name"],
            _options(resource), _provider(plan, resource), None, [], {})
    for resource in plan["resources"]:
        target = built[resource["urn"]]
        target.parent = built.get(resource.get("parent") or "")
        target.dependencies = [built[u] for u in resource.get("dependencies") or [] if u in built]
        target.property_dependencies = {
            key: [built[u] for u in urns if u in built]
            for key, urns in (resource.get("propertyDependencies") or {}).items()}
    return list(built.values())


def run_stack_rule(rule: Rule, plan: dict[str, Any], *, tier: str = "prod",
                   unknowns: bool = False) -> Outcome:
    policy = to_policy(rule)
    args = StackValidationArgs(stack_resources(plan, unknowns=unknowns), rule_config(rule, tier),
                               {})
    outcome = Outcome()
    policy.validate(args, lambda message, urn=None: outcome.violations.append((message, urn)))
    return outcome


def analyzable_names(plan: dict[str, Any], rule: Rule) -> list[str]:
    return [r["name"] for r in plan["resources"]
            if r["custom"] and not is_provider(r)
            and ("*" in rule.types or r["type"] in rule.types)]
