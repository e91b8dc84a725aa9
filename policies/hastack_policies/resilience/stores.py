"""Databases, caches and buckets: what fails over where, and what it can lose."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hastack_policies.resilience.resources import (
    UNKNOWN,
    Resource,
    Stack,
    as_bool,
    as_number,
    get,
)

RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
RDS_PARAMS = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
RDS_GLOBAL = "aws:rds/globalCluster:GlobalCluster"
CLOUD_SQL = "gcp:sql/databaseInstance:DatabaseInstance"
ELASTICACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
MEMORYSTORE = "gcp:redis/instance:Instance"
S3_BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
S3_REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
GCS_BUCKET = "gcp:storage/bucket:Bucket"
MANAGED_RPO = "rds.global_db_rpo"


@dataclass(frozen=True)
class AuroraCluster:
    resource: Resource
    region: str | None
    instances: list[Resource]
    zones: set[str]
    global_id: str | None
    # rds.global_db_rpo on its cluster parameter group, if set.
    managed_rpo: float | None

    @property
    def is_primary(self) -> bool:
        # Only the primary carries the master user (members inherit it).
        return bool(self.resource.props.get("masterUsername"))


def aurora_clusters(stack: Stack) -> list[AuroraCluster]:
    # Instances by the cluster they name: by reference, else by literal identifier.
    by_ref: dict[str, list[Resource]] = {}
    by_literal: dict[str, list[Resource]] = {}
    for instance in stack.of_type(RDS_INSTANCE):
        refs = instance.deps.get("clusterIdentifier")
        if refs:
            for ref in refs:
                by_ref.setdefault(ref, []).append(instance)
        elif isinstance(instance.props.get("clusterIdentifier"), str):
            by_literal.setdefault(str(instance.props["clusterIdentifier"]), []).append(instance)
    clusters = []
    for cluster in stack.of_type(RDS_CLUSTER):
        ident = cluster.props.get("clusterIdentifier")
        instances = [*by_ref.get(cluster.urn, []),
                     *(by_literal.get(ident, []) if isinstance(ident, str) else [])]
        # Unknown zones (computed from the network, first preview) are not counted.
        zones = {str(i.props["availabilityZone"]) for i in instances
                 if isinstance(i.props.get("availabilityZone"), str)
                 and i.props["availabilityZone"] != UNKNOWN}
        global_id = cluster.props.get("globalClusterIdentifier")
        clusters.append(AuroraCluster(
            cluster, stack.region(cluster), instances, zones,
            global_id if isinstance(global_id, str) and global_id else None,
            _managed_rpo(stack, cluster)))
    return clusters


def _managed_rpo(stack: Stack, cluster: Resource) -> float | None:
    name = cluster.props.get("dbClusterParameterGroupName")
    for group in stack.of_type(RDS_PARAMS):
        if not stack.points_at(cluster, "dbClusterParameterGroupName", group,
                               group.props.get("name")) and (
                name is None or name != group.props.get("name")):
            continue
        for parameter in get(group.props, "parameters", default=[]):
            if isinstance(parameter, Mapping) and parameter.get("name") == MANAGED_RPO:
                return as_number(parameter.get("value"))
    return None


@dataclass(frozen=True)
class CloudSql:
    resource: Resource
    region: str | None
    regional: bool | None  # None: not known until deployment
    replica_of: str | None
    # Advanced DR (Enterprise Plus): the instance this primary designates as DR replica
    # (`replicationCluster.failoverDrReplicaName`, "project:instance" or "instance").
    dr_replica: str | None = None

    @property
    def name(self) -> str | None:
        name = self.resource.props.get("name")
        return name if isinstance(name, str) and name else None


def cloud_sql(stack: Stack) -> list[CloudSql]:
    found = []
    for instance in stack.of_type(CLOUD_SQL):
        settings = instance.props.get("settings")
        availability = get(instance.props, "settings", "availabilityType", default="ZONAL")
        regional = None if UNKNOWN in (settings, availability) else availability == "REGIONAL"
        master = instance.props.get("masterInstanceName")
        edition = get(instance.props, "settings", "edition", default=None)
        designated = get(instance.props, "replicationCluster", "failoverDrReplicaName",
                         default=None)
        dr_replica = (designated.rsplit(":", 1)[-1]
                      if edition == "ENTERPRISE_PLUS" and isinstance(designated, str)
                      and designated else None)
        found.append(CloudSql(instance, stack.region(instance), regional,
                              master if isinstance(master, str) and master else None,
                              dr_replica))
    return found


@dataclass(frozen=True)
class Cache:
    resource: Resource
    region: str | None
    nodes: int
    zones: int
    automatic_failover: bool
    engine: str


def caches(stack: Stack) -> list[Cache]:
    found = []
    for group in stack.of_type(ELASTICACHE):
        props = group.props
        nodes = as_number(props.get("numCacheClusters"))
        if nodes is None:
            replicas = as_number(props.get("replicasPerNodeGroup")) or 0
            nodes = replicas + 1
        listed = props.get("preferredCacheClusterAzs")
        known = [z for z in listed if z != UNKNOWN] if isinstance(listed, list) else []
        zones = len(set(known)) or (2 if as_bool(props.get("multiAzEnabled")) else 1)
        found.append(Cache(group, stack.region(group), int(nodes), zones,
                           as_bool(props.get("automaticFailoverEnabled")) is True,
                           "ElastiCache"))
    for instance in stack.of_type(MEMORYSTORE):
        ha = instance.props.get("tier") == "STANDARD_HA"
        replicas = int(as_number(instance.props.get("replicaCount")) or (1 if ha else 0))
        zones = 2 if ha and instance.props.get("alternativeLocationId") else 1
        found.append(Cache(instance, stack.region(instance), replicas + 1 if ha else 1, zones,
                           ha, "Memorystore"))
    return found


@dataclass(frozen=True)
class BucketReplication:
    """Where the primary's objects are copied to another region, and how fast."""

    bucket: Resource
    # "rtc", "crr", "turbo", "default" (GCS async) or None (not replicated).
    mode: str | None


