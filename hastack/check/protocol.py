"""Plan resources → analyzer protocol messages, shaped the way the engine sends them.

The engine marshals resource inputs with secrets kept (as secret-signature
objects) and unknowns kept (as sentinel strings); providers travel with their own
inputs; options carry protect, ignoreChanges, parent and timeouts. The plan
already holds all of that, only flattened to JSON, so this module rebuilds it.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
# What the engine sends for a value not known until the update (any type).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
# Markers the offline plan uses in place of secret and unknown values.
SECRET_MARKER = "[secret]"
UNKNOWN_MARKER = "[unknown]"

PROVIDER_PREFIX = "pulumi:providers:"
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def is_provider(resource: dict[str, Any]) -> bool:
    return str(resource.get("type", "")).startswith(PROVIDER_PREFIX)


def engine_value(value: Any) -> Any:
    """A plan value as the engine would marshal it: markers become secrets/unknowns."""
    if value == SECRET_MARKER:
        return {SIG_KEY: SECRET_SIG, "value": SECRET_MARKER}
    if value == UNKNOWN_MARKER:
        return UNKNOWN
    if isinstance(value, dict):
        return {key: engine_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [engine_value(item) for item in value]
    return value


def engine_inputs(resource: dict[str, Any], *, preview_unknowns: bool = False) -> dict[str, Any]:
    """The resource's inputs as the engine would send them.

    With `preview_unknowns`, every input computed from another resource (i.e. with
    property dependencies) becomes unknown, as in a first `pulumi preview` where
    nothing exists yet. That is coarser than the engine, which marks only the
    computed leaves, so it is a worst case for the rules.
    """
    inputs = copy.deepcopy(resource.get("inputs") or {})
    if preview_unknowns:
        for key, urns in (resource.get("propertyDependencies") or {}).items():
            if urns and key in inputs:
                inputs[key] = UNKNOWN
    return engine_value(inputs)


def to_struct(values: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    json_format.ParseDict(values, struct)
    return struct


def _seconds(duration: str | None) -> float:
    if not duration:
        return 0.0
    return sum(float(amount) * _SECONDS[unit] for amount, unit in _DURATION.findall(duration))


def resource_options(resource: dict[str, Any]) -> analyzer_pb2.AnalyzerResourceOptions:
    timeouts = resource.get("customTimeouts") or {}
    dbr = resource.get("deleteBeforeReplace")
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=bool(resource.get("protect")),
        ignoreChanges=list(resource.get("ignoreChanges") or []),
        deleteBeforeReplace=bool(dbr),
        deleteBeforeReplaceDefined=dbr is not None,
        additionalSecretOutputs=list(resource.get("additionalSecretOutputs") or []),
        aliases=[],
        # The engine always sends the timeouts message (zeros when unset).
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
            create=_seconds(timeouts.get("create")),
            update=_seconds(timeouts.get("update")),
            delete=_seconds(timeouts.get("delete")),
        ),
        parent=resource.get("parent") or "",
    )


class PlanIndex:
    """Resources of a plan by URN, and their providers as protocol messages."""

    def __init__(self, plan: dict[str, Any], *, preview_unknowns: bool = False) -> None:
        self.resources: list[dict[str, Any]] = list(plan.get("resources") or [])
        self.by_urn = {resource["urn"]: resource for resource in self.resources}
        self.preview_unknowns = preview_unknowns
        self._providers: dict[str, analyzer_pb2.AnalyzerProviderResource | None] = {}
        # Analyze and AnalyzeStack send the same inputs: marshal each resource's once.
        self._properties: dict[str, struct_pb2.Struct] = {}

    def provider(self, resource: dict[str, Any]) -> analyzer_pb2.AnalyzerProviderResource | None:
        urn = resource.get("provider")
        if not urn:
            return None
        if urn not in self._providers:
            found = self.by_urn.get(urn)
            # Providers' own inputs are literal config (region, project): never unknown.
            self._providers[urn] = None if found is None else analyzer_pb2.AnalyzerProviderResource(
                type=found["type"], urn=urn, name=found.get("name", ""),
                properties=to_struct(engine_inputs(found)))
        return self._providers[urn]

    def properties(self, resource: dict[str, Any]) -> struct_pb2.Struct:
        """The resource's inputs as a Struct (shared: copy it into a message, never change it)."""
        urn = resource["urn"]
        found = self._properties.get(urn)
        if found is None:
            found = to_struct(engine_inputs(resource, preview_unknowns=self.preview_unknowns))
            self._properties[urn] = found
        return found

    def analyze_request(self, resource: dict[str, Any]) -> analyzer_pb2.AnalyzeRequest:
        request = analyzer_pb2.AnalyzeRequest(
            type=resource["type"], urn=resource["urn"], name=resource.get("name", ""),
            properties=self.properties(resource), options=resource_options(resource))
        provider = self.provider(resource)
        if provider is not None:
            request.provider.CopyFrom(provider)
        return request

    def stack_resource(self, resource: dict[str, Any]) -> analyzer_pb2.AnalyzerResource:
        message = analyzer_pb2.AnalyzerResource(
            type=resource["type"], urn=resource["urn"], name=resource.get("name", ""),
            properties=self.properties(resource), options=resource_options(resource),
            parent=resource.get("parent") or "",
            dependencies=list(resource.get("dependencies") or []),
        )
        for key, urns in (resource.get("propertyDependencies") or {}).items():
            if urns:
                message.propertyDependencies[key].urns.extend(urns)
        provider = self.provider(resource)
        if provider is not None:
            message.provider.CopyFrom(provider)
        return message

    def analyzable(self) -> list[dict[str, Any]]:
        """What the engine calls Analyze on: custom resources, not providers."""
        return [r for r in self.resources if r.get("custom") and not is_provider(r)]
