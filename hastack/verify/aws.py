"""The HA invariants of a deployed AWS stack, checked against the live APIs (read-only).

Three layers, so that each can be tested on its own:

- *targets*: what the plan says to look for (identifiers, regions, which bucket
  replicates where), read from the plan JSON; nothing here calls AWS;
- `LiveAws`: the read-only calls, one boto3 client per (service, region), each answer
  fetched once per run. A resource that does not exist comes back as `None` (that is
  drift, reported as a failed check); any other API error propagates;
- `check_*`: one small function per invariant, `(live, target) -> [Finding]`.

`verify` runs every check the plan calls for and returns the findings. An API error
other than "not found" (access denied, throttling, expired token) stops the run with
an `AwsApiError` naming the API, the region and the check: a verification that could
not look is neither a pass nor a drift.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import boto3
from botocore.exceptions import ClientError

Status = Literal["pass", "warn", "fail"]

GLOBAL_CLUSTER = "aws:rds/globalCluster:GlobalCluster"
DB_CLUSTER = "aws:rds/cluster:Cluster"
DB_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_LOGGING = "aws:s3/bucketLogging:BucketLogging"
BUCKET_REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
DNS_RECORD = "aws:route53/record:Record"

# How the plan writes values only known after deployment.
UNKNOWN = "[unknown]"
S3_ARN_PREFIX = "arn:aws:s3:::"
# Two is the least that survives losing one (an AZ, a node, a region).
MIN_FOR_HA = 2
# Route 53's ListTagsForResources takes at most ten IDs per call.
ROUTE53_TAG_BATCH = 10
HTTPS_HEALTH_CHECK_TYPES = frozenset({"HTTPS", "HTTPS_STR_MATCH"})
PUBLIC_ACCESS_BLOCK_FLAGS = (
    "BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


@dataclass(frozen=True)
class Finding:
    """One row of the report: an invariant of one resource, and whether it holds."""

    check: str
    resource: str
    region: str
    status: Status
    detail: str


class PlanError(ValueError):
    """The plan (or the names given with it) cannot be verified as it stands."""


class AwsApiError(RuntimeError):
    """An AWS call failed for a reason other than "not found": the run cannot conclude."""


# --- targets: what the plan says to look for -------------------------------------------

@dataclass(frozen=True)
class ClusterTarget:
    identifier: str
    region: str
    deletion_protection: bool
    backup_retention_days: int
    planned_instances: int


@dataclass(frozen=True)
class GlobalClusterTarget:
    identifier: str
    region: str
    primary_region: str
    # The regional clusters the plan attaches, as (region, cluster identifier).
    members: tuple[tuple[str, str], ...]
    # The stack file's `hastack:activeRegion` (the plan's output): where the writer
    # must be. None in plans older than the layering: the primary region then.
    active_region: str | None = None
    stack_file: str | None = None
    environment: str | None = None


@dataclass(frozen=True)
class ReplicationGroupTarget:
    identifier: str
    region: str


@dataclass(frozen=True)
class BucketTarget:
    logical: str
    name: str
    region: str
    # The live name of the bucket the plan replicates this one to, if any.
    replica_name: str | None


@dataclass(frozen=True)
class HealthCheckTarget:
    logical: str
    # The component tags every health check `Name=<fqdn> <role>`; the ID only exists
    # after deployment, so the tag is how the live check is found.
    name_tag: str
    region: str


@dataclass(frozen=True)
class FailoverRecordTarget:
    logical: str
    zone_id: str
    domain: str
    record_name: str
    record_type: str
    set_identifier: str
    role: str
    health_check_name_tag: str | None
    region: str
    # False for a warm standby's SECONDARY, which the plan leaves without a health check
    # on purpose (components/aws/dns.py): an empty target group must not block failover.
    health_checked: bool = True


@dataclass(frozen=True)
class Targets:
    global_clusters: tuple[GlobalClusterTarget, ...]
    clusters: tuple[ClusterTarget, ...]
    replication_groups: tuple[ReplicationGroupTarget, ...]
    buckets: tuple[BucketTarget, ...]
    health_checks: tuple[HealthCheckTarget, ...]
    failover_records: tuple[FailoverRecordTarget, ...]

    def count(self) -> int:
        return sum(len(group) for group in (
            self.global_clusters, self.clusters, self.replication_groups, self.buckets,
            self.health_checks, self.failover_records))


def _resources(plan: Mapping[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [r for r in plan.get("resources", []) if r.get("type") == resource_type]


def _known(value: Any) -> str | None:
    """A plan string value that is real (not empty, not a post-deployment unknown)."""
    return value if isinstance(value, str) and value and value != UNKNOWN else None


def _region(resource: Mapping[str, Any]) -> str:
    region = _known(resource.get("region"))
    if region is None:
        raise PlanError(f"plan resource {resource.get('name')!r} ({resource.get('type')}) "
                        "has no region; re-run `hastack plan` with this version")
    return region


def _inputs(resource: Mapping[str, Any]) -> dict[str, Any]:
    inputs: dict[str, Any] = resource.get("inputs") or {}
    return inputs


def _required_input(resource: Mapping[str, Any], key: str) -> str:
    value = _known(_inputs(resource).get(key))
    if value is None:
        raise PlanError(f"plan resource {resource.get('name')!r} ({resource.get('type')}) "
                        f"has no known `{key}`")
    return value


def plan_primary_region(plan: Mapping[str, Any]) -> str | None:
    regions = plan.get("regions") or {}
    return _known(regions.get("primary"))


def cluster_targets(plan: Mapping[str, Any]) -> tuple[ClusterTarget, ...]:
    instances_per_cluster: dict[str, int] = {}
    for instance in _resources(plan, DB_CLUSTER_INSTANCE):
        owner = _known(_inputs(instance).get("clusterIdentifier"))
        if owner:
            instances_per_cluster[owner] = instances_per_cluster.get(owner, 0) + 1
    targets = []
    for cluster in _resources(plan, DB_CLUSTER):
        identifier = _required_input(cluster, "clusterIdentifier")
        inputs = _inputs(cluster)
        targets.append(ClusterTarget(
            identifier=identifier,
            region=_region(cluster),
            deletion_protection=bool(inputs.get("deletionProtection")),
            backup_retention_days=int(inputs.get("backupRetentionPeriod") or 1),
            planned_instances=instances_per_cluster.get(identifier, 0)))
    return tuple(targets)


def global_cluster_targets(plan: Mapping[str, Any]) -> tuple[GlobalClusterTarget, ...]:
    targets = []
    for global_cluster in _resources(plan, GLOBAL_CLUSTER):
        identifier = _required_input(global_cluster, "globalClusterIdentifier")
        region = _region(global_cluster)
        members = tuple(sorted(
            (_region(cluster), _required_input(cluster, "clusterIdentifier"))
            for cluster in _resources(plan, DB_CLUSTER)
            if _inputs(cluster).get("globalClusterIdentifier") == identifier))
        # Older plans have no `regions`; the global cluster is created beside the primary.
        primary = plan_primary_region(plan) or region
        targets.append(GlobalClusterTarget(identifier, region, primary, members,
                                           plan_active_region(plan), _known(plan.get("stackFile")),
                                           _known(plan.get("environment"))))
    return tuple(targets)


def plan_active_region(plan: Mapping[str, Any]) -> str | None:
    """The stack's `hastack:activeRegion`, as the plan's `activeRegion` output says."""
    return _known((plan.get("outputs") or {}).get("activeRegion"))


def replication_group_targets(plan: Mapping[str, Any]) -> tuple[ReplicationGroupTarget, ...]:
    return tuple(
        ReplicationGroupTarget(_required_input(group, "replicationGroupId"), _region(group))
        for group in _resources(plan, REPLICATION_GROUP))


def _output_key_by_plan_id(plan: Mapping[str, Any]) -> dict[str, str]:
    """Plan bucket ID -> the stack output that exports it (e.g. `artifactBucket`).

    The plan's outputs hold the mock names the plan's own resources got, so matching
    them to resource IDs tells which stack output names which bucket.
    """
    return {value: key for key, value in (plan.get("outputs") or {}).items()
            if isinstance(value, str)}


# Load balancers' access-log buckets (components/aws/edge.py) hold no platform data and
# are SSE-S3 by ELB's requirement, so the data-bucket invariants do not apply to them.
# S3 server access-log buckets (components/aws/access_logs.py) likewise: SSE-S3 because
# log delivery writes with it, not replicated; also recognised as BucketLogging targets.
ACCESS_LOG_PURPOSE = "alb-access-logs"
ACCESS_LOG_PURPOSES = (ACCESS_LOG_PURPOSE, "s3-access-logs")


def _data_buckets(plan: Mapping[str, Any]) -> list[dict[str, Any]]:
    targets = {_known(_inputs(logging).get("targetBucket"))
               for logging in _resources(plan, BUCKET_LOGGING)}
    return [b for b in _resources(plan, BUCKET)
            if (_inputs(b).get("tags") or {}).get("hastack:purpose") not in ACCESS_LOG_PURPOSES
            and b.get("id") not in targets]


def resolve_bucket_names(plan: Mapping[str, Any], stack_outputs: Mapping[str, Any] | None,
                         overrides: Mapping[str, str]) -> dict[str, str]:
    """Plan bucket resource name -> live bucket name.

    Buckets are auto-named at deployment, so the plan cannot know the live names.
    In order of precedence they come from `overrides` (keyed by the plan resource
    name or by the stack output that exports the bucket), from `stack_outputs`
    (`pulumi stack output --json`), or from an explicit `bucket` input in the plan.
    Raises `PlanError` listing every bucket left without a name, and every override
    that names no bucket of the plan (a typo would otherwise go unverified).
    """
    key_by_id = _output_key_by_plan_id(plan)
    buckets = _data_buckets(plan)
    accepted = {b["name"] for b in buckets} | {
        key_by_id[b["id"]] for b in buckets if b.get("id") in key_by_id}
    unknown = sorted(set(overrides) - accepted)
    if unknown:
        raise PlanError(f"--bucket names no bucket of the plan: {', '.join(unknown)}; "
                        f"known: {', '.join(sorted(accepted))}")
    names: dict[str, str] = {}
    missing: list[str] = []
    for bucket in buckets:
        output_key = key_by_id.get(bucket.get("id", ""))
        name = (overrides.get(bucket["name"])
                or (overrides.get(output_key) if output_key else None)
                or (_known((stack_outputs or {}).get(output_key)) if output_key else None)
                or _known(_inputs(bucket).get("bucket")))
        if name:
            names[bucket["name"]] = name
        else:
            missing.append(bucket["name"] + (f" (stack output {output_key})" if output_key
                                             else ""))
    if missing:
        raise PlanError(f"no live name for bucket(s) {', '.join(missing)}: pass --outputs "
                        "FILE (from `pulumi stack output --json`) or --bucket LOGICAL=NAME")
    return names


def _replica_plan_ids(plan: Mapping[str, Any]) -> dict[str, str]:
    """Source bucket plan ID -> destination bucket plan ID, from the replication configs."""
    pairs: dict[str, str] = {}
    for config in _resources(plan, BUCKET_REPLICATION):
        source = _known(_inputs(config).get("bucket"))
        for rule in _inputs(config).get("rules") or []:
            destination = _known((rule.get("destination") or {}).get("bucket"))
            if source and destination:
                pairs[source] = destination.removeprefix(S3_ARN_PREFIX)
    return pairs


def bucket_targets(plan: Mapping[str, Any],
                   live_names: Mapping[str, str]) -> tuple[BucketTarget, ...]:
    buckets = _data_buckets(plan)
    live_name_by_id = {b.get("id"): live_names.get(b["name"]) for b in buckets}
    replicas = _replica_plan_ids(plan)
    targets = []
    for bucket in buckets:
        name = live_names.get(bucket["name"])
        if name is None:
            raise PlanError(f"no live name for bucket {bucket['name']}")
        replica_id = replicas.get(bucket.get("id", ""))
        targets.append(BucketTarget(bucket["name"], name, _region(bucket),
                                    live_name_by_id.get(replica_id) if replica_id else None))
    return tuple(targets)


def _name_tag(resource: Mapping[str, Any]) -> str | None:
    return _known((_inputs(resource).get("tags") or {}).get("Name"))


def health_check_targets(plan: Mapping[str, Any]) -> tuple[HealthCheckTarget, ...]:
    targets = []
    for check in _resources(plan, HEALTH_CHECK):
        name_tag = _name_tag(check)
        if name_tag is None:
            raise PlanError(f"health check {check['name']!r} has no Name tag to find it by")
        targets.append(HealthCheckTarget(check["name"], name_tag, _region(check)))
    return tuple(targets)


def failover_record_targets(plan: Mapping[str, Any]) -> tuple[FailoverRecordTarget, ...]:
    name_tag_by_check_id = {check.get("id"): _name_tag(check)
                            for check in _resources(plan, HEALTH_CHECK)}
    targets = []
    for record in _resources(plan, DNS_RECORD):
        inputs = _inputs(record)
        policies = inputs.get("failoverRoutingPolicies") or []
        if not policies:
            continue  # a plain record (single-region stacks): nothing fails over
        record_name = _required_input(record, "name").rstrip(".")
        # The component builds `<hostname>.<domain>` with a single-label hostname.
        domain = record_name.split(".", 1)[1] if "." in record_name else record_name
        targets.append(FailoverRecordTarget(
            logical=record["name"],
            zone_id=_known(inputs.get("zoneId")) or "",
            domain=domain,
            record_name=record_name,
            record_type=_required_input(record, "type"),
            set_identifier=_required_input(record, "setIdentifier"),
            role=str(policies[0].get("type", "")),
            health_check_name_tag=name_tag_by_check_id.get(inputs.get("healthCheckId")),
            region=_region(record),
            health_checked=inputs.get("healthCheckId") is not None))
    return tuple(targets)


def plan_targets(plan: Mapping[str, Any], bucket_names: Mapping[str, str]) -> Targets:
    if plan.get("cloud") not in (None, "aws"):
        raise PlanError(f"hastack verify checks AWS stacks; this plan is for "
                        f"{plan.get('cloud')!r}")
    return Targets(
        global_clusters=global_cluster_targets(plan),
        clusters=cluster_targets(plan),
        replication_groups=replication_group_targets(plan),
        buckets=bucket_targets(plan, bucket_names),
        health_checks=health_check_targets(plan),
        failover_records=failover_record_targets(plan))


# --- live state: read-only AWS calls ---------------------------------------------------

class AwsClients:
    """One boto3 client per (service, region), made on first use and reused."""

    def __init__(self, session: Any | None = None) -> None:
        self._session = session or boto3.session.Session()
        self._clients: dict[tuple[str, str], Any] = {}

    def get(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self._session.client(service, region_name=region)
        return self._clients[key]


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _call(client: Any, operation: str, *, absent: Sequence[str] = (),
          unset: Sequence[str] = (), **kwargs: Any) -> dict[str, Any] | None:
    """Call `operation`; `None` when the resource is `absent`, `{}` when a setting is
    `unset` (S3 answers a bucket without, say, replication with an error)."""
    try:
        response: dict[str, Any] = getattr(client, operation)(**kwargs)
    except ClientError as error:
        code = _error_code(error)
        if code in absent:
            return None
        if code in unset:
            return {}
        raise
    return response


def _parse_rds_arn(arn: str) -> tuple[str, str]:
    """`arn:aws:rds:<region>:<account>:cluster:<id>` -> (region, id)."""
    parts = arn.split(":")
    return (parts[3], parts[-1]) if len(parts) >= 7 else ("", arn)


_T = TypeVar("_T")


class LiveAws:
    """What AWS says now; each answer fetched once per run (checks share them)."""

    def __init__(self, clients: AwsClients) -> None:
        self.clients = clients
        self._memo: dict[tuple[str, ...], Any] = {}

    def _once(self, key: tuple[str, ...], fetch: Callable[[], _T]) -> _T:
        if key not in self._memo:
            self._memo[key] = fetch()
        result: _T = self._memo[key]
        return result

    # RDS
    def global_cluster(self, region: str, identifier: str) -> dict[str, Any] | None:
        def fetch() -> dict[str, Any] | None:
            response = _call(self.clients.get("rds", region), "describe_global_clusters",
                             absent=("GlobalClusterNotFoundFault",),
                             GlobalClusterIdentifier=identifier)
            # Match on the identifier rather than trusting the filter to have applied.
            return next((g for g in (response or {}).get("GlobalClusters", [])
                         if g.get("GlobalClusterIdentifier") == identifier), None)
        return self._once(("global_cluster", region, identifier), fetch)

    def db_cluster(self, region: str, identifier: str) -> dict[str, Any] | None:
        def fetch() -> dict[str, Any] | None:
            response = _call(self.clients.get("rds", region), "describe_db_clusters",
                             absent=("DBClusterNotFoundFault",),
                             DBClusterIdentifier=identifier)
            clusters = (response or {}).get("DBClusters", [])
            return clusters[0] if clusters else None
        return self._once(("db_cluster", region, identifier), fetch)

    def db_instances(self, region: str, cluster_identifier: str) -> list[dict[str, Any]]:
        def fetch() -> list[dict[str, Any]]:
            pages = self.clients.get("rds", region).get_paginator("describe_db_instances")
            filters = [{"Name": "db-cluster-id", "Values": [cluster_identifier]}]
            return [instance for page in pages.paginate(Filters=filters)
                    for instance in page.get("DBInstances", [])]
        return self._once(("db_instances", region, cluster_identifier), fetch)

    # ElastiCache
    def replication_group(self, region: str, identifier: str) -> dict[str, Any] | None:
        def fetch() -> dict[str, Any] | None:
            response = _call(self.clients.get("elasticache", region),
                             "describe_replication_groups",
                             absent=("ReplicationGroupNotFoundFault",),
                             ReplicationGroupId=identifier)
            groups = (response or {}).get("ReplicationGroups", [])
            return groups[0] if groups else None
        return self._once(("replication_group", region, identifier), fetch)

    # S3: `None` when the bucket is gone, `{}` when the setting is not configured.
    def _s3(self, region: str, operation: str, bucket: str,
            unset: Sequence[str] = ()) -> dict[str, Any] | None:
        return self._once(("s3", operation, region, bucket), lambda: _call(
            self.clients.get("s3", region), operation, absent=("NoSuchBucket",),
            unset=unset, Bucket=bucket))

    def bucket_versioning(self, region: str, bucket: str) -> dict[str, Any] | None:
        return self._s3(region, "get_bucket_versioning", bucket)

    def bucket_replication(self, region: str, bucket: str) -> dict[str, Any] | None:
        return self._s3(region, "get_bucket_replication", bucket,
                        unset=("ReplicationConfigurationNotFoundError",))

    def bucket_public_access_block(self, region: str, bucket: str) -> dict[str, Any] | None:
        return self._s3(region, "get_public_access_block", bucket,
                        unset=("NoSuchPublicAccessBlockConfiguration",))

    def bucket_encryption(self, region: str, bucket: str) -> dict[str, Any] | None:
        return self._s3(region, "get_bucket_encryption", bucket,
                        unset=("ServerSideEncryptionConfigurationNotFoundError",))

    # Route 53 (global; the client's region only picks the signing region)
    def health_checks(self, region: str) -> list[dict[str, Any]]:
        """Every health check of the account, each with its tags under `Tags`."""
        def fetch() -> list[dict[str, Any]]:
            client = self.clients.get("route53", region)
            checks = [check for page in client.get_paginator("list_health_checks").paginate()
                      for check in page.get("HealthChecks", [])]
            tags: dict[str, dict[str, str]] = {}
            ids = [check["Id"] for check in checks]
            for start in range(0, len(ids), ROUTE53_TAG_BATCH):
                response = client.list_tags_for_resources(
                    ResourceType="healthcheck", ResourceIds=ids[start:start + ROUTE53_TAG_BATCH])
                for tag_set in response.get("ResourceTagSets", []):
                    tags[tag_set["ResourceId"]] = {
                        tag["Key"]: tag.get("Value", "") for tag in tag_set.get("Tags", [])}
            return [{**check, "Tags": tags.get(check["Id"], {})} for check in checks]
        return self._once(("health_checks", region), fetch)

    def hosted_zone_id(self, region: str, zone_id: str, domain: str) -> str | None:
        """The live zone: the plan's zone ID if it exists, else the public zone of `domain`
        (stacks that look the zone up by domain carry a placeholder ID in the plan)."""
        def fetch() -> str | None:
            client = self.clients.get("route53", region)
            if zone_id:
                zone = _call(client, "get_hosted_zone", absent=("NoSuchHostedZone",
                                                                "InvalidInput"), Id=zone_id)
                if zone is not None:
                    return str(zone["HostedZone"]["Id"])
            response = client.list_hosted_zones_by_name(DNSName=domain)
            for zone in response.get("HostedZones", []):
                public = not zone.get("Config", {}).get("PrivateZone", False)
                if zone.get("Name", "").rstrip(".") == domain and public:
                    return str(zone["Id"])
            return None
        return self._once(("hosted_zone", region, zone_id, domain), fetch)

    def record_sets(self, region: str, zone_id: str, name: str,
                    record_type: str) -> list[dict[str, Any]]:
        """The record sets named `name` of `record_type` (all set identifiers)."""
        def fetch() -> list[dict[str, Any]]:
            # Failover, weighted and latency sets of one name sort together from the
            # start name; a few hundred is far more than any one name carries.
            response = self.clients.get("route53", region).list_resource_record_sets(
                HostedZoneId=zone_id, StartRecordName=name, StartRecordType=record_type,
                MaxItems="300")
            return [rrs for rrs in response.get("ResourceRecordSets", [])
                    if rrs.get("Name", "").rstrip(".") == name and rrs.get("Type") == record_type]
        return self._once(("record_sets", region, zone_id, name, record_type), fetch)


# --- checks: one invariant each --------------------------------------------------------

def _finding(check: str, resource: str, region: str, problems: Sequence[str],
             ok: str) -> Finding:
    if problems:
        return Finding(check, resource, region, "fail", "; ".join(problems))
    return Finding(check, resource, region, "pass", ok)


def _not_found(check: str, resource: str, region: str, what: str) -> Finding:
    return Finding(check, resource, region, "fail", f"{what} not found")


def check_global_cluster_members(live: LiveAws, target: GlobalClusterTarget) -> list[Finding]:
    check = "aurora.global-members"
    found = live.global_cluster(target.region, target.identifier)
    if found is None:
        return [_not_found(check, target.identifier, target.region, "global cluster")]
    members = {_parse_rds_arn(m.get("DBClusterArn", ""))
               for m in found.get("GlobalClusterMembers", [])}
    problems = []
    missing = [f"{identifier} ({region})" for region, identifier in target.members
               if (region, identifier) not in members]
    if missing:
        problems.append(f"not attached (detached or deleted): {', '.join(missing)}")
    regions = sorted({region for region, _ in members})
    if len(regions) < MIN_FOR_HA:
        problems.append(f"members in {len(regions)} region(s) {regions}, need >= {MIN_FOR_HA}")
    return [_finding(check, target.identifier, target.region, problems,
                     f"{len(members)} members in {', '.join(regions)}")]


def _writer(live: LiveAws, target: GlobalClusterTarget, check: str
            ) -> tuple[tuple[str, str] | None, Finding | None]:
    """((region, identifier) of the one writer, None) or (None, the failed finding)."""
    found = live.global_cluster(target.region, target.identifier)
    if found is None:
        return None, _not_found(check, target.identifier, target.region, "global cluster")
    writers = [_parse_rds_arn(m.get("DBClusterArn", ""))
               for m in found.get("GlobalClusterMembers", []) if m.get("IsWriter")]
    if len(writers) != 1:
        return None, Finding(check, target.identifier, target.region, "fail",
                             f"{len(writers)} writer clusters, expected exactly 1")
    return writers[0], None


def check_global_cluster_writer(live: LiveAws, target: GlobalClusterTarget) -> list[Finding]:
    """Exactly one writer (where it is: `check_active_region`)."""
    check = "aurora.global-writer"
    writer, failed = _writer(live, target, check)
    if writer is None:
        return [failed] if failed else []
    region, identifier = writer
    return [Finding(check, target.identifier, target.region, "pass",
                    f"writer {identifier} in {region}")]


def active_region_finding(check: str, resource: str, region: str, writer_region: str,
                          writer: str, active: str, stack_file: str | None,
                          environment: str | None) -> Finding:
    """The writer's region against the stack's `hastack:activeRegion` (both clouds)."""
    if writer_region == active:
        return Finding(check, resource, region, "pass",
                       f"writer {writer} in {writer_region} = hastack:activeRegion")
    return Finding(check, resource, region, "fail",
                   f"the writer is {writer} in {writer_region}, but hastack:activeRegion is "
                   f"{active}: the next `pulumi up` would treat {writer_region} as the standby. "
                   f"If the move was intended (a failover), set hastack:activeRegion: "
                   f"{writer_region} in {stack_file or 'the infrastructure stack file'}; "
                   f"otherwise fail back: hastack failover {environment or '<env>'} --to "
                   f"{active} --mode planned")


def check_active_region(live: LiveAws, target: GlobalClusterTarget) -> list[Finding]:
    """The writer is where the stack says (`hastack:activeRegion`): after a failover
    done outside `hastack failover` the stack file still names the old region, and
    the next `pulumi up` would scale the real writer's region down."""
    check = "active-region"
    writer, failed = _writer(live, target, check)
    if writer is None:
        return [failed] if failed else []
    region, identifier = writer
    return [active_region_finding(check, target.identifier, target.region, region, identifier,
                                  target.active_region or target.primary_region,
                                  target.stack_file, target.environment)]


