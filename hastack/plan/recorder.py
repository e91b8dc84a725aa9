"""A mock resource monitor that keeps every registration request whole.

Pulumi's `MockMonitor` hands `Mocks.new_resource` only the type, name and
inputs. A plan needs what the engine sees: parent, dependencies, property
dependencies, provider, resource options and which inputs are secret. This
monitor records the raw `RegisterResourceRequest` before delegating to the stock
behaviour, so the program under test runs exactly as under the mock engine.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from pulumi.runtime.mocks import MockMonitor, Mocks

SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
SIG_KEY = "4dabf18193072939515e22adb298388d"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

# What a secret value becomes in a plan: its text never leaves the process.
SECRET_MARKER = "[secret]"
UNKNOWN_MARKER = "[unknown]"


class DuplicateUrnError(RuntimeError):
    """Two registrations with one URN: `pulumi up` would fail the same way."""


@dataclass
class Registration:
    """One `RegisterResource` call as the engine would receive it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    provider: str | None
    inputs: dict[str, Any]
    secret_inputs: list[str]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    protect: bool
    retain_on_delete: bool
    ignore_changes: list[str]
    delete_before_replace: bool | None
    custom_timeouts: dict[str, str] | None
    additional_secret_outputs: list[str]
    replace_on_changes: list[str]
    id: str | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    # The names (or URNs) a resource was known by before (`aliases`): not in the plan
    # JSON, for tests that a rename replaces nothing.
    aliases: list[str] = field(default_factory=list)


def scrub(value: Any, path: str, secrets: list[str]) -> Any:
    """Plain data from a deserialised protobuf Struct; secrets replaced by a marker.

    `secrets` collects the dotted paths of every secret found, so reviewers see
    *which* inputs are secret without ever seeing their values.
    """
    if isinstance(value, dict):
        sig = value.get(SIG_KEY)
        if sig == SECRET_SIG:
            secrets.append(path)
            return SECRET_MARKER
        if sig == RESOURCE_SIG:
            return {"resourceRef": value.get("urn", "")}
        if sig in (ASSET_SIG, ARCHIVE_SIG):
            kind = "asset" if sig == ASSET_SIG else "archive"
            return {kind: value.get("path") or value.get("uri") or "<inline>"}
        if sig == OUTPUT_SIG:
            if value.get("secret"):
                secrets.append(path)
                return SECRET_MARKER
            return scrub(value.get("value", UNKNOWN), path, secrets)
        return {
            key: scrub(item, f"{path}.{key}" if path else key, secrets)
            for key, item in sorted(value.items())
        }
    if isinstance(value, list):
        return [scrub(item, f"{path}[{index}]", secrets) for index, item in enumerate(value)]
    if value == UNKNOWN:
        return UNKNOWN_MARKER
    if isinstance(value, float) and value.is_integer():
        # protobuf Struct carries every number as a double; keep integers integral.
        return int(value)
    return value


