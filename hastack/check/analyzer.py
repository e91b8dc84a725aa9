"""Run the policy pack on a plan exactly as the Pulumi engine would: over gRPC.

`PolicyHost` starts the pack the way the engine's Python language host does
(`python -m pulumi.policy <engine address> <pack dir>`), reads the port it prints,
and talks to it with the generated `AnalyzerStub`. `check_plan` then plays the
engine's part of a preview: GetAnalyzerInfo, Configure (the tier's config file),
ConfigureStack, one Analyze per custom resource and one AnalyzeStack.

Nothing here imports the rules: what is checked is what the pack serves.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from hastack.check.protocol import SECRET_MARKER, PlanIndex, to_struct

# The engine address is only used by packs that call back into the engine; ours do not.
PLACEHOLDER_ENGINE = "127.0.0.1:1"
STARTUP_TIMEOUT_SECONDS = 120.0
MAX_MESSAGE_BYTES = 400 * 1024 * 1024  # the SDK's own server limit
# The SDK reports a rule that read an unknown value with this prefix (advisory).
CANT_RUN_PREFIX = "can't run policy"

ENFORCEMENT_BY_NAME = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "remediate": analyzer_pb2.REMEDIATE,
    "disabled": analyzer_pb2.DISABLED,
}


class PolicyHostError(RuntimeError):
    """The pack could not be started or answered with an error."""


def enforcement_name(level: int) -> str:
    return str(analyzer_pb2.EnforcementLevel.Name(level)).lower()


def severity_name(level: int) -> str:
    name = str(analyzer_pb2.PolicySeverity.Name(level))
    return name.removeprefix("POLICY_SEVERITY_").lower()


@dataclass(frozen=True)
class PolicyInfo:
    """One policy as GetAnalyzerInfo describes it, plus its level for this run."""

    name: str
    description: str
    display_name: str
    kind: str
    severity: str
    default_enforcement: str
    enforcement: str
    framework: str
    reference: str
    tags: tuple[str, ...]
    remediation: str
    url: str
    config_keys: tuple[str, ...]


@dataclass(frozen=True)
class Finding:
    policy: str
    message: str
    enforcement: str
    severity: str
    urn: str
    resource_type: str
    resource_name: str
    component: str
    # "violation", or "unknown" when the SDK could not run the rule on unknown inputs.
    kind: str = "violation"


@dataclass(frozen=True)
class Deferral:
    policy: str
    urn: str
    reason: str


@dataclass
class CheckResult:
    stack: str
    project: str
    cloud: str
    tier: str
    stack_file: str
    pack_name: str
    pack_version: str
    policies: list[PolicyInfo]
    findings: list[Finding]
    deferred: list[Deferral]
    resources_analyzed: int
    resources_total: int
    elapsed_seconds: float
    preview_unknowns: bool
    config_file: str
    stderr_tail: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def mandatory(self) -> list[Finding]:
        return [f for f in self.findings if f.enforcement == "mandatory"]

    @property
    def passed(self) -> bool:
        return not self.mandatory


class PolicyHost:
    """A running policy pack process and a gRPC stub connected to it."""

    def __init__(self, pack_dir: Path, *, project: str, stack: str, dry_run: bool = True,
                 python: str | None = None) -> None:
        self.pack_dir = pack_dir.resolve()
        self.project, self.stack, self.dry_run = project, stack, dry_run
        self.python = python or sys.executable
        self.process: subprocess.Popen[bytes] | None = None
        self.channel: grpc.Channel | None = None
        self._stderr: IO[bytes] | None = None
        self.port: int | None = None

    def __enter__(self) -> PolicyHost:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        # Drop stack config a surrounding `pulumi` run may have exported.
        env.pop("PULUMI_CONFIG", None)
        env.update({
            "PULUMI_PROJECT": self.project,
            "PULUMI_STACK": self.stack,
            "PULUMI_DRY_RUN": "true" if self.dry_run else "false",
            # The SDK prints the port without flushing; a pipe would hold it back.
            "PYTHONUNBUFFERED": "1",
        })
        return env

    def start(self) -> None:
        # Closed in stop(); a file, not a pipe, so a chatty pack can never block on it.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        self.process = subprocess.Popen(
            [self.python, "-m", "pulumi.policy", PLACEHOLDER_ENGINE, str(self.pack_dir)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr,
            env=self._environment(), cwd=str(self.pack_dir))
        try:
            self.port = self._read_port()
        except BaseException:
            self.stop()
            raise
        self.channel = grpc.insecure_channel(
            f"127.0.0.1:{self.port}",
            options=[("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                     ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)])
        grpc.channel_ready_future(self.channel).result(timeout=STARTUP_TIMEOUT_SECONDS)

    def _read_port(self) -> int:
        assert self.process is not None and self.process.stdout is not None
        lines: queue.Queue[bytes] = queue.Queue()
        stdout = self.process.stdout
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            text = line.decode().strip()
            if text.isdigit():
                return int(text)
            break
        raise PolicyHostError(f"the policy pack did not start:\n{self.stderr_tail()}")

    def stderr_tail(self, limit: int = 4000) -> str:
        if self._stderr is None or self._stderr.closed:
            return ""
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-limit:]

    @property
    def stub(self) -> analyzer_pb2_grpc.AnalyzerStub:
        if self.channel is None:
            raise PolicyHostError("the policy host is not running")
        return analyzer_pb2_grpc.AnalyzerStub(self.channel)

    def cpu_seconds(self) -> float | None:
        """CPU time (user+sys) the pack's process has used so far; None off Linux."""
        if self.process is None:
            return None
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        # Fields 14 and 15 of proc(5) (utime, stime), counted after the ")" of the name.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=10)
            if self.process.stdout is not None:
                self.process.stdout.close()
            self.process = None
        if self._stderr is not None:
            self._stderr.close()