def _cluster_setting_on(live: LiveAws, target: ClusterTarget, check: str, field: str,
                        when_off: str, when_on: str) -> list[Finding]:
    """One boolean setting of the DB cluster is on."""
    cluster = live.db_cluster(target.region, target.identifier)
    if cluster is None:
        return [_not_found(check, target.identifier, target.region, "DB cluster")]
    problems = [] if cluster.get(field) else [when_off]
    return [_finding(check, target.identifier, target.region, problems, when_on)]


def check_cluster_deletion_protection(live: LiveAws, target: ClusterTarget) -> list[Finding]:
    if not target.deletion_protection:
        return []  # the plan does not ask for it (dev): nothing to hold
    return _cluster_setting_on(live, target, "aurora.deletion-protection", "DeletionProtection",
                               "DeletionProtection is off", "on")


def check_cluster_encryption(live: LiveAws, target: ClusterTarget) -> list[Finding]:
    return _cluster_setting_on(live, target, "aurora.storage-encrypted", "StorageEncrypted",
                               "storage is not encrypted", "encrypted")


def check_cluster_backup_retention(live: LiveAws, target: ClusterTarget) -> list[Finding]:
    check = "aurora.backup-retention"
    cluster = live.db_cluster(target.region, target.identifier)
    if cluster is None:
        return [_not_found(check, target.identifier, target.region, "DB cluster")]
    days = int(cluster.get("BackupRetentionPeriod") or 0)
    problems = ([] if days >= target.backup_retention_days else
                [f"{days} day(s), plan keeps {target.backup_retention_days}"])
    return [_finding(check, target.identifier, target.region, problems,
                     f"{days} day(s) (plan {target.backup_retention_days})")]


