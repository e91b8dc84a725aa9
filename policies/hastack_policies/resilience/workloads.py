"""Orchestrator workloads and cluster capacity, read from the Helm releases and node groups."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hastack_policies.resilience.resources import UNKNOWN, Resource, Stack, as_number, get

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
GKE_NODE_POOL = "gcp:container/nodePool:NodePool"
GKE_CLUSTER = "gcp:container/cluster:Cluster"
SUBNET = "aws:ec2/subnet:Subnet"
TARGET_GROUPS = ("aws:lb/targetGroup:TargetGroup", "aws:alb/targetGroup:TargetGroup")

ZONE_KEY = "topology.kubernetes.io/zone"
HOST_KEY = "kubernetes.io/hostname"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
DEFAULT_TOLERATION = 300.0


@dataclass(frozen=True)
class Workload:
    """One Deployment of the orchestrator in one region."""

    name: str                 # e.g. "prefect api"
    region: str | None
    replicas: int
    # Seconds pods stay bound to an unreachable node (None: the 300 s default).
    toleration: float | None
    zone_spread: bool
    host_spread: bool
    # Serves user traffic behind the load balancer / DNS name.
    serves: bool
    # Only one replica works at a time (leader election); others take over.
    leader_elected: bool = False


def _spread(values: Mapping[str, Any], key: str) -> bool:
    affinity = get(values, "affinity", "podAntiAffinity", default={})
    terms = [t.get("podAffinityTerm", t) for t in
             [*get(affinity, "preferredDuringSchedulingIgnoredDuringExecution", default=[]),
              *get(affinity, "requiredDuringSchedulingIgnoredDuringExecution", default=[])]
             if isinstance(t, Mapping)]
    constraints = get(values, "topologySpreadConstraints", default=[])
    return any(isinstance(t, Mapping) and t.get("topologyKey") == key
               for t in [*terms, *constraints])


def _toleration(values: Mapping[str, Any]) -> float | None:
    for toleration in get(values, "tolerations", default=[]):
        if not isinstance(toleration, Mapping):
            continue
        if toleration.get("key") == UNREACHABLE_TAINT and \
                toleration.get("effect") in (None, "NoExecute"):
            seconds = as_number(toleration.get("tolerationSeconds"))
            if seconds is not None:
                return seconds
    return None


def _workload(name: str, region: str | None, values: Any, replicas_key: str, *,
              serves: bool, default_replicas: int = 1, leader: bool = False) -> Workload:
    section = values if isinstance(values, Mapping) else {}
    replicas = int(as_number(section.get(replicas_key)) or 0) if replicas_key in section \
        else default_replicas
    return Workload(name, region, replicas, _toleration(section), _spread(section, ZONE_KEY),
                    _spread(section, HOST_KEY), serves, leader and replicas > 1)


def workloads(stack: Stack) -> list[Workload]:
    found: list[Workload] = []
    for release in stack.of_type(HELM_RELEASE):
        chart = release.props.get("chart")
        values = release.props.get("values") or {}
        if not isinstance(values, Mapping):
            continue  # unknown until deployment: see `unknown_releases`
        region = stack.region(release)
        if chart == "prefect-server":
            found.append(_workload("prefect api", region, get(values, "server", default={}),
                                   "replicaCount", serves=True))
            background = get(values, "backgroundServices", default={})
            if get(background, "runAsSeparateDeployment", default=False) is True:
                found.append(_workload("prefect background services", region, background,
                                       "replicaCount", serves=False))
        elif chart == "prefect-worker":
            found.append(_workload("prefect worker", region, get(values, "worker", default={}),
                                   "replicaCount", serves=False))
        elif chart == "argo-workflows":
            found.append(_workload("argo server", region, get(values, "server", default={}),
                                   "replicas", serves=True))
            # The chart turns leader election on whenever replicas != 1.
            found.append(_workload("argo controller", region,
                                   get(values, "controller", default={}), "replicas",
                                   serves=False, leader=True))
    return found


def unknown_releases(stack: Stack) -> list[str]:
    """Releases whose values are not known yet (a first preview): not assessed."""
    return [r.name for r in stack.of_type(HELM_RELEASE)
            if not isinstance(r.props.get("values") or {}, Mapping)]


def node_capacity(stack: Stack, region: str | None) -> int | None:
    """Nodes the region's cluster keeps at least (None: no node group in these plans)."""
    total, seen = 0, False
    for group in stack.in_region(region, EKS_NODE_GROUP):
        minimum = as_number(get(group.props, "scalingConfig", "minSize"))
        if minimum is None:
            return None  # not known yet (first preview): do not judge capacity
        seen = True
        total += int(minimum)
    cluster_zones = max((len(get(c.props, "nodeLocations", default=[]) or [1])
                         for c in stack.in_region(region, GKE_CLUSTER)), default=1)
    for pool in stack.in_region(region, GKE_NODE_POOL):
        seen = True
        per_zone = as_number(get(pool.props, "autoscaling", "minNodeCount"))
        if per_zone is None:
            per_zone = as_number(pool.props.get("nodeCount") or pool.props.get("initialNodeCount"))
        pool_zones = len(get(pool.props, "nodeLocations", default=[])) or cluster_zones
        total += int(per_zone or 0) * pool_zones
    return total if seen else None


def node_zones(stack: Stack, region: str | None) -> set[str] | None:
    """Zones the region's nodes run in (None: not visible in these plans)."""
    zones: set[str] = set()
    seen = False
    for group in stack.in_region(region, EKS_NODE_GROUP):
        seen = True
        for subnet in stack.referenced(group, "subnetIds", SUBNET):
            # The Network pins subnets by zone ID (the same physical zone in every
            # account); older plans name the zone.
            zone = subnet.props.get("availabilityZoneId") or subnet.props.get("availabilityZone")
            if isinstance(zone, str) and zone and zone != UNKNOWN:
                zones.add(zone)
    for cluster in [*stack.in_region(region, GKE_CLUSTER), *stack.in_region(region, GKE_NODE_POOL)]:
        locations = get(cluster.props, "nodeLocations", default=[])
        if locations:
            seen = True
            zones |= {str(zone) for zone in locations}
    # Nothing to count (no zone visible, or not known yet): not judged.
    return zones if seen and zones else None


@dataclass(frozen=True)
class HealthCheck:
    interval: float
    unhealthy: float
    healthy: float
    source: str


def target_group_checks(stack: Stack, region: str | None) -> list[HealthCheck]:
    """The region's ALB target-group health checks (pulumi-aws defaults where unset)."""
    checks = []
    for group in stack.in_region(region, *TARGET_GROUPS):
        check = get(group.props, "healthCheck", default={})
        if get(check, "enabled", default=True) is False:
            continue
        checks.append(HealthCheck(
            as_number(get(check, "interval")) or 30.0,
            as_number(get(check, "unhealthyThreshold")) or 3.0,
            as_number(get(check, "healthyThreshold")) or 3.0,
            f"{group.name} healthCheck"))
    return checks


def region_of_provider_props(props: Mapping[str, Any]) -> str | None:
    """AWS Kubernetes providers name their cluster by ARN (arn:aws:eks:<region>:...)."""
    ident = props.get("clusterIdentifier")
    if isinstance(ident, str) and ident.startswith("arn:aws:eks:"):
        return ident.split(":")[3] or None
    return None


def release_resources(stack: Stack) -> list[Resource]:
    return stack.of_type(HELM_RELEASE)