@contextmanager
def policy_host(pack_dir: Path, *, project: str, stack: str) -> Iterator[PolicyHost]:
    host = PolicyHost(pack_dir, project=project, stack=stack)
    try:
        host.start()
        yield host
    finally:
        host.stop()


def pack_version(pack_dir: Path, served: str) -> str:
    """The engine prefers PulumiPolicy.yaml's version over what a Python pack serves."""
    import yaml

    project = pack_dir / "PulumiPolicy.yaml"
    if project.is_file():
        declared = (yaml.safe_load(project.read_text()) or {}).get("version")
        if declared:
            return str(declared)
    return served


def load_tier_config(pack_dir: Path, tier: str) -> tuple[dict[str, Any], Path]:
    path = pack_dir / "config" / f"{tier}.json"
    if not path.is_file():
        raise PolicyHostError(f"no policy config for tier {tier!r} at {path}")
    return json.loads(path.read_text()), path


def configure_request(config: dict[str, Any], info: analyzer_pb2.AnalyzerInfo
                      ) -> analyzer_pb2.ConfigureAnalyzerRequest:
    """The Configure call `--policy-pack-config` makes, plus the plan's secret marker.

    Policies whose schema declares `secretsRedactedAs` are told the plan's marker:
    in a plan, a secret input *is* that marker, so anything else is clear text.
    """
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    declared = {policy.name: set(policy.configSchema.properties.keys())
                for policy in info.policies}
    for name in declared:
        entry = dict(config.get(name) or {})
        level = entry.pop("enforcementLevel", None)
        if "secretsRedactedAs" in declared[name]:
            entry["secretsRedactedAs"] = SECRET_MARKER
        if level is None and not entry:
            continue
        policy_config = analyzer_pb2.PolicyConfig(properties=to_struct(entry))
        if level is not None:
            policy_config.enforcementLevel = ENFORCEMENT_BY_NAME[level]
        request.policyConfig[name].CopyFrom(policy_config)
    return request


def _policy_infos(info: analyzer_pb2.AnalyzerInfo, config: dict[str, Any]) -> list[PolicyInfo]:
    kinds = {analyzer_pb2.POLICY_TYPE_RESOURCE: "resource", analyzer_pb2.POLICY_TYPE_STACK: "stack"}
    found = []
    for policy in info.policies:
        default = enforcement_name(policy.enforcementLevel)
        configured = (config.get(policy.name) or {}).get("enforcementLevel", default)
        found.append(PolicyInfo(
            name=policy.name, description=policy.description,
            display_name=policy.displayName or policy.name,
            kind=kinds.get(policy.policy_type, "unknown"),
            severity=severity_name(policy.severity), default_enforcement=default,
            enforcement=configured, framework=policy.framework.name,
            reference=policy.framework.reference, tags=tuple(policy.tags),
            remediation=policy.remediation_steps, url=policy.url,
            config_keys=tuple(sorted(policy.configSchema.properties.keys()))))
    return found