def check_cluster_iam_auth(live: LiveAws, target: ClusterTarget) -> list[Finding]:
    return _cluster_setting_on(live, target, "aurora.iam-auth",
                               "IAMDatabaseAuthenticationEnabled",
                               "IAM database authentication is off", "enabled")


def check_cluster_instance_zones(live: LiveAws, target: ClusterTarget) -> list[Finding]:
    """Instances in >= 2 AZs, so a zone loss promotes a reader in another zone. A
    cluster the plan gives fewer instances (a headless or single-reader secondary)
    must keep what the plan gives it."""
    check = "aurora.instance-zones"
    if target.planned_instances == 0:
        return []  # headless secondary: storage replicates, no instance to place
    required = min(MIN_FOR_HA, target.planned_instances)
    zones = sorted({i.get("AvailabilityZone", "?")
                    for i in live.db_instances(target.region, target.identifier)})
    problems = ([] if len(zones) >= required else
                [f"instances in {len(zones)} AZ(s) {zones}, need >= {required}"])
    return [_finding(check, target.identifier, target.region, problems,
                     f"instances in {', '.join(zones)}")]


def _group_setting_enabled(live: LiveAws, target: ReplicationGroupTarget, check: str,
                           field: str) -> list[Finding]:
    """One of the replication group's `enabled`/`disabled` settings is `enabled`."""
    group = live.replication_group(target.region, target.identifier)
    if group is None:
        return [_not_found(check, target.identifier, target.region, "replication group")]
    state = group.get(field, "unknown")
    problems = [] if state == "enabled" else [f"{field} is {state}"]
    return [_finding(check, target.identifier, target.region, problems, "enabled")]


