"""Small plans (plan-JSON shaped) for the resilience model: one builder per resource family."""

from __future__ import annotations

import copy
from typing import Any

EAST, WEST = "us-east-1", "us-west-2"
PLATFORM_URN = "urn:pulumi:t::hastack::hastack:aws:Platform::t"


def _provider_urn(type_: str, region: str | None) -> str | None:
    if region is None or type_.startswith(("hastack:", "pulumi:")):
        return None
    kind = "kubernetes" if type_.startswith("kubernetes:") else "aws"
    return f"urn:pulumi:t::hastack::pulumi:providers:{kind}::{kind}-{region}"


def entry(type_: str, name: str, inputs: dict[str, Any], *, region: str | None = None,
          deps: dict[str, list[str]] | None = None, id_: str | None = None) -> dict[str, Any]:
    """A plan entry; regional ones name their region's provider, as the platform does
    (the policy sees regions only through providers)."""
    return {"type": type_, "urn": f"urn:pulumi:t::hastack::{type_}::{name}", "name": name,
            "custom": not type_.startswith("hastack:"), "parent": None, "region": region,
            "inputs": inputs, "propertyDependencies": deps or {}, "dependencies": [],
            "id": id_ or name, "provider": _provider_urn(type_, region), "protect": False,
            "ignoreChanges": []}


def providers() -> list[dict[str, Any]]:
    found = []
    for region in (EAST, WEST):
        aws = entry("pulumi:providers:aws", f"aws-{region}", {"region": region}, region=region)
        aws["urn"] = str(_provider_urn("aws:x", region))
        k8s = entry("pulumi:providers:kubernetes", f"kubernetes-{region}", {
            "clusterIdentifier": f"arn:aws:eks:{region}:123456789012:cluster/c"}, region=region)
        k8s["urn"] = str(_provider_urn("kubernetes:x", region))
        found += [aws, k8s]
    return found


def urn(item: dict[str, Any]) -> str:
    return str(item["urn"])


def platform(zone: tuple[int, int] | None = (75, 0),
             region: tuple[int, int] | None = (600, 900), two_regions: bool = True
             ) -> dict[str, Any]:
    targets: dict[str, Any] = {}
    if zone:
        targets["zoneFailure"] = {"rtoSeconds": zone[0], "rpoSeconds": zone[1]}
    if region:
        targets["regionFailure"] = {"rtoSeconds": region[0], "rpoSeconds": region[1]}
    regions = {"primary": EAST, **({"secondary": WEST} if two_regions else {})}
    item = entry("hastack:aws:Platform", "t", {"hastackRecovery": {"targets": targets,
                                                                    "regions": regions}})
    item["urn"] = PLATFORM_URN
    return item


def nodes(region: str, zones: int = 3, min_size: int = 3) -> list[dict[str, Any]]:
    subnets = [entry("aws:ec2/subnet:Subnet", f"{region}-private-{i}",
                     {"availabilityZone": f"{region}{'abc'[i]}"}, region=region)
               for i in range(zones)]
    group = entry("aws:eks/nodeGroup:NodeGroup", f"{region}-general",
                  {"scalingConfig": {"minSize": min_size, "desiredSize": min_size}},
                  region=region, deps={"subnetIds": [urn(s) for s in subnets]})
    return [*subnets, group]


def _spread() -> dict[str, Any]:
    term = {"labelSelector": {}, "topologyKey": "topology.kubernetes.io/zone"}
    host = {"labelSelector": {}, "topologyKey": "kubernetes.io/hostname"}
    return {"podAntiAffinity": {
        "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100,
                                                             "podAffinityTerm": term}],
        "requiredDuringSchedulingIgnoredDuringExecution": [host]}}


