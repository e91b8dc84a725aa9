"""The ordered steps of a failover, derived from the environment's offline plans.

Pure data: building the steps makes no cloud call, so `--dry-run` shows exactly what
a real run would do, in the order it would do it: preflight first, the database
before anything that writes, the stack file only after the cloud steps succeeded,
the `pulumi up` of the workloads after the stack file, verification last. On GCP the
cloud steps include scaling the orchestrators through the Kubernetes API (the old
region's to zero before a planned promotion, the new region's up after the database
moved), so they too come before the stack file changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from hastack.failover.deployments import orchestrator_deployments

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
                stack_file: str,
                workloads: Mapping[str, dict[str, Any]] | None = None) -> FailoverPlan:
    """The steps to make `target` the active region of the planned environment.

    `workloads` (region -> that region's workloads plan) names the orchestrator
    Deployments a GCP failover scales through the Kubernetes API.
    """
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
        else _gcp_steps(infrastructure, env, source, target, mode, workloads or {})
    dns = (f"pulumi up {env}: the failover records and health policy now prefer {target}"
           if cloud == "aws" else
           f"pulumi up --refresh {env}: the Cloud DNS primary/backup policy names {target} "
           f"primary (until then Cloud DNS already answers with {target} whenever {source}'s "
           "health check fails; nothing to call), and Cloud SQL's new roles get their "
           "backups, PITR and DR replica designation (refreshed first: the API swapped them)")
    follow_ups = [
        Step("config", f"set hastack:activeRegion: {target} in {stack_file}", target,
             {"stackFile": stack_file, "key": "hastack:activeRegion", "value": target}),
        Step("dns", dns, target, {"stack": env}),
        Step("workloads", f"pulumi up {env}-{target} (active) and {env}-{source} (standby, "
                          "skipped if its region is down)", target,
             {"stacks": [f"{env}-{target}", f"{env}-{source}"]}),
        Step("verify", f"hastack verify {env}: {target} is the writer and serves", target, {}),
    ]
    # The cloud steps keep the order their builder gives them (a GCP failover scales
    # the target's orchestrator itself, before the stack file changes); the stack
    # file and what follows it always come after every cloud step.
    ordered = (*steps, *sorted(follow_ups, key=lambda s: KIND_ORDER.index(s.kind)))
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
    arc = _region_switch_plan(plan)
    if arc is not None:
        steps.append(_arc_step(arc, target, mode))
    else:
        steps.append(Step("database", action, target, {
            "globalClusterIdentifier": identifier, "targetCluster": target_cluster,
            "allowDataLoss": mode == "unplanned"}))
    steps.append(Step("cache", "nothing to move: each region has its own Redis; the "
                               f"{target} cache becomes the active one", target, {}))
    return steps


ARC_PLAN = "aws:arcregionswitch/plan:Plan"


def _region_switch_plan(plan: dict[str, Any]) -> dict[str, Any] | None:
    plans = _resources(plan, ARC_PLAN)
    return plans[0]["inputs"] if len(plans) == 1 else None


def _arc_step(arc: dict[str, Any], target: str, mode: Mode) -> Step:
    """The database, orchestrator and DNS cloud work: one ARC plan execution."""
    workflow = next((w for w in arc.get("workflows", [])
                     if w.get("workflowTargetAction") == "activate"
                     and w.get("workflowTargetRegion") == target), None)
    if workflow is None:
        raise FailoverError(f"the Region switch plan {arc['name']} has no workflow that "
                            f"activates {target}")
    names = [s["name"] for s in workflow.get("steps", [])]
    execution = "graceful" if mode == "planned" else "ungraceful"
    database = ("Aurora failover, un-replicated writes lost" if mode == "unplanned"
                else "Aurora switchover, no data loss")
    return Step("database", f"ARC Region switch plan {arc['name']}: activate {target} "
                            f"({execution}: {database}); steps {' -> '.join(names)}", target,
                {"executor": "arc", "planName": arc["name"], "targetRegion": target,
                 "mode": mode, "steps": names})


def _instance(plan: dict[str, Any], region: str, env: str) -> dict[str, Any]:
    found = [r for r in _resources(plan, "gcp:sql/databaseInstance:DatabaseInstance")
             if r["region"] == region]
    if not found:
        raise FailoverError(f"{env} has no Cloud SQL instance in {region}")
    return found[0]


def instance_id(name: str | None) -> str:
    """"project:instance" (how Cloud SQL stores references) or "instance" -> "instance"."""
    return (name or "").rsplit(":", 1)[-1]


def _advanced_dr(source: dict[str, Any], target: dict[str, Any]) -> bool:
    """Switchover / replica failover need Enterprise Plus and the target designated
    as the primary's DR replica (Cloud SQL "Use advanced disaster recovery")."""
    settings = target["inputs"].get("settings") or {}
    cluster = source["inputs"].get("replicationCluster") or {}
    designated = instance_id(cluster.get("failoverDrReplicaName"))
    return (settings.get("edition") == "ENTERPRISE_PLUS"
            and bool(designated) and designated == target["inputs"].get("name"))


def _gcp_steps(plan: dict[str, Any], env: str, source: str, target: str, mode: Mode,
               workloads: Mapping[str, dict[str, Any]]) -> list[Step]:
    outputs = plan.get("outputs") or {}
    project = str(outputs.get("project") or "")
    source_db, target_db = _instance(plan, source, env), _instance(plan, target, env)
    name = str(target_db["inputs"].get("name", target_db["name"]))
    source_name = str(source_db["inputs"].get("name", source_db["name"]))
    base = {"project": project, "instance": name, "sourceInstance": source_name}
    missing = [f"{env}-{region}" for region in (source, target) if region not in workloads]
    if missing:
        raise FailoverError(f"{env}: no plan of the workloads stack(s) {', '.join(missing)} "
                            "to name the orchestrator Deployments from")
    scale_up = orchestrator_deployments(workloads[target], replicas_from=workloads[source])
    cluster = {"project": project, "cluster": str(outputs.get(f"clusterName.{target}", ""))}
    steps = [
        Step("preflight", f"GKE cluster {cluster['cluster']} in {target} is RUNNING (its "
                          "warm-standby endpoint has no pods to answer a health probe yet)",
             target, {"check": "target-health", **cluster}),
    ]
    advanced = _advanced_dr(source_db, target_db)
    steps.append(Step(
        "preflight", f"Cloud SQL {name} is RUNNABLE and a replica of {source_name}"
        + (" designated as its DR replica (replicationCluster.drReplica)" if advanced else ""),
        target, {"check": "replica-state", **base, "advancedDr": advanced}))
    if mode == "unplanned" or not advanced:
        steps.append(Step("preflight", "replica_lag of the replica (Cloud Monitoring) is "
                                       "known and within the region RPO target", target,
                          {"check": "replication-lag", **base}))
    if mode == "planned" and advanced:
        action = f"Cloud SQL Admin API instances.switchover {name} (no data loss; {source_name}" \
                 " becomes its DR replica)"
    elif advanced:
        action = f"Cloud SQL Admin API instances.promoteReplica {name} failover=true (replica " \
                 f"failover; {source_name} rejoins as a replica when its region is back)"
    else:
        action = (f"Cloud SQL Admin API instances.promoteReplica {name} (one-way: replication "
                  f"ends, {source_name} becomes a stale standalone instance)")
    operation = "switchover" if mode == "planned" and advanced else "promoteReplica"
    if mode == "planned" and not advanced:
        # A promotion while the old primary still takes writes would lose them: stop
        # every writer first, then promote once the replica reads zero lag.
        stop = [{**d, "replicas": 0} for d in orchestrator_deployments(workloads[source])]
        steps.append(Step("workloads", f"scale the {source} orchestrator to zero (no writes "
                                       "during the promotion)", source,
                          {"scale": stop, "project": project,
                           "cluster": str(outputs.get(f"clusterName.{source}", ""))}))
        action += ", once replica_lag reads 0 s"
    steps += [
        Step("database", action, target, {**base, "advancedDr": advanced,
                                          "operation": operation,
                                          "replicaFailover": advanced and mode == "unplanned",
                                          "waitForZeroLag": mode == "planned" and not advanced}),
        Step("cache", "nothing to move: each region has its own Memorystore", target, {}),
        Step("workloads", "scale up the orchestrator through the Kubernetes API: " + ", ".join(
            f"{d['namespace']}/{d['name']}={d['replicas']}" for d in scale_up), target,
             {"scale": scale_up, **cluster}),
    ]
    return steps
