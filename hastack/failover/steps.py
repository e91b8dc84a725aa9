"""The ordered steps of a failover, derived from the environment's offline plans.

Pure data: building the steps makes no cloud call, so `--dry-run` shows exactly what
a real run would do, in the order it would do it: preflight first, the database
before anything that writes, the stack file only after the cloud steps succeeded,
the workloads after the stack file, verification last.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Kind = Literal["preflight", "database", "cache", "workloads", "dns", "config", "verify"]
Mode = Literal["planned", "unplanned"]
KIND_ORDER: tuple[Kind, ...] = ("preflight", "database", "cache", "config", "dns",
                                "workloads", "verify")


@dataclass(frozen=True)
class Step:
    kind: Kind
    action: str
    region: str
    # What the executor needs (identifiers, the stack file and key); not shown as prose.
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "action": self.action, "region": self.region}


@dataclass(frozen=True)
class FailoverPlan:
    stack: str
    source: str
    target: str
    mode: Mode
    cloud: str
    steps: tuple[Step, ...]

    def as_json(self) -> dict[str, Any]:
        return {"stack": self.stack, "from": self.source, "to": self.target, "mode": self.mode,
                "steps": [step.as_json() for step in self.steps]}

    def fingerprint(self) -> dict[str, Any]:
        """What a journal must match to be resumed: same request, same steps."""
        return {**self.as_json(), "details": [asdict(step)["details"] for step in self.steps]}


class FailoverError(ValueError):
    """A failover that cannot be asked for (exit 2, nothing changed)."""


def _resources(plan: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    return [r for r in plan["resources"] if r["type"] == type_]


def build_steps(infrastructure: dict[str, Any], target: str, mode: Mode,
                stack_file: str) -> FailoverPlan:
    """The steps to make `target` the active region of the planned environment."""
    env = infrastructure["stack"]
    contract = infrastructure.get("outputs", {}).get("workloads") or {}
    regions = sorted(contract.get("regions", {}))
    source = str(contract.get("activeRegion") or "")
    if len(regions) < 2:
        raise FailoverError(f"{env} builds one region ({', '.join(regions) or 'none'}): "
                            "there is nowhere to fail over to")
    if target not in regions:
        raise FailoverError(f"--to {target}: not a region of {env}; allowed: "
                            f"{', '.join(r for r in regions if r != source)}")
    if target == source:
        raise FailoverError(f"--to {target}: already the active region of {env}")
    cloud = infrastructure.get("cloud", "aws")
    steps = _aws_steps(infrastructure, env, source, target, mode) if cloud == "aws" \
        else _gcp_steps(infrastructure, env, source, target, mode)
    steps += [
        Step("config", f"set hastack:activeRegion: {target} in {stack_file}", target,
             {"stackFile": stack_file, "key": "hastack:activeRegion", "value": target}),
        Step("dns", f"pulumi up {env}: the failover records and health policy now prefer "
                    f"{target}", target, {"stack": env}),
        Step("workloads", f"pulumi up {env}-{target} (active) and {env}-{source} (standby, "
                          "skipped if its region is down)", target,
             {"stacks": [f"{env}-{target}", f"{env}-{source}"]}),
        Step("verify", f"hastack verify {env}: {target} is the writer and serves", target, {}),
    ]
    ordered = tuple(sorted(steps, key=lambda s: KIND_ORDER.index(s.kind)))
    return FailoverPlan(env, source, target, mode, cloud, ordered)


def _aws_steps(plan: dict[str, Any], env: str, source: str, target: str,
               mode: Mode) -> list[Step]:
    global_clusters = _resources(plan, "aws:rds/globalCluster:GlobalCluster")
    if len(global_clusters) != 1:
        raise FailoverError(f"{env} has no Aurora global database to fail over")
    identifier = global_clusters[0]["inputs"]["globalClusterIdentifier"]
    target_cluster = next(r["inputs"]["clusterIdentifier"]
                          for r in _resources(plan, "aws:rds/cluster:Cluster")
                          if r["region"] == target)
    steps = [Step("preflight", f"{target} answers and its Aurora cluster {target_cluster} "
                               "is available", target,
                  {"check": "target-health", "cluster": target_cluster})]
    if mode == "unplanned":
        steps.append(Step("preflight", "AuroraGlobalDBRPOLag of the target cluster is known "
                                       "and within the region RPO target", target,
                          {"check": "replication-lag", "cluster": target_cluster}))
        action = (f"failover_global_cluster {identifier} -> {target_cluster} "
                  "(AllowDataLoss: un-replicated writes are lost)")
    else:
        action = f"switchover_global_cluster {identifier} -> {target_cluster} (no data loss)"
    steps.append(Step("database", action, target, {
        "globalClusterIdentifier": identifier, "targetCluster": target_cluster,
        "allowDataLoss": mode == "unplanned"}))
    steps.append(Step("cache", "nothing to move: each region has its own Redis; the "
                               f"{target} cache becomes the active one", target, {}))
    return steps


def _gcp_steps(plan: dict[str, Any], env: str, source: str, target: str,
               mode: Mode) -> list[Step]:
    replicas = [r for r in _resources(plan, "gcp:sql/databaseInstance:DatabaseInstance")
                if r["region"] == target]
    if not replicas:
        raise FailoverError(f"{env} has no Cloud SQL instance in {target}")
    name = replicas[0]["inputs"].get("name", replicas[0]["name"])
    return [
        Step("preflight", f"{target}'s endpoint health check reports healthy", target,
             {"check": "target-health"}),
        Step("database", f"Cloud SQL Admin API instances.promoteReplica {name} "
                         "(one-way; the replica keeps its IP)", target, {"instance": name}),
        Step("cache", "nothing to move: each region has its own Memorystore", target, {}),
    ]
