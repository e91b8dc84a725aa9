"""The HA invariants of a deployed GCP stack, checked against the live APIs (read-only).

Same layers as verify/aws.py: *targets* read from the plan JSON (no API call),
`LiveGcp` (one read per resource per run through the discovery clients of
google-api-python-client, bundled documents; 404 is `None`, i.e. drift), and one
small `check_*` per invariant returning `Finding`s. Any other API error stops the
run with a `GcpApiError` naming the API call: a verification that could not look is
neither a pass nor a drift.

What is checked: Cloud SQL availability type, backups + PITR (+ the backup location
the plan sets), the cross-region replica replicating from the writer, and where the
plan has Advanced DR (Enterprise Plus) the primary designating its DR replica
(`replicationCluster.failoverDrReplicaName`, which `hastack failover` needs); Memorystore
tier and replica count; GCS versioning and placement; the Cloud DNS primary/backup
routing policy and its health check; and which region really holds the writer
against the stack's `hastack:activeRegion`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from hastack.failover.steps import instance_id
from hastack.verify.aws import Finding, PlanError, active_region_finding

SQL = "gcp:sql/databaseInstance:DatabaseInstance"
REDIS = "gcp:redis/instance:Instance"
BUCKET = "gcp:storage/bucket:Bucket"
RECORD = "gcp:dns/recordSet:RecordSet"
HEALTH_CHECK = "gcp:compute/healthCheck:HealthCheck"
# Log buckets (components/gcp/bucket.py) hold no platform data.
NOT_APPLICATION_STATE = ("usage-logs",)
ServiceFactory = Callable[[str, str], Any]


class GcpApiError(RuntimeError):
    """A GCP call failed for a reason other than "not found": the run cannot conclude."""


# --- targets: what the plan says to look for -------------------------------------------

@dataclass(frozen=True)
class SqlTarget:
    identifier: str
    project: str
    region: str
    availability: str
    backups: bool
    pitr: bool
    backup_location: str | None
    retained_backups: int
    # The instance it replicates from; None for a primary.
    master: str | None
    # recovery.regionFailure.rpoSeconds: the most a replica may lag behind.
    rpo_seconds: int | None = None
    # Advanced DR: the instance the plan designates as this primary's DR replica.
    dr_replica: str | None = None


@dataclass(frozen=True)
class RedisTarget:
    identifier: str
    resource_name: str
    region: str
    tier: str
    replica_count: int
    read_replicas_mode: str | None


@dataclass(frozen=True)
class BucketTarget:
    identifier: str
    region: str
    location: str
    data_locations: tuple[str, ...]
    rpo: str | None


@dataclass(frozen=True)
class RoutingTarget:
    identifier: str
    project: str
    zone: str
    record_type: str
    region: str
    health_check: str | None
    primary: tuple[str, ...]
    backups: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class HealthCheckTarget:
    identifier: str
    project: str
    region: str
    port: int | None
    request_path: str | None
    source_regions: tuple[str, ...]


@dataclass(frozen=True)
class ActiveTarget:
    identifier: str
    region: str
    active_region: str
    instances: tuple[SqlTarget, ...]
    stack_file: str | None
    environment: str | None


@dataclass(frozen=True)
class GcpTargets:
    sql: tuple[SqlTarget, ...]
    redis: tuple[RedisTarget, ...]
    buckets: tuple[BucketTarget, ...]
    routing: tuple[RoutingTarget, ...]
    health_checks: tuple[HealthCheckTarget, ...]
    active: tuple[ActiveTarget, ...]

    def count(self) -> int:
        return sum(len(group) for group in (self.sql, self.redis, self.buckets, self.routing,
                                            self.health_checks, self.active))


def _resources(plan: Mapping[str, Any], type_: str) -> list[dict[str, Any]]:
    return [r for r in plan.get("resources", []) if r.get("type") == type_]


def _inputs(resource: Mapping[str, Any]) -> dict[str, Any]:
    inputs: dict[str, Any] = resource.get("inputs") or {}
    return inputs


def _required(resource: Mapping[str, Any], key: str) -> str:
    value = _inputs(resource).get(key)
    if not isinstance(value, str) or not value or value == "[unknown]":
        raise PlanError(f"plan resource {resource.get('name')!r} ({resource.get('type')}) "
                        f"has no known `{key}`")
    return value


def _region(resource: Mapping[str, Any]) -> str:
    region = resource.get("region")
    if not isinstance(region, str) or not region:
        raise PlanError(f"plan resource {resource.get('name')!r} has no region; re-run "
                        "`hastack plan` with this version")
    return region


def region_rpo_seconds(plan: Mapping[str, Any]) -> int | None:
    """recovery.regionFailure.rpoSeconds, as the platform component records it."""
    for resource in plan.get("resources", []):
        targets = (_inputs(resource).get("hastackRecovery") or {}).get("targets") or {}
        seconds = (targets.get("regionFailure") or {}).get("rpoSeconds")
        if isinstance(seconds, int):
            return seconds
    return None


def sql_targets(plan: Mapping[str, Any]) -> tuple[SqlTarget, ...]:
    rpo = region_rpo_seconds(plan)
    targets = []
    for instance in _resources(plan, SQL):
        settings = _inputs(instance).get("settings") or {}
        backup = settings.get("backupConfiguration") or {}
        retention = backup.get("backupRetentionSettings") or {}
        targets.append(SqlTarget(
            _required(instance, "name"), _required(instance, "project"), _region(instance),
            str(settings.get("availabilityType") or "ZONAL"), bool(backup.get("enabled")),
            bool(backup.get("pointInTimeRecoveryEnabled")), backup.get("location"),
            int(retention.get("retainedBackups") or 0),
            _inputs(instance).get("masterInstanceName"), rpo,
            instance_id((_inputs(instance).get("replicationCluster") or {}).get(
                "failoverDrReplicaName")) or None))
    return tuple(targets)


def redis_targets(plan: Mapping[str, Any]) -> tuple[RedisTarget, ...]:
    targets = []
    for instance in _resources(plan, REDIS):
        inputs, name = _inputs(instance), _required(instance, "name")
        region = _region(instance)
        targets.append(RedisTarget(
            name, f"projects/{_required(instance, 'project')}/locations/{region}/instances/"
                  f"{name}", region, str(inputs.get("tier") or "BASIC"),
            int(inputs.get("replicaCount") or 0), inputs.get("readReplicasMode")))
    return tuple(targets)


def bucket_targets(plan: Mapping[str, Any]) -> tuple[BucketTarget, ...]:
    targets = []
    for bucket in _resources(plan, BUCKET):
        inputs = _inputs(bucket)
        if (inputs.get("labels") or {}).get("hastack-purpose") in NOT_APPLICATION_STATE:
            continue
        placement = inputs.get("customPlacementConfig") or {}
        targets.append(BucketTarget(
            _required(bucket, "name"), _region(bucket), str(inputs.get("location", "")).upper(),
            tuple(sorted(str(x).upper() for x in placement.get("dataLocations") or [])),
            inputs.get("rpo")))
    return tuple(targets)


def routing_targets(plan: Mapping[str, Any]) -> tuple[RoutingTarget, ...]:
    targets = []
    for record in _resources(plan, RECORD):
        policy = _inputs(record).get("routingPolicy") or {}
        primary_backup = policy.get("primaryBackup")
        if not primary_backup:
            continue  # a plain record: nothing fails over
        targets.append(RoutingTarget(
            _required(record, "name"), _required(record, "project"),
            _required(record, "managedZone"), _required(record, "type"), _region(record),
            policy.get("healthCheck"),
            tuple((primary_backup.get("primary") or {}).get("externalEndpoints") or []),
            tuple((geo.get("location"), tuple(geo.get("rrdatas") or []))
                  for geo in primary_backup.get("backupGeos") or [])))
    return tuple(targets)


def health_check_targets(plan: Mapping[str, Any]) -> tuple[HealthCheckTarget, ...]:
    targets = []
    for check in _resources(plan, HEALTH_CHECK):
        https = _inputs(check).get("httpsHealthCheck") or {}
        targets.append(HealthCheckTarget(
            _required(check, "name"), _required(check, "project"), _region(check),
            https.get("port"), https.get("requestPath"),
            tuple(sorted(_inputs(check).get("sourceRegions") or []))))
    return tuple(targets)


def plan_targets(plan: Mapping[str, Any]) -> GcpTargets:
    if plan.get("cloud") != "gcp":
        raise PlanError(f"this plan is for {plan.get('cloud')!r}, not GCP")
    sql = sql_targets(plan)
    active_region = (plan.get("outputs") or {}).get("activeRegion")
    active: tuple[ActiveTarget, ...] = ()
    if len(sql) > 1 and isinstance(active_region, str):
        active = (ActiveTarget("cloud sql writer", active_region, active_region, sql,
                               plan.get("stackFile"), plan.get("environment")),)
    return GcpTargets(sql, redis_targets(plan), bucket_targets(plan), routing_targets(plan),
                      health_check_targets(plan), active)


# --- live state: read-only GCP calls ---------------------------------------------------

_T = TypeVar("_T")


class LiveGcp:
    def __init__(self, services: ServiceFactory,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.services = services
        self.now = now
        self._memo: dict[tuple[str, ...], Any] = {}

    def _get(self, key: tuple[str, ...], request: Callable[[], Any]) -> Any:
        from google.auth.exceptions import GoogleAuthError
        from googleapiclient.errors import HttpError
        from httplib2 import HttpLib2Error

        if key not in self._memo:
            try:
                self._memo[key] = request().execute()
            except (GoogleAuthError, HttpLib2Error) as error:  # token refresh, DNS, TLS
                raise GcpApiError(f"GCP {key[0]} {'/'.join(key[1:])}: {error}") from error
            except HttpError as error:
                if error.resp.status == 404:
                    self._memo[key] = None
                else:
                    from hastack.failover.gcp import _api_error

                    raise GcpApiError(f"GCP {key[0]} {'/'.join(key[1:])}: "
                                      f"{_api_error(error)}") from error
        return self._memo[key]

    def sql(self, project: str, name: str) -> dict[str, Any] | None:
        return self._get(("sqladmin instances.get", project, name), lambda: self.services(
            "sqladmin", "v1").instances().get(project=project, instance=name))

    def redis(self, name: str) -> dict[str, Any] | None:
        return self._get(("redis instances.get", name), lambda: self.services(
            "redis", "v1").projects().locations().instances().get(name=name))

    def replica_lag(self, project: str, name: str) -> float | None:
        from googleapiclient.errors import HttpError

        from hastack.failover.gcp import _api_error, latest_replica_lag

        key = ("monitoring timeSeries.list replica_lag", project, name)
        if key not in self._memo:
            try:
                self._memo[key] = latest_replica_lag(self.services, project, name, self.now())
            except HttpError as error:
                raise GcpApiError(f"GCP {key[0]} {project}:{name}: {_api_error(error)}"
                                  ) from error
        lag: float | None = self._memo[key]
        return lag

    def bucket(self, name: str) -> dict[str, Any] | None:
        return self._get(("storage buckets.get", name), lambda: self.services(
            "storage", "v1").buckets().get(bucket=name))

    def record(self, project: str, zone: str, name: str, type_: str) -> dict[str, Any] | None:
        return self._get(("dns resourceRecordSets.get", project, zone, name, type_),
                         lambda: self.services("dns", "v1").resourceRecordSets().get(
                             project=project, managedZone=zone, name=name, type=type_))

    def health_check(self, project: str, name: str) -> dict[str, Any] | None:
        return self._get(("compute healthChecks.get", project, name), lambda: self.services(
            "compute", "v1").healthChecks().get(project=project, healthCheck=name))


# --- checks ------------------------------------------------------------------------------

def _finding(check: str, resource: str, region: str, problems: Sequence[str],
             ok: str) -> Finding:
    if problems:
        return Finding(check, resource, region, "fail", "; ".join(problems))
    return Finding(check, resource, region, "pass", ok)


def _missing(check: str, resource: str, region: str, what: str) -> list[Finding]:
    return [Finding(check, resource, region, "fail", f"{what} not found")]


def check_sql_availability(live: LiveGcp, t: SqlTarget) -> list[Finding]:
    check = "cloudsql.availability"
    found = live.sql(t.project, t.identifier)
    if found is None:
        return _missing(check, t.identifier, t.region, "Cloud SQL instance")
    actual = (found.get("settings") or {}).get("availabilityType")
    problems = [] if actual == t.availability else [f"{actual}, the plan has {t.availability}"]
    return [_finding(check, t.identifier, t.region, problems, str(actual))]


def check_sql_backups(live: LiveGcp, t: SqlTarget) -> list[Finding]:
    check = "cloudsql.backups-pitr"
    if not t.backups:
        return []  # a read replica: Cloud SQL takes no backups there
    found = live.sql(t.project, t.identifier)
    if found is None:
        return _missing(check, t.identifier, t.region, "Cloud SQL instance")
    backup = (found.get("settings") or {}).get("backupConfiguration") or {}
    problems = [] if backup.get("enabled") else ["automated backups are off"]
    if t.pitr and not backup.get("pointInTimeRecoveryEnabled"):
        problems.append("point-in-time recovery is off")
    if t.backup_location and backup.get("location") != t.backup_location:
        problems.append(f"backups stored in {backup.get('location') or 'the default location'}"
                        f", the plan has {t.backup_location}")
    kept = int((backup.get("backupRetentionSettings") or {}).get("retainedBackups") or 0)
    if kept < t.retained_backups:
        problems.append(f"{kept} backups retained, the plan keeps {t.retained_backups}")
    where = f" in {t.backup_location}" if t.backup_location else ""
    return [_finding(check, t.identifier, t.region, problems,
                     f"backups{where}, PITR, {kept} retained")]


def check_sql_replica(live: LiveGcp, t: SqlTarget) -> list[Finding]:
    check = "cloudsql.replica"
    if t.master is None:
        return []
    found = live.sql(t.project, t.identifier)
    if found is None:
        return _missing(check, t.identifier, t.region, "Cloud SQL replica")
    problems = []
    if found.get("instanceType") != "READ_REPLICA_INSTANCE":
        problems.append(f"{found.get('instanceType')}: promoted, not a replica any more")
    elif instance_id(found.get("masterInstanceName")) != t.master:
        # Cloud SQL names the primary "project:instance"; the plan names the instance.
        problems.append(f"replicates from {found.get('masterInstanceName')}, not {t.master}")
    if found.get("state") != "RUNNABLE":
        problems.append(f"state {found.get('state')}")
    if (found.get("settings") or {}).get("databaseReplicationEnabled") is False:
        problems.append("replication is stopped (databaseReplicationEnabled false)")
    return [_finding(check, t.identifier, t.region, problems, f"replicating from {t.master}")]


def check_sql_dr_replica(live: LiveGcp, t: SqlTarget) -> list[Finding]:
    """Advanced DR: the primary designates the replica the plan names (else a planned
    failover is a one-way promotion and `hastack failback` is refused)."""
    check = "cloudsql.dr-replica"
    if t.dr_replica is None:
        return []
    found = live.sql(t.project, t.identifier)
    if found is None:
        return _missing(check, t.identifier, t.region, "Cloud SQL instance")
    designated = (found.get("replicationCluster") or {}).get("failoverDrReplicaName")
    if instance_id(designated) == t.dr_replica:
        return [Finding(check, t.identifier, t.region, "pass",
                        f"designates {t.dr_replica} as its DR replica")]
    if found.get("instanceType") != "CLOUD_SQL_INSTANCE":
        return [Finding(check, t.identifier, t.region, "fail",
                        f"{found.get('instanceType')}, not the primary the plan designates "
                        f"{t.dr_replica} from (see active-region)")]
    what = f"designates {designated}" if designated else "designates no DR replica"
    return [Finding(check, t.identifier, t.region, "fail",
                    f"{what}, the plan has {t.dr_replica}: run `pulumi up --refresh` of the "
                    "infrastructure stack (a new pair is designated on the second up, once "
                    "both instances exist)")]


def check_sql_replica_lag(live: LiveGcp, t: SqlTarget) -> list[Finding]:
    """Replicating *now*: the newest replica_lag point within the region RPO target."""
    check = "cloudsql.replica-lag"
    if t.master is None:
        return []
    lag = live.replica_lag(t.project, t.identifier)
    if lag is None:
        return [Finding(check, t.identifier, t.region, "warn",
                        "no replica_lag point in the last 5 minutes: replication state unknown")]
    if t.rpo_seconds is not None and lag > t.rpo_seconds:
        return [Finding(check, t.identifier, t.region, "fail",
                        f"{lag:.1f} s behind, above the region RPO target {t.rpo_seconds} s")]
    return [Finding(check, t.identifier, t.region, "pass",
                    f"{lag:.1f} s behind (RPO target {t.rpo_seconds} s)")]


def check_redis(live: LiveGcp, t: RedisTarget) -> list[Finding]:
    check = "memorystore.tier-replicas"
    found = live.redis(t.resource_name)
    if found is None:
        return _missing(check, t.identifier, t.region, "Memorystore instance")
    problems = []
    if found.get("tier") != t.tier:
        problems.append(f"tier {found.get('tier')}, the plan has {t.tier}")
    replicas = int(found.get("replicaCount") or 0)
    if replicas < t.replica_count:
        problems.append(f"{replicas} replica(s), the plan has {t.replica_count}")
    if t.read_replicas_mode and found.get("readReplicasMode") != t.read_replicas_mode:
        problems.append(f"readReplicasMode {found.get('readReplicasMode')}")
    return [_finding(check, t.identifier, t.region, problems, f"{t.tier}, {replicas} replicas")]


def check_bucket_versioning(live: LiveGcp, t: BucketTarget) -> list[Finding]:
    check = "gcs.versioning"
    found = live.bucket(t.identifier)
    if found is None:
        return _missing(check, t.identifier, t.region, "bucket")
    on = bool((found.get("versioning") or {}).get("enabled"))
    return [_finding(check, t.identifier, t.region, [] if on else ["versioning is off"],
                     "enabled")]


def check_bucket_placement(live: LiveGcp, t: BucketTarget) -> list[Finding]:
    check = "gcs.placement"
    found = live.bucket(t.identifier)
    if found is None:
        return _missing(check, t.identifier, t.region, "bucket")
    location = str(found.get("location", "")).upper()
    regions = tuple(sorted(str(x).upper() for x in
                           (found.get("customPlacementConfig") or {}).get("dataLocations") or []))
    problems = []
    if location != t.location or regions != t.data_locations:
        problems.append(f"placed in {location} {list(regions)}, the plan has {t.location} "
                        f"{list(t.data_locations)}")
    if found.get("locationType") == "region":
        problems.append("a single-region bucket: a region loss takes it")
    if t.rpo and found.get("rpo") != t.rpo:
        problems.append(f"replication rpo {found.get('rpo')}, the plan has {t.rpo}")
    return [_finding(check, t.identifier, t.region, problems,
                     f"{found.get('locationType')} {location} {'+'.join(regions)}".strip())]


def check_routing_policy(live: LiveGcp, t: RoutingTarget) -> list[Finding]:
    check = "dns.routing-policy"
    found = live.record(t.project, t.zone, t.identifier, t.record_type)
    if found is None:
        return _missing(check, t.identifier, "global", f"{t.record_type} record")
    policy = found.get("routingPolicy") or {}
    primary_backup = policy.get("primaryBackup")
    if not primary_backup:
        return [Finding(check, t.identifier, "global", "fail",
                        "no primary/backup routing policy: DNS never fails over")]
    problems = []
    if t.health_check and not str(policy.get("healthCheck", "")).endswith(
            t.health_check.rsplit("/", 1)[-1]):
        problems.append(f"health check {policy.get('healthCheck') or 'none'}, the plan has "
                        f"{t.health_check}")
    primary = tuple((primary_backup.get("primaryTargets") or {}).get("externalEndpoints") or [])
    if primary != t.primary:
        problems.append(f"primary {list(primary)}, the plan has {list(t.primary)} (a failover "
                        "done without `pulumi up` of the infrastructure stack?)")
    backups = tuple((item.get("location"), tuple(item.get("rrdatas") or []))
                    for item in (primary_backup.get("backupGeoTargets") or {}).get("items") or [])
    if backups != t.backups:
        problems.append(f"backup {list(backups)}, the plan has {list(t.backups)}")
    return [_finding(check, t.identifier, "global", problems,
                     f"primary {', '.join(primary)} on {t.health_check}")]


def check_health_check(live: LiveGcp, t: HealthCheckTarget) -> list[Finding]:
    check = "dns.health-check"
    found = live.health_check(t.project, t.identifier)
    if found is None:
        return _missing(check, t.identifier, "global", "health check")
    https = found.get("httpsHealthCheck") or {}
    problems = [] if found.get("type") == "HTTPS" else [f"type {found.get('type')}, not HTTPS"]
    if t.request_path and https.get("requestPath") != t.request_path:
        problems.append(f"path {https.get('requestPath')}, the plan has {t.request_path}")
    if t.port and https.get("port") != t.port:
        problems.append(f"port {https.get('port')}, the plan has {t.port}")
    regions = tuple(sorted(found.get("sourceRegions") or []))
    if regions != t.source_regions:
        problems.append(f"probes from {list(regions)}, the plan has {list(t.source_regions)}")
    return [_finding(check, t.identifier, "global", problems,
                     f"HTTPS {t.request_path} from {len(regions)} regions")]


def check_active_region(live: LiveGcp, t: ActiveTarget) -> list[Finding]:
    """Which Cloud SQL instance is the primary (standalone, not a replica) vs the
    stack's `hastack:activeRegion`."""
    check = "active-region"
    live_by_region = {i.region: live.sql(i.project, i.identifier) for i in t.instances}
    writers = sorted((region, str(found.get("name")))
                     for region, found in live_by_region.items()
                     if found is not None and found.get("instanceType") == "CLOUD_SQL_INSTANCE")
    if not writers:
        return [Finding(check, t.identifier, t.region, "fail",
                        "no Cloud SQL instance of the plan is a primary")]
    by_region = dict(writers)
    if t.active_region not in by_region:
        region, name = writers[0]
        return [active_region_finding(check, t.identifier, t.region, region, name,
                                      t.active_region, t.stack_file, t.environment)]
    findings = [active_region_finding(check, t.identifier, t.region, t.active_region,
                                      by_region[t.active_region], t.active_region,
                                      t.stack_file, t.environment)]
    for region, name in writers:
        if region != t.active_region:
            findings.append(Finding(
                check, name, region, "warn",
                f"{name} is a standalone primary too: the former primary, stale since the "
                "promotion (Enterprise), or not yet re-attached after a replica failover "
                "(Enterprise Plus). No cross-region replica until it replicates again "
                "(README, Runbook: failover and failback, On GCP)"))
    return findings