def check_cache_automatic_failover(live: LiveAws,
                                   target: ReplicationGroupTarget) -> list[Finding]:
    return _group_setting_enabled(live, target, "elasticache.automatic-failover",
                                  "AutomaticFailover")


def check_cache_multi_az(live: LiveAws, target: ReplicationGroupTarget) -> list[Finding]:
    return _group_setting_enabled(live, target, "elasticache.multi-az", "MultiAZ")


def check_cache_members(live: LiveAws, target: ReplicationGroupTarget) -> list[Finding]:
    """A primary and at least one replica: failover needs somewhere to fail over to."""
    check = "elasticache.members"
    group = live.replication_group(target.region, target.identifier)
    if group is None:
        return [_not_found(check, target.identifier, target.region, "replication group")]
    count = len(group.get("MemberClusters", []))
    problems = [] if count >= MIN_FOR_HA else [f"{count} member cluster(s), need >= {MIN_FOR_HA}"]
    return [_finding(check, target.identifier, target.region, problems, f"{count} members")]


def check_cache_encryption(live: LiveAws, target: ReplicationGroupTarget) -> list[Finding]:
    check = "elasticache.encryption-auth"
    group = live.replication_group(target.region, target.identifier)
    if group is None:
        return [_not_found(check, target.identifier, target.region, "replication group")]
    off = [flag for flag in ("TransitEncryptionEnabled", "AtRestEncryptionEnabled",
                             "AuthTokenEnabled") if not group.get(flag)]
    problems = [f"off: {', '.join(off)}"] if off else []
    return [_finding(check, target.identifier, target.region, problems,
                     "in transit, at rest, AUTH token")]