def prefect(region: str, api: int = 3, workers: int = 3, background: int = 2,
            toleration: int | None = 30) -> list[dict[str, Any]]:
    tolerations = [] if toleration is None else [
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": toleration}]
    section = {"affinity": _spread(), "tolerations": tolerations}
    server = {"server": {**section, "replicaCount": api},
              "backgroundServices": {**section, "replicaCount": background,
                                     "runAsSeparateDeployment": background > 0}}
    worker = {"worker": {**section, "replicaCount": workers}}
    return [entry("kubernetes:helm.sh/v3:Release", f"{region}-server",
                  {"chart": "prefect-server", "values": copy.deepcopy(server)}, region=region),
            entry("kubernetes:helm.sh/v3:Release", f"{region}-worker",
                  {"chart": "prefect-worker", "values": copy.deepcopy(worker)}, region=region)]


def aurora(primary_instances: int = 3, secondary_instances: int = 2,
           managed_rpo: int | None = 20, attached: bool = True) -> list[dict[str, Any]]:
    glob = entry("aws:rds/globalCluster:GlobalCluster", "global",
                 {"globalClusterIdentifier": "g"}, region=EAST)
    params = [{"name": "rds.force_ssl", "value": "1"}]
    if managed_rpo is not None:
        params.append({"name": "rds.global_db_rpo", "value": str(managed_rpo)})
    group = entry("aws:rds/clusterParameterGroup:ClusterParameterGroup", "east-params",
                  {"parameters": params}, region=EAST)
    east = entry("aws:rds/cluster:Cluster", "east-cluster",
                 {"clusterIdentifier": "east", "masterUsername": "admin",
                  "globalClusterIdentifier": "g"}, region=EAST,
                 deps={"globalClusterIdentifier": [urn(glob)],
                       "dbClusterParameterGroupName": [urn(group)]})
    west_inputs: dict[str, Any] = {"clusterIdentifier": "west"}
    west_deps: dict[str, list[str]] = {}
    if attached:
        west_inputs["globalClusterIdentifier"] = "g"
        west_deps["globalClusterIdentifier"] = [urn(glob)]
    west = entry("aws:rds/cluster:Cluster", "west-cluster", west_inputs, region=WEST,
                 deps=west_deps)
    items = [glob, group, east, west]
    for region, cluster, count in ((EAST, east, primary_instances),
                                   (WEST, west, secondary_instances)):
        items += [entry("aws:rds/clusterInstance:ClusterInstance", f"{region}-db-{i}",
                        {"clusterIdentifier": cluster["inputs"]["clusterIdentifier"],
                         "availabilityZone": f"{region}{'abc'[i % 3]}"}, region=region,
                        deps={"clusterIdentifier": [urn(cluster)]})
                  for i in range(count)]
    return items


def redis(region: str, nodes_: int = 3, failover: bool = True) -> dict[str, Any]:
    return entry("aws:elasticache/replicationGroup:ReplicationGroup", f"{region}-redis",
                 {"numCacheClusters": nodes_, "automaticFailoverEnabled": failover,
                  "multiAzEnabled": failover,
                  "preferredCacheClusterAzs": [f"{region}{z}" for z in "abc"[:nodes_]]},
                 region=region)


def bucket(replication: str | None = "rtc") -> list[dict[str, Any]]:
    source = entry("aws:s3/bucket:Bucket", "artifacts-east", {}, region=EAST)
    replica = entry("aws:s3/bucket:Bucket", "artifacts-west", {}, region=WEST)
    if replication is None:
        return [source, replica]
    destination: dict[str, Any] = {"bucket": "arn:aws:s3:::artifacts-west"}
    if replication == "rtc":
        destination["replicationTime"] = {"status": "Enabled", "time": {"minutes": 15}}
    config = entry("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "replication",
                   {"rules": [{"status": "Enabled", "destination": destination}]},
                   region=EAST, deps={"bucket": [urn(source)], "rules": [urn(replica)]})
    return [source, replica, config]


def dns(interval: int = 10, threshold: int = 3, ttl: int = 60,
        alias: bool = False) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for role, region in (("PRIMARY", EAST), ("SECONDARY", WEST)):
        check = entry("aws:route53/healthCheck:HealthCheck", f"{role.lower()}-check",
                      {"requestInterval": interval, "failureThreshold": threshold},
                      region=EAST)
        record: dict[str, Any] = {"failoverRoutingPolicies": [{"type": role}],
                                  "healthCheckId": check["id"]}
        if alias:
            record["aliases"] = [{"name": f"alb-{region}", "evaluateTargetHealth": True}]
        else:
            record.update({"ttl": ttl, "type": "CNAME", "records": [f"lb-{region}"]})
        items += [check, entry("aws:route53/record:Record", f"{role.lower()}-record", record,
                               region=EAST, deps={"healthCheckId": [urn(check)]})]
    return items


def arc_plan(approval: bool = False, triggers: bool = True) -> dict[str, Any]:
    """A Region switch plan; with `triggers` an alarm starts it (automation)."""
    steps = [{"executionBlockType": "AuroraGlobalDatabase"}]
    if approval:
        steps.insert(0, {"executionBlockType": "ManualApproval"})
    inputs: dict[str, Any] = {"workflows": [{"steps": steps}]}
    if triggers:
        inputs["triggers"] = [{"action": "activate", "targetRegion": WEST,
                               "minDelayMinutesBetweenExecutions": 30,
                               "conditions": [{"associatedAlarmName": "health",
                                               "condition": "red"}]}]
    return entry("aws:arcregionswitch/plan:Plan", "switch", inputs, region=EAST)


def prod_like(**changes: Any) -> list[dict[str, Any]]:
    """A two-region AWS prod environment, warm standby, 10 s checks, manual failover."""
    parts: dict[str, Any] = {
        "platform": [platform()],
        "providers": providers(),
        "nodes": nodes(EAST) + nodes(WEST),
        "workloads": prefect(EAST) + prefect(WEST, api=0, workers=0, background=0),
        "database": aurora(),
        "cache": [redis(EAST), redis(WEST)],
        "objects": bucket(),
        "dns": dns(),
        "automation": [],
    }
    parts.update(changes)
    return [item for group in parts.values() for item in group]


def target_group(region: str, interval: int = 10, healthy: int = 2,
                 unhealthy: int = 2) -> dict[str, Any]:
    return entry("aws:lb/targetGroup:TargetGroup", f"{region}-tg", {"healthCheck": {
        "interval": interval, "healthyThreshold": healthy, "unhealthyThreshold": unhealthy}},
        region=region)