# --- the run ---------------------------------------------------------------------------

Check = Callable[[LiveGcp, Any], list[Finding]]


def scheduled_checks(targets: GcpTargets) -> Iterator[tuple[Check, Any]]:
    groups: tuple[tuple[Sequence[Any], tuple[Check, ...]], ...] = (
        (targets.active, (check_active_region,)),
        (targets.sql, (check_sql_availability, check_sql_backups, check_sql_replica,
                       check_sql_dr_replica, check_sql_replica_lag)),
        (targets.redis, (check_redis,)),
        (targets.buckets, (check_bucket_versioning, check_bucket_placement)),
        (targets.routing, (check_routing_policy,)),
        (targets.health_checks, (check_health_check,)),
    )
    for group, checks in groups:
        for target in group:
            for check in checks:
                yield check, target


def verify(targets: GcpTargets, services: ServiceFactory,
           now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> list[Finding]:
    live = LiveGcp(services, now)
    findings: list[Finding] = []
    for check, target in scheduled_checks(targets):
        findings.extend(check(live, target))
    if targets.sql and not any(t.master for t in targets.sql) and len(targets.sql) > 1:
        findings.append(Finding("cloudsql.replica", "cross-region replica", "global", "warn",
                                "the plan has no replica (promoted): no regional DR until "
                                "the former primary is rebuilt as a replica"))
    return findings
