"""Serving the pack: the SDK's analyzer, with each request's inputs read once.

The SDK's servicer (pulumi-policy 1.21) turns a request's properties into Python
(MessageToDict, deserialisation, the unknown-checking proxy, the provider's inputs)
once *per policy*: 60 resource policies meant 60 conversions of every resource, and
16 stack policies 16 conversions of the whole stack, which made the conversions,
not the rules, 95% of a check. This servicer converts each request once and hands
the same read-only view to every policy, and skips resource policies whose rule
declares other types before building anything for them (their validate would
return at once). Everything else is the SDK's own code: enforcement levels,
config, report_violation, not-applicable entries, "can't run policy" diagnostics.

`tests/policies/test_serve.py` checks that both servicers answer every request of
the test plans identically.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Mapping
from concurrent import futures
from inspect import isawaitable
from typing import Any

import grpc
from google.protobuf import json_format
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc
from pulumi_policy import policy as sdk
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.policy import (
    EnforcementLevel,
    Policy,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

Validate = Callable[[Any, Any], Any]
# A resource policy to run and its level (None: it implements no validate).
Dispatch = tuple[ResourceValidationPolicy, EnforcementLevel | None]


class SharedInputsServicer(sdk._PolicyAnalyzerServicer):
    """The SDK servicer, converting each Analyze/AnalyzeStack request once.

    `types` maps a resource policy's name to the resource types its rule judges
    (None: every type); policies not named there are always run.
    """

    def __init__(self, *args: Any, types: Mapping[str, frozenset[str] | None]) -> None:
        super().__init__(*args)
        self._types = dict(types)
        # Per resource type, the resource policies to run and their levels (None: report
        # "does not implement validate"), in the pack's order. Levels change only on
        # Configure, which clears it.
        self._dispatch: dict[str, list[Dispatch]] = {}

    def Configure(self, request: Any, context: Any) -> Any:
        self._dispatch = {}
        return super().Configure(request, context)

    def _resource_policies(self, type_token: str
                           ) -> list[Dispatch]:
        found = self._dispatch.get(type_token)
        if found is None:
            found = []
            for policy in self._policies:
                level = self._get_enforcement_level(policy)
                if level == EnforcementLevel.DISABLED or not isinstance(
                        policy, ResourceValidationPolicy):
                    continue
                if not policy.has_validation():
                    found.append((policy, None))
                    continue
                wanted = self._types.get(policy.name)
                if wanted is not None and type_token not in wanted:
                    continue
                if level == EnforcementLevel.REMEDIATE:
                    level = EnforcementLevel.MANDATORY
                found.append((policy, level))
            self._dispatch[type_token] = found
        return found

    @property
    def _policies(self) -> list[Policy]:
        policies: list[Policy] = self._PolicyAnalyzerServicer__policies  # type: ignore[attr-defined]
        return policies

    def _unknown_diagnostic(self, policy: Policy, error: UnknownValueError) -> Any:
        pack = self._PolicyAnalyzerServicer__policy_pack_name  # type: ignore[attr-defined]
        version = self._PolicyAnalyzerServicer__policy_pack_version  # type: ignore[attr-defined]
        return proto.AnalyzeDiagnostic(
            policyName=policy.name, policyPackName=pack, policyPackVersion=version,
            message=(f"can't run policy '{policy.name}' from policy pack "
                     f"'{pack}@v{version}' during preview: {error.message}"),
            urn="", description=policy.description,
            enforcementLevel=self._map_enforcement_level(EnforcementLevel.ADVISORY))

    def _run(self, response: Any, policy: Policy, validate: Validate, args: Any,
             report: Any) -> None:
        try:
            result = validate(args, report)
            if isawaitable(result):
                loop = asyncio.new_event_loop()
                loop.run_until_complete(result)
                loop.close()
        except UnknownValueError as error:
            response.diagnostics.append(self._unknown_diagnostic(policy, error))
        except sdk._NotApplicableError as error:
            response.not_applicable.append(proto.PolicyNotApplicable(
                policy_name=policy.name, reason=error.reason or ""))

    def Analyze(self, request: Any, _context: Any) -> Any:
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        shared: tuple[Any, Any, Any] | None = None
        for policy, level in self._resource_policies(request.type):
            if level is None:
                response.not_applicable.append(proto.PolicyNotApplicable(
                    policy_name=policy.name, reason="Policy does not implement validate"))
                continue
            if shared is None:
                props = unknown_checking_proxy(
                    deserialize_properties(json_format.MessageToDict(request.properties)))
                shared = (props, self._get_resource_options(request),
                          self._get_provider_resource(request))
            props, opts, provider = shared
            report = self._create_report_violation(
                response, policy.name, policy.description, level, policy.severity)
            args = ResourceValidationArgs(
                request.type, props, request.urn, request.name, opts, provider,
                self._get_policy_config(policy.name), self._PolicyAnalyzerServicer__stack_tags)  # type: ignore[attr-defined]
            self._run(response, policy, policy.validate, args, report)
        return response

    def _stack_resources(self, request: Any) -> list[PolicyResource]:
        resources: list[PolicyResource] = []
        links: list[tuple[PolicyResource, Any]] = []
        # Every resource carries its provider: read each provider once per request.
        providers: dict[str | None, Any] = {}
        for message in request.resources:
            props = unknown_checking_proxy(
                deserialize_properties(json_format.MessageToDict(message.properties)))
            provider_urn = message.provider.urn if message.HasField("provider") else None
            if provider_urn not in providers:
                providers[provider_urn] = self._get_provider_resource(message)
            resource = PolicyResource(
                message.type, props, message.urn, message.name,
                self._get_resource_options(message), providers[provider_urn], None, [], {})
            resources.append(resource)
            links.append((resource, message))
        by_urn = {resource.urn: resource for resource in resources}
        for resource, message in links:
            if message.parent in by_urn:
                resource.parent = by_urn[message.parent]
            resource.dependencies.extend(
                by_urn[urn] for urn in message.dependencies if urn in by_urn)
            for key, urns in message.propertyDependencies.items():
                resource.property_dependencies[key] = [
                    by_urn[urn] for urn in urns.urns if urn in by_urn]
        return resources

    def AnalyzeStack(self, request: Any, _context: Any) -> Any:
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        resources: list[PolicyResource] | None = None
        for policy in self._policies:
            level = self._get_enforcement_level(policy)
            if level == EnforcementLevel.DISABLED or not isinstance(
                    policy, StackValidationPolicy):
                continue
            if level == EnforcementLevel.REMEDIATE:
                level = EnforcementLevel.MANDATORY
            if resources is None:
                resources = self._stack_resources(request)
            report = self._create_report_violation(
                response, policy.name, policy.description, level, policy.severity)
            args = StackValidationArgs(
                resources, self._get_policy_config(policy.name),
                self._PolicyAnalyzerServicer__stack_tags)  # type: ignore[attr-defined]
            self._run(response, policy, policy.validate, args, report)
        return response


def serve(servicer: SharedInputsServicer) -> None:
    """Start the analyzer server, print its port, serve until killed (as the SDK does)."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                         options=sdk._GRPC_CHANNEL_OPTIONS)
    analyzer_pb2_grpc.add_AnalyzerServicer_to_server(servicer, server)
    port = server.add_insecure_port(address="127.0.0.1:0")
    server.start()
    sys.stdout.buffer.write(f"{port}\n".encode())
    try:
        while True:
            time.sleep(86400)
    except KeyboardInterrupt:
        server.stop(0)