def check_bucket_versioning(live: LiveAws, target: BucketTarget) -> list[Finding]:
    check = "s3.versioning"
    versioning = live.bucket_versioning(target.region, target.name)
    if versioning is None:
        return [_not_found(check, target.name, target.region, "bucket")]
    status = versioning.get("Status", "never enabled")
    problems = [] if status == "Enabled" else [f"versioning is {status}"]
    return [_finding(check, target.name, target.region, problems, "Enabled")]


def check_bucket_replication(live: LiveAws, target: BucketTarget) -> list[Finding]:
    check = "s3.replication"
    if target.replica_name is None:
        return []  # the plan does not replicate this bucket
    config = live.bucket_replication(target.region, target.name)
    if config is None:
        return [_not_found(check, target.name, target.region, "bucket")]
    destination = S3_ARN_PREFIX + target.replica_name
    rules = (config.get("ReplicationConfiguration") or {}).get("Rules", [])
    to_replica = [r for r in rules if (r.get("Destination") or {}).get("Bucket") == destination]
    if not rules:
        problems = ["no replication configuration"]
    elif not to_replica:
        problems = [f"no rule replicates to {target.replica_name}"]
    elif not any(r.get("Status") == "Enabled" for r in to_replica):
        problems = [f"the rule to {target.replica_name} is disabled"]
    else:
        problems = []
    return [_finding(check, target.name, target.region, problems, f"to {target.replica_name}")]