class _Collector:
    def __init__(self, index: PlanIndex) -> None:
        self.index = index
        self.findings: list[Finding] = []
        self.deferred: list[Deferral] = []
        self._lock = threading.Lock()

    def add(self, response: analyzer_pb2.AnalyzeResponse, urn: str) -> None:
        with self._lock:
            for diagnostic in response.diagnostics:
                target = diagnostic.urn or urn
                resource = self.index.by_urn.get(target, {})
                unknown = diagnostic.message.startswith(CANT_RUN_PREFIX)
                self.findings.append(Finding(
                    policy=diagnostic.policyName,
                    message=_strip_description(diagnostic.message, diagnostic.description),
                    enforcement=enforcement_name(diagnostic.enforcementLevel),
                    severity=severity_name(diagnostic.severity),
                    urn=target, resource_type=resource.get("type", ""),
                    resource_name=resource.get("name", ""),
                    component=resource.get("component") or "",
                    kind="unknown" if unknown else "violation"))
            for skipped in response.not_applicable:
                if skipped.reason:
                    self.deferred.append(Deferral(skipped.policy_name, urn, skipped.reason))


def _strip_description(message: str, description: str) -> str:
    """The SDK prefixes every message with the policy description; keep the specific part."""
    if description and message.startswith(description + "\n"):
        return message[len(description) + 1:]
    return message


def check_plan(plan: dict[str, Any], pack_dir: Path, *, tier: str | None = None,
               preview_unknowns: bool = False, in_flight: int = 32) -> CheckResult:
    """Run the pack on `plan` through the analyzer protocol and collect what it reports."""
    started = time.perf_counter()
    tier = tier or plan.get("tier") or "prod"
    config, config_path = load_tier_config(pack_dir, tier)
    index = PlanIndex(plan, preview_unknowns=preview_unknowns)
    project, stack = plan.get("project", "hastack"), plan.get("stack", "stack")
    # Wall seconds per phase, and the pack process's CPU seconds where it can be read.
    timings: dict[str, float] = {}
    with policy_host(pack_dir, project=project, stack=stack) as host:
        timings["start"] = time.perf_counter() - started

        def host_cpu(phase: str, since: float | None) -> float | None:
            now = host.cpu_seconds()
            if now is not None and since is not None:
                timings[f"{phase}HostCpu"] = now - since
            return now

        stub = host.stub
        info = stub.GetAnalyzerInfo(empty_pb2.Empty())
        stub.Configure(configure_request(config, info))
        stub.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=stack, project=project, organization="organization", dry_run=True,
            tags={"hastack:tier": tier, "hastack:cloud": str(plan.get("cloud", ""))}))
        collector = _Collector(index)
        analyzable = index.analyzable()
        mark, cpu = time.perf_counter(), host.cpu_seconds()

        # As the engine does, many Analyze calls are in flight at once (the pack's
        # server handles them on its own threads); a window bounds the memory held.
        window: deque[tuple[Any, str]] = deque()
        for resource in analyzable:
            if len(window) >= max(1, in_flight):
                call, urn = window.popleft()
                collector.add(call.result(), urn)
            window.append((stub.Analyze.future(index.analyze_request(resource)),
                           resource["urn"]))
        while window:
            call, urn = window.popleft()
            collector.add(call.result(), urn)
        timings["analyze"] = time.perf_counter() - mark
        cpu = host_cpu("analyze", cpu)
        mark = time.perf_counter()
        stack_request = analyzer_pb2.AnalyzeStackRequest(
            resources=[index.stack_resource(resource) for resource in index.resources])
        collector.add(stub.AnalyzeStack(stack_request), "")
        timings["analyzeStack"] = time.perf_counter() - mark
        host_cpu("analyzeStack", cpu)
        stderr = host.stderr_tail()
    findings = sorted(collector.findings, key=lambda f: (f.policy, f.urn, f.message))
    deferred = sorted(collector.deferred, key=lambda d: (d.policy, d.urn))
    return CheckResult(
        stack=stack, project=project, cloud=str(plan.get("cloud", "")), tier=tier,
        stack_file=plan.get("stackFile") or f"stacks/Pulumi.{stack}.yaml",
        pack_name=info.name, pack_version=pack_version(pack_dir, info.version),
        policies=_policy_infos(info, config),
        findings=findings, deferred=deferred, resources_analyzed=len(analyzable),
        resources_total=len(index.resources), elapsed_seconds=time.perf_counter() - started,
        preview_unknowns=preview_unknowns, config_file=str(config_path), stderr_tail=stderr,
        timings=timings)
