"""The declarative half of the pack: what a rule *is*, apart from what it checks.

A rule is registered by decorating its check function:

    @resource_rule(
        name="eks-secrets-encryption",
        description="EKS encrypts Kubernetes secrets with a KMS key.",
        severity=HIGH, levels=SECURITY,
        anchors=(fsbp("EKS.3"), checkov("CKV_AWS_58")),
        types=(EKS_CLUSTER,),
        remediation="Set encryptionConfig.resources=['secrets'] and a key ARN.",
    )
    def eks_secrets_encryption(subject, report): ...

Everything the engine, Pulumi Cloud, the SARIF report and the per-tier config files
need is derived from that one declaration: the `Policy` object, its compliance
framework and tags, its config schema with defaults, and its enforcement level in
each tier. Rule modules never touch `pulumi_policy` policy classes directly.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn, Protocol

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from hastack.config.tiers import floor

PACK_NAME = "hastack-guardrails"
TIERS = ("dev", "staging", "prod")
Level = Literal["mandatory", "advisory", "disabled"]

# Rule families, imported in this order; each registers its rules on import.
FAMILIES = (
    "eks", "rds", "elasticache", "s3", "route53", "kms_iam_network",
    "gke", "cloudsql", "gcp_data", "kubernetes", "orchestrator_access", "addons", "stack",
    "edge", "recovery", "alarms", "drills", "region_switch",
)

# `types=(ANY_TYPE,)` applies a resource rule to every resource.
ANY_TYPE = "*"

CRITICAL, HIGH, MEDIUM, LOW = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW


@dataclass(frozen=True)
class Levels:
    """Enforcement level of a rule in each tier."""

    dev: Level
    staging: Level
    prod: Level

    def of(self, tier: str) -> Level:
        level: Level = getattr(self, tier)
        return level


# Security is never negotiable, not even in dev.
SECURITY = Levels("mandatory", "mandatory", "mandatory")
# Cheap HA (failover switches, health checks, zone spread): dev gets it too.
HA = Levels("mandatory", "mandatory", "mandatory")
# HA that costs money (per-AZ NAT, a second region, more instances): dev only warns.
HA_COSTLY = Levels("advisory", "mandatory", "mandatory")
# Keeping data through mistakes (deletion protection, final snapshots): dev is disposable.
DATA_RETENTION = Levels("advisory", "mandatory", "mandatory")
# Operational hygiene: visible everywhere, blocking only in prod.
OPERATIONS = Levels("advisory", "advisory", "mandatory")
# Pulumi `protect` on stateful resources: a prod-only promise.
PROD_ONLY = Levels("disabled", "advisory", "mandatory")


@dataclass(frozen=True)
class Anchor:
    """A control in an external (or our own) catalogue that a rule implements."""

    framework: str
    control: str

    @property
    def tag(self) -> str:
        return f"{self.framework}:{self.control}"


def fsbp(control: str) -> Anchor:
    return Anchor("AWS FSBP", control)


def checkov(control: str) -> Anchor:
    return Anchor("Checkov", control)


def own(control: str) -> Anchor:
    return Anchor("hastack", control)


@dataclass(frozen=True)
class Setting:
    """One configurable threshold: its JSON schema, with the default the code falls back to."""

    schema: Mapping[str, Any]
    # Per-tier values written into policies/config/<tier>.json; missing tiers use the default.
    per_tier: Mapping[str, Any] = field(default_factory=dict)

    @property
    def default(self) -> Any:
        return self.schema["default"]


def setting(kind: str, default: Any, description: str, items: str = "string",
            **per_tier: Any) -> Setting:
    schema: dict[str, Any] = {"type": kind, "default": default, "description": description}
    if kind == "array":
        schema["items"] = {"type": items}
    return Setting(schema, per_tier)


def floor_setting(key: str, description: str) -> Setting:
    """A threshold that is a tier floor of the stack key `key`: its per-tier values are
    the tier profile's (hastack/config/tiers.py), stated there once; the default (no
    config file) is prod's, so the pack fails closed."""
    per_tier = {tier: floor(tier, key) for tier in TIERS}
    schema = {"type": "integer", "default": per_tier["prod"],
              "description": f"{description} (the {key} floor)"}
    return Setting(schema, per_tier)


