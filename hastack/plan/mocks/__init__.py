"""Deterministic mocks for the offline plan.

Every ID, ARN, endpoint and zone list is derived from the resource's type, name
and region, never from time or randomness, so two plans of the same stack are
byte-identical. Per-cloud rules live in sibling modules (`aws`, `gcp`, `k8s`)
and register themselves in `OUTPUT_RULES` / `INVOKE_RULES`; an invoke the
program makes that no rule answers is an error, not a silent empty result.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks

from hastack.config.tiers import deep_merge

ACCOUNT_ID = "123456789012"


@dataclass(frozen=True)
class MockContext:
    """What a rule knows about the resource it fills in."""

    type: str
    name: str
    region: str | None
    project: str | None
    inputs: dict[str, Any]

    def digest(self, length: int = 17) -> str:
        seed = f"{self.type}|{self.name}|{self.region}".encode()
        return hashlib.sha256(seed).hexdigest()[:length]


OutputRule = Callable[[MockContext], dict[str, Any]]
IdRule = Callable[[MockContext], str]
InvokeRule = Callable[[dict[str, Any], "MockContext"], dict[str, Any]]

OUTPUT_RULES: dict[str, OutputRule] = {}
ID_RULES: dict[str, IdRule] = {}
PREFIX_OUTPUT_RULES: list[tuple[str, OutputRule]] = []
INVOKE_RULES: dict[str, InvokeRule] = {}


def outputs_for(type_token: str) -> Callable[[OutputRule], OutputRule]:
    """Decorator: register the computed outputs of one resource type."""

    def register(rule: OutputRule) -> OutputRule:
        OUTPUT_RULES[type_token] = rule
        return rule

    return register


def invoke(token: str) -> Callable[[InvokeRule], InvokeRule]:
    """Decorator: register the result of one data-source call."""

    def register(rule: InvokeRule) -> InvokeRule:
        INVOKE_RULES[token] = rule
        return rule

    return register


class UnmockedInvokeError(RuntimeError):
    pass


class UnknownStackReferenceError(RuntimeError):
    """A StackReference to a stack the offline plan has not planned."""


@dataclass(frozen=True)
class StackOutputs:
    """One stack's outputs as a StackReference sees them (secret values included)."""

    outputs: dict[str, Any]
    secret_names: tuple[str, ...] = ()


STACK_REFERENCE = "pulumi:pulumi:StackReference"
class InvokeFailure(Exception):
    """Raised by a rule for a lookup the provider would refuse (e.g. no such zone).

    Returned to the program as the engine returns a provider's failure, so the
    program sees the same catchable invoke error it would see in a real preview.
    """

    def __init__(self, prop: str, reason: str) -> None:
        super().__init__(reason)
        self.prop, self.reason = prop, reason


class PlanMocks(Mocks):
    """Mocks driven by the rule tables; providers carry the region of their resources."""

    def __init__(self, default_region: str | None = None,
                 default_project: str | None = None,
                 references: dict[str, StackOutputs] | None = None) -> None:
        self.default_region = default_region
        self.default_project = default_project
        # Fully qualified stack name -> its planned outputs.
        self.references = dict(references or {})
        self._provider_scope: dict[str, tuple[str | None, str | None]] = {}

    def _scope(self, provider_reference: str | None) -> tuple[str | None, str | None]:
        if provider_reference:
            provider_id = provider_reference.rsplit("::", 1)[-1]
            if provider_id in self._provider_scope:
                return self._provider_scope[provider_id]
        return self.default_region, self.default_project

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if args.typ.startswith("pulumi:providers:"):
            provider_id = f"{args.name}-provider"
            region = args.inputs.get("region") or self.default_region
            project = args.inputs.get("project") or self.default_project
            self._provider_scope[provider_id] = (region, project)
            return provider_id, dict(args.inputs)
        if args.typ == STACK_REFERENCE:
            return self._stack_reference(args)
        region, project = self._scope(args.provider)
        context = MockContext(args.typ, args.name, region, project, dict(args.inputs))
        computed: dict[str, Any] = {}
        for prefix, rule in PREFIX_OUTPUT_RULES:
            if args.typ.startswith(prefix):
                computed.update(rule(context))
        if args.typ in OUTPUT_RULES:
            computed.update(OUTPUT_RULES[args.typ](context))
        resource_id = ID_RULES[args.typ](context) if args.typ in ID_RULES else None
        resource_id = resource_id or computed.pop("id", None) or f"{args.name}-{context.digest(8)}"
        computed.pop("id", None)
        # Inputs win, but nested computed outputs (e.g. vpcConfig.clusterSecurityGroupId)
        # survive next to the nested inputs they sit beside.
        return resource_id, deep_merge(computed, dict(args.inputs))

    def _stack_reference(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        """Answer a StackReference with the referenced stack's planned outputs."""
        name = str(args.inputs.get("name") or args.resource_id or args.name)
        if name not in self.references:
            known = ", ".join(sorted(self.references)) or "none"
            raise UnknownStackReferenceError(
                f"StackReference to '{name}', which this offline plan has not planned "
                f"(planned: {known}); plan its environment's infrastructure stack first")
        target = self.references[name]
        return name, {"name": name, "outputs": target.outputs,
                      "secretOutputNames": list(target.secret_names)}

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        rule = INVOKE_RULES.get(args.token)
        if rule is None:
            raise UnmockedInvokeError(
                f"the offline plan has no mock for data source '{args.token}'; "
                "add one in hastack/plan/mocks/"
            )
        region, project = self._scope(args.provider)
        context = MockContext(args.token, "", region, project, dict(args.args))
        try:
            return rule(dict(args.args), context), []
        except InvokeFailure as failure:
            return {}, [(failure.prop, failure.reason)]


# Import the rule modules for their registrations.
from hastack.plan.mocks import aws as _aws  # noqa: E402,F401
from hastack.plan.mocks import aws_compute as _aws_compute  # noqa: E402,F401
from hastack.plan.mocks import aws_data as _aws_data  # noqa: E402,F401
from hastack.plan.mocks import gcp as _gcp  # noqa: E402,F401
from hastack.plan.mocks import k8s as _k8s  # noqa: E402,F401
from hastack.plan.mocks import random as _random  # noqa: E402,F401