def reveal(value: Any, secrets: set[str] | None = None, top: str | None = None) -> Any:
    """Plain data with secrets *kept* (unwrapped); `secrets` collects top-level keys holding one.

    Only for handing one offline stack's outputs to another through a StackReference,
    where they become secret again; never written to a plan file.
    """
    if isinstance(value, dict):
        sig = value.get(SIG_KEY)
        if sig == SECRET_SIG or (sig == OUTPUT_SIG and value.get("secret")):
            if secrets is not None and top is not None:
                secrets.add(top)
            return reveal(value.get("value", UNKNOWN), secrets, top)
        if sig == OUTPUT_SIG:
            return reveal(value.get("value", UNKNOWN), secrets, top)
        return {key: reveal(item, secrets, key if top is None else top)
                for key, item in value.items()}
    if isinstance(value, list):
        return [reveal(item, secrets, top) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _provider_urn(reference: str) -> str | None:
    if not reference:
        return None
    return reference.rsplit("::", 1)[0]


class RecordingMonitor(MockMonitor):
    """MockMonitor that records registrations and stack outputs."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.registrations: dict[str, Registration] = {}
        self.stack_outputs: dict[str, Any] = {}
        self.stack_output_secrets: list[str] = []
        # Unscrubbed, for StackReferences between offline plans only.
        self.stack_outputs_raw: dict[str, Any] = {}
        self.stack_secret_output_names: list[str] = []
        self.duplicate_urns: list[str] = []
        self._claimed_urns: set[str] = set()
        self._lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        # Registrations arrive on several executor threads: check and claim the URN
        # atomically, or two clashing registrations could both pass the check.
        with self._lock:
            duplicate = urn in self._claimed_urns
            self._claimed_urns.add(urn)
        if duplicate:
            # The engine refuses a second registration of a URN; so must the plan, or
            # one region's resource would silently replace the other's. Recorded here
            # and raised by the runner on the main thread: an exception raised in this
            # executor thread would travel through the SDK's RPC machinery instead.
            with self._lock:
                self.duplicate_urns.append(urn)
            return super().RegisterResource(request)
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        secrets: list[str] = []
        inputs = scrub(json_format.MessageToDict(request.object), "", secrets)
        outputs = scrub(json_format.MessageToDict(response.object), "", [])
        timeouts = request.customTimeouts
        registration = Registration(
            urn=response.urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            parent=request.parent or None,
            provider=_provider_urn(request.provider),
            inputs=inputs,
            secret_inputs=sorted(set(secrets)),
            dependencies=sorted(set(request.dependencies)),
            property_dependencies={
                key: sorted(set(deps.urns))
                for key, deps in sorted(request.propertyDependencies.items())
                if deps.urns
            },
            protect=bool(request.protect),
            retain_on_delete=bool(request.retainOnDelete),
            ignore_changes=sorted(request.ignoreChanges),
            delete_before_replace=(
                bool(request.deleteBeforeReplace) if request.deleteBeforeReplaceDefined else None
            ),
            custom_timeouts=(
                {k: v for k, v in (("create", timeouts.create), ("update", timeouts.update),
                                   ("delete", timeouts.delete)) if v}
                if request.HasField("customTimeouts") else None
            ) or None,
            additional_secret_outputs=sorted(request.additionalSecretOutputs),
            replace_on_changes=sorted(request.replaceOnChanges),
            id=response.id or None,
            outputs=outputs,
            # An alias is a URN or a spec (pulumi proto alias.proto); the spec's name.
            aliases=sorted({*request.aliasURNs,
                            *(alias.urn or alias.spec.name for alias in request.aliases)}
                           - {""}),
        )
        with self._lock:
            self.registrations[registration.urn] = registration
        return response

    def ReadResource(self, request: Any) -> Any:
        """Reads (a StackReference is one) appear in the plan with their inputs only.

        Their outputs are another stack's outputs, secrets included: never recorded.
        """
        response = super().ReadResource(request)
        inputs = scrub(json_format.MessageToDict(request.properties), "", [])
        registration = Registration(
            urn=response.urn, type=request.type, name=request.name, custom=True,
            parent=request.parent or None, provider=_provider_urn(request.provider),
            inputs={k: v for k, v in inputs.items() if v not in (None, UNKNOWN_MARKER)},
            secret_inputs=[], dependencies=sorted(set(request.dependencies)),
            property_dependencies={}, protect=False, retain_on_delete=False,
            ignore_changes=[], delete_before_replace=None, custom_timeouts=None,
            additional_secret_outputs=sorted(request.additionalSecretOutputs),
            replace_on_changes=[], id=request.id or None, outputs={})
        with self._lock:
            if response.urn in self.registrations:
                self.duplicate_urns.append(response.urn)
            self.registrations[registration.urn] = registration
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn.split("::")[2] == "pulumi:pulumi:Stack":
            secrets: list[str] = []
            document = json_format.MessageToDict(request.outputs)
            outputs = scrub(document, "", secrets)
            secret_names: set[str] = set()
            raw = reveal(document, secret_names)
            with self._lock:
                self.stack_outputs = outputs
                self.stack_output_secrets = sorted(set(secrets))
                self.stack_outputs_raw = raw
                self.stack_secret_output_names = sorted(secret_names)
        return super().RegisterResourceOutputs(request)