def check_bucket_public_access_block(live: LiveAws, target: BucketTarget) -> list[Finding]:
    check = "s3.public-access-block"
    block = live.bucket_public_access_block(target.region, target.name)
    if block is None:
        return [_not_found(check, target.name, target.region, "bucket")]
    settings = block.get("PublicAccessBlockConfiguration") or {}
    off = [flag for flag in PUBLIC_ACCESS_BLOCK_FLAGS if not settings.get(flag)]
    problems = [f"off: {', '.join(off)}"] if off else []
    return [_finding(check, target.name, target.region, problems, "all four on")]


def check_bucket_kms_encryption(live: LiveAws, target: BucketTarget) -> list[Finding]:
    check = "s3.default-encryption"
    encryption = live.bucket_encryption(target.region, target.name)
    if encryption is None:
        return [_not_found(check, target.name, target.region, "bucket")]
    rules = (encryption.get("ServerSideEncryptionConfiguration") or {}).get("Rules", [])
    algorithms = [(r.get("ApplyServerSideEncryptionByDefault") or {}).get("SSEAlgorithm")
                  for r in rules]
    problems = ([] if "aws:kms" in algorithms else
                [f"default encryption is {algorithms or 'not configured'}, need aws:kms"])
    return [_finding(check, target.name, target.region, problems, "aws:kms")]