class Deferred(Exception):
    """Raised by `Subject.defer`; the pack turns it into a not-applicable entry."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Subject:
    """What a resource check sees: the resource plus its rule's resolved config."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    protect: bool
    provider_props: Mapping[str, Any]
    config: Mapping[str, Any]

    def defer(self, reason: str) -> NoReturn:
        """Give up on this resource for now (e.g. its input is unknown during preview).

        Reported as not-applicable with the reason, so `hastack check` lists it as
        deferred; `pulumi up` runs the check again once the input is known.
        """
        raise Deferred(reason)


@dataclass
class StackSubject:
    resources: list[PolicyResource]
    config: Mapping[str, Any]


class Report(Protocol):
    """How rules report: the SDK's callback, whose `urn` is optional at run time."""

    def __call__(self, message: str, urn: str | None = None) -> None: ...


ResourceCheck = Callable[[Subject, Report], None]
StackCheck = Callable[[StackSubject, Report], None]


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    severity: Severity
    levels: Levels
    anchors: tuple[Anchor, ...]
    remediation: str
    family: str
    kind: Literal["resource", "stack"]
    check: Callable[..., None]
    types: tuple[str, ...] = ()
    settings: Mapping[str, Setting] = field(default_factory=dict)

    @property
    def framework(self) -> PolicyComplianceFramework:
        primary = self.anchors[0]
        return PolicyComplianceFramework(name=primary.framework, reference=primary.control)

    @property
    def tags(self) -> list[str]:
        return [f"family:{self.family}", *(anchor.tag for anchor in self.anchors)]

    def resolved_config(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        """Defaults from the schema, overridden by whatever the engine configured."""
        resolved = {key: value.default for key, value in self.settings.items()}
        resolved.update({key: _integral(value) for key, value in (given or {}).items()
                         if key != "enforcementLevel"})
        return resolved

    def tier_config(self, tier: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"enforcementLevel": self.levels.of(tier)}
        for key, value in self.settings.items():
            entry[key] = value.per_tier.get(tier, value.default)
        return entry


def _integral(value: Any) -> Any:
    """Config crosses the protocol as a protobuf Struct, where every number is a float."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral(item) for item in value]
    return value


_REGISTRY: dict[str, Rule] = {}


def _register(rule: Rule) -> None:
    if rule.name in _REGISTRY and _REGISTRY[rule.name].check is not rule.check:
        raise ValueError(f"two rules are named {rule.name!r}")
    _REGISTRY[rule.name] = rule


def _family_of(function: Callable[..., Any]) -> str:
    return function.__module__.rsplit(".", 1)[-1]


def resource_rule(*, name: str, description: str, severity: Severity, levels: Levels,
                  anchors: Iterable[Anchor], types: Iterable[str], remediation: str,
                  settings: Mapping[str, Setting] | None = None
                  ) -> Callable[[ResourceCheck], ResourceCheck]:
    def register(check: ResourceCheck) -> ResourceCheck:
        _register(Rule(name, description, severity, levels, tuple(anchors), remediation,
                       _family_of(check), "resource", check, tuple(types),
                       dict(settings or {})))
        return check
    return register


def stack_rule(*, name: str, description: str, severity: Severity, levels: Levels,
               anchors: Iterable[Anchor], remediation: str,
               settings: Mapping[str, Setting] | None = None
               ) -> Callable[[StackCheck], StackCheck]:
    def register(check: StackCheck) -> StackCheck:
        _register(Rule(name, description, severity, levels, tuple(anchors), remediation,
                       _family_of(check), "stack", check, (), dict(settings or {})))
        return check
    return register


def all_rules() -> list[Rule]:
    """Every rule, importing the family modules on first use; sorted by name."""
    for family in FAMILIES:
        importlib.import_module(f"hastack_policies.{family}")
    return sorted(_REGISTRY.values(), key=lambda rule: rule.name)


def rule_named(name: str) -> Rule:
    all_rules()
    return _REGISTRY[name]


# --- turning rules into pulumi_policy objects -------------------------------------------

def _validate_resource(rule: Rule) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    wanted = frozenset(rule.types)
    every_type = ANY_TYPE in wanted

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        # Silently skip other types: a not-applicable entry per resource and rule
        # would bloat every response of a 10,000-resource stack.
        if not every_type and args.resource_type not in wanted:
            return
        subject = Subject(
            type=args.resource_type, name=args.name, urn=args.urn, props=args.props,
            protect=bool(args.opts.protect) if args.opts else False,
            provider_props=args.provider.props if args.provider else {},
            config=rule.resolved_config(args.get_config()))
        try:
            rule.check(subject, lambda message: report(message, None))
        except Deferred as deferred:
            args.not_applicable(deferred.reason)

    return validate


def _validate_stack(rule: Rule) -> Callable[[StackValidationArgs, ReportViolation], None]:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        rule.check(StackSubject(list(args.resources), rule.resolved_config(args.get_config())),
                   report)

    return validate


def _schema(rule: Rule) -> PolicyConfigSchema | None:
    if not rule.settings:
        return None
    return PolicyConfigSchema({key: dict(value.schema) for key, value in rule.settings.items()})


def _enforcement(level: Level) -> EnforcementLevel:
    return EnforcementLevel(level)


def to_policy(rule: Rule) -> Policy:
    common: dict[str, Any] = {
        "name": rule.name,
        "description": rule.description,
        # Without a config file the pack behaves as in prod: fail closed.
        "enforcement_level": _enforcement(rule.levels.prod),
        "config_schema": _schema(rule),
        "severity": rule.severity,
        "framework": rule.framework,
        "tags": rule.tags,
        "remediation_steps": rule.remediation,
    }
    if rule.kind == "resource":
        return ResourceValidationPolicy(validate=_validate_resource(rule), **common)
    return StackValidationPolicy(validate=_validate_stack(rule), **common)


def build_policies() -> list[Policy]:
    return [to_policy(rule) for rule in all_rules()]


def rule_types() -> dict[str, frozenset[str] | None]:
    """The types each resource rule judges (None: every type), for the servicer's dispatch."""
    return {rule.name: None if ANY_TYPE in rule.types else frozenset(rule.types)
            for rule in all_rules() if rule.kind == "resource"}


PACK_INFO: dict[str, Any] = {
    "description": "Security and HA guardrails for hastack stacks",
    "display_name": "hastack guardrails",
    "provider": "aws,gcp,kubernetes",
    "tags": ["security", "high-availability"],
}


def build_policy_pack() -> None:
    """Serve the pack (blocks until interrupted, as the policy host expects).

    Served by `serve.SharedInputsServicer`, which answers as the SDK's own servicer
    but reads each request once instead of once per policy.
    """
    from hastack_policies.serve import SharedInputsServicer, serve

    policies = build_policies()
    # The SDK's PolicyPack checks (name, policies, levels) before serving: same here.
    if not PACK_NAME or not policies or not all(isinstance(p, Policy) for p in policies):
        raise TypeError("a policy pack needs a name and a list of policies")
    serve(SharedInputsServicer(
        PACK_NAME, "0.0.1", policies, EnforcementLevel.MANDATORY, None,
        PACK_INFO["description"], PACK_INFO["display_name"], None, PACK_INFO["provider"],
        PACK_INFO["tags"], None, types=rule_types()))


def tier_config(tier: str, *, overrides: bool = True) -> dict[str, dict[str, Any]]:
    """The `--policy-pack-config` document for a tier: the rules' per-tier settings, then
    the team's `policies/overrides/<tier>.json` (see overrides.py) unless told not to."""
    from hastack_policies.overrides import load_overrides

    rules = all_rules()
    document = {rule.name: rule.tier_config(tier) for rule in rules}
    if overrides:
        for name, entry in load_overrides(tier, rules).items():
            document[name].update(entry)
    return document


def render_tier_config(tier: str, *, overrides: bool = True) -> str:
    """policies/config/<tier>.json as committed (tests fail when it drifts from the rules)."""
    import json

    return json.dumps(tier_config(tier, overrides=overrides), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    # Regenerate the per-tier config files: `python -m hastack_policies.catalogue <dir>`.
    # Run as a script this file is `__main__`, a second copy of the module; the rule
    # modules register on the real `hastack_policies.catalogue`, so ask that one.
    import sys
    from pathlib import Path

    from hastack_policies import catalogue
    from hastack_policies.overrides import SCHEMA_PATH, render_schema

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "config")
    for each in catalogue.TIERS:
        (target / f"{each}.json").write_text(catalogue.render_tier_config(each))
    SCHEMA_PATH.write_text(render_schema(catalogue.all_rules()))