def _is_log_bucket(bucket: Resource) -> bool:
    """Access/usage-log buckets (tag `hastack:purpose` or GCP label `hastack-purpose`
    ending in `logs`) hold no application state: losing a region's logs is not data
    loss the RPO target speaks about."""
    for key, marker in (("tags", "hastack:purpose"), ("labels", "hastack-purpose")):
        values = bucket.props.get(key)
        purpose = values.get(marker) if isinstance(values, dict) else None
        if isinstance(purpose, str) and purpose.endswith("logs"):
            return True
    return False


def buckets(stack: Stack) -> list[BucketReplication]:
    """Source buckets (replicas are copies, not data of their own) and their replication."""
    found = []
    sources: dict[str, list[Resource]] = {}
    destinations: set[str] = set()
    for rule_set in stack.of_type(S3_REPLICATION):
        source_refs = list(rule_set.deps.get("bucket", ()))
        literal = rule_set.props.get("bucket")
        for key in [*source_refs, *([literal] if isinstance(literal, str) else [])]:
            sources.setdefault(key, []).append(rule_set)
        destinations |= set(rule_set.deps.get("rules", ())) - set(source_refs)
        for rule in _rules(rule_set):
            arn = get(rule, "destination", "bucket")
            if isinstance(arn, str) and ":::" in arn:
                destinations.add(arn.split(":::", 1)[1])
    for bucket in stack.of_type(*S3_BUCKETS):
        names = {n for n in (bucket.urn, bucket.props.get("bucket"), bucket.id)
                 if isinstance(n, str) and n}
        if names & destinations or _is_log_bucket(bucket):
            continue
        mode = None
        for rule_set in {id(r): r for n in names for r in sources.get(n, [])}.values():
            if not isinstance(rule_set.props.get("rules"), list):
                mode = "unknown"
                continue
            for rule in _rules(rule_set):
                if rule.get("status") != "Enabled":
                    continue
                rtc = get(rule, "destination", "replicationTime", "status") == "Enabled"
                mode = "rtc" if rtc or mode == "rtc" else "crr"
        found.append(BucketReplication(bucket, mode))
    for bucket in stack.of_type(GCS_BUCKET):
        if _is_log_bucket(bucket):
            continue
        locations = get(bucket.props, "customPlacementConfig", "dataLocations", default=[])
        location = str(bucket.props.get("location") or "")
        if len(locations) < 2 and location.upper() not in ("US", "EU", "ASIA"):
            found.append(BucketReplication(bucket, None))
            continue
        found.append(BucketReplication(
            bucket, "turbo" if bucket.props.get("rpo") == "ASYNC_TURBO" else "default"))
    return found


def _rules(rule_set: Resource) -> list[Mapping[str, object]]:
    rules = rule_set.props.get("rules")
    return [r for r in rules if isinstance(r, Mapping)] if isinstance(rules, list) else []