def _missing_children(config: Mapping[str, Any], known: Iterable[str]) -> list[str]:
    """A CALCULATED check (endpoint AND the Region switch plan's, dns.py) needs its
    children: one that is gone leaves the record on a check that can never fail."""
    children = list(config.get("ChildHealthChecks") or [])
    if not children:
        return ["calculated check without children"]
    present = set(known)
    return [f"child health check {child} does not exist" for child in children
            if child not in present]


def _health_check_problems(config: Mapping[str, Any],
                           known: Iterable[str] = ()) -> list[str]:
    problems = []
    if config.get("Type") == "CALCULATED":
        problems += _missing_children(config, known)
    elif config.get("Type") not in HTTPS_HEALTH_CHECK_TYPES:
        problems.append(f"type is {config.get('Type')}, not HTTPS")
    # A disabled check always reports healthy and an inverted one reports the
    # opposite: either way the failover record would never fail over.
    if config.get("Disabled"):
        problems.append("disabled (always healthy)")
    if config.get("Inverted"):
        problems.append("inverted")
    return problems


def check_health_check(live: LiveAws, target: HealthCheckTarget) -> list[Finding]:
    check = "route53.health-check"
    matches = [hc for hc in live.health_checks(target.region)
               if hc["Tags"].get("Name") == target.name_tag]
    if not matches:
        return [_not_found(check, target.name_tag, "global",
                           f"health check tagged Name={target.name_tag!r}")]
    known = [hc["Id"] for hc in live.health_checks(target.region)]
    problems = [f"{hc['Id']}: {problem}" for hc in matches
                for problem in _health_check_problems(hc.get("HealthCheckConfig") or {}, known)]
    ids = ", ".join(hc["Id"] for hc in matches)
    kinds = sorted({str((hc.get("HealthCheckConfig") or {}).get("Type")) for hc in matches})
    return [_finding(check, target.name_tag, "global", problems,
                     f"{'/'.join(kinds)} ({ids})")]


def check_failover_record(live: LiveAws, target: FailoverRecordTarget) -> list[Finding]:
    """The record still fails over, and on a health check that exists (and is the
    plan's, by its Name tag): a record without one never fails over."""
    check = "route53.failover-record"
    resource = f"{target.record_name} [{target.set_identifier}]"
    zone = live.hosted_zone_id(target.region, target.zone_id, target.domain)
    if zone is None:
        return [_not_found(check, resource, "global",
                           f"hosted zone {target.zone_id or target.domain}")]
    record = next((r for r in live.record_sets(target.region, zone, target.record_name,
                                                target.record_type)
                   if r.get("SetIdentifier") == target.set_identifier), None)
    if record is None:
        return [_not_found(check, resource, "global", f"{target.record_type} record")]
    problems = []
    if record.get("Failover") != target.role:
        problems.append(f"failover role is {record.get('Failover')}, plan has {target.role}")
    check_id = record.get("HealthCheckId")
    by_id = {hc["Id"]: hc for hc in live.health_checks(target.region)}
    if not target.health_checked:
        if check_id:
            problems.append(f"health check {check_id} attached, the plan has none: an "
                            "unhealthy warm standby would keep DNS on a dead primary")
        return [_finding(check, resource, "global", problems,
                         f"{target.role} without a health check, as planned (warm standby)")]
    if not check_id:
        problems.append("no health check attached")
    elif check_id not in by_id:
        problems.append(f"health check {check_id} does not exist")
    elif (target.health_check_name_tag is not None
          and by_id[check_id]["Tags"].get("Name") != target.health_check_name_tag):
        problems.append(f"health check {check_id} is not the one tagged "
                        f"Name={target.health_check_name_tag!r}")
    elif (by_id[check_id].get("HealthCheckConfig") or {}).get("Type") == "CALCULATED":
        problems += _missing_children(by_id[check_id]["HealthCheckConfig"], by_id)
    return [_finding(check, resource, "global", problems,
                     f"{target.role} on health check {check_id}")]


# --- the run ---------------------------------------------------------------------------

Check = Callable[[LiveAws, Any], list[Finding]]

GLOBAL_CLUSTER_CHECKS: tuple[Check, ...] = (
    check_global_cluster_members, check_global_cluster_writer, check_active_region)
CLUSTER_CHECKS: tuple[Check, ...] = (
    check_cluster_deletion_protection, check_cluster_encryption,
    check_cluster_backup_retention, check_cluster_iam_auth, check_cluster_instance_zones)
REPLICATION_GROUP_CHECKS: tuple[Check, ...] = (
    check_cache_automatic_failover, check_cache_multi_az, check_cache_members,
    check_cache_encryption)
BUCKET_CHECKS: tuple[Check, ...] = (
    check_bucket_versioning, check_bucket_replication, check_bucket_public_access_block,
    check_bucket_kms_encryption)


def scheduled_checks(targets: Targets) -> Iterator[tuple[Check, Any]]:
    """Every (check, target) pair the plan calls for, in report order."""
    groups: tuple[tuple[Sequence[Any], tuple[Check, ...]], ...] = (
        (targets.global_clusters, GLOBAL_CLUSTER_CHECKS),
        (targets.clusters, CLUSTER_CHECKS),
        (targets.replication_groups, REPLICATION_GROUP_CHECKS),
        (targets.buckets, BUCKET_CHECKS),
        (targets.health_checks, (check_health_check,)),
        (targets.failover_records, (check_failover_record,)),
    )
    for group_targets, checks in groups:
        for target in group_targets:
            for check in checks:
                yield check, target


def _label(target: Any) -> str:
    return str(getattr(target, "identifier", None) or getattr(target, "logical", target))


def verify(targets: Targets, clients: AwsClients) -> list[Finding]:
    live = LiveAws(clients)
    findings: list[Finding] = []
    for check, target in scheduled_checks(targets):
        try:
            findings.extend(check(live, target))
        except ClientError as error:
            message = error.response.get("Error", {}).get("Message", "")
            raise AwsApiError(
                f"AWS {error.operation_name} in {target.region} failed while running "
                f"{check.__name__} on {_label(target)}: {_error_code(error)}: {message}"
            ) from error
    return findings
