"""`hastack verify` against moto: a deployment built as the prod plan says passes every
check, and each kind of drift fails (or warns on) exactly the check that owns it.

The live resources are made from the *targets* read from the committed prod plan
(`tests/golden/prod.json`), so the tests follow the plan's real shape.

moto 5 quirks worked around here (each noted where it matters):
- `create_replication_group` ignores `NumCacheClusters`; `ReplicasPerNodeGroup` works;
- `modify_db_cluster` ignores `EnableIAMDatabaseAuthentication`, and
  `remove_from_global_cluster` is a silent no-op across regions: such drift is built
  into the deployment instead of applied afterwards (a detached secondary *is* a
  standalone cluster);
- `switchover_global_cluster` / `failover_global_cluster` are not implemented: a
  switched writer is a global cluster whose first (writer) member is the secondary.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from hastack.verify import aws as verify_aws
from hastack.verify import cli as verify_cli
from hastack.verify.aws import (
    AwsClients,
    BucketTarget,
    ClusterTarget,
    FailoverRecordTarget,
    Finding,
    GlobalClusterTarget,
    HealthCheckTarget,
    LiveAws,
    PlanError,
    ReplicationGroupTarget,
    Targets,
    plan_targets,
    resolve_bucket_names,
    verify,
)
from hastack.verify.cli import verify_main
from tests.conftest import REPO

PROD_PLAN = REPO / "tests" / "golden" / "prod.json"
# What `pulumi stack output --json` would say about the deployed prod stack.
LIVE_OUTPUTS = {"artifactBucket": "live-artifacts-east", "artifactReplicaBucket":
                "live-artifacts-west"}
ALL_CHECKS = {
    "aurora.global-members", "aurora.global-writer", "active-region",
    "aurora.deletion-protection",
    "aurora.storage-encrypted", "aurora.backup-retention", "aurora.iam-auth",
    "aurora.instance-zones", "elasticache.automatic-failover", "elasticache.multi-az",
    "elasticache.members", "elasticache.encryption-auth", "s3.versioning", "s3.replication",
    "s3.public-access-block", "s3.default-encryption", "route53.health-check",
    "route53.failover-record",
}
ALL_PUBLIC_ACCESS_BLOCKED = {flag: True for flag in verify_aws.PUBLIC_ACCESS_BLOCK_FLAGS}


# --- fixtures ----------------------------------------------------------------------------

@pytest.fixture
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def aws(fake_credentials: None) -> Iterator[None]:
    _CLIENTS.clear()
    with mock_aws():
        yield
    _CLIENTS.clear()


@pytest.fixture
def plan() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(PROD_PLAN.read_text())
    return loaded


@pytest.fixture
def targets(plan: dict[str, Any]) -> Targets:
    return plan_targets(plan, resolve_bucket_names(plan, LIVE_OUTPUTS, {}))


@pytest.fixture
def live(aws: None) -> LiveAws:
    return LiveAws(AwsClients())


# --- building the live environment in moto -----------------------------------------------

# The test's own clients, one per service and region while its moto account lives
# (`aws`): making a client costs more than most of the calls a test sends through it.
_CLIENTS: dict[tuple[str, str], Any] = {}


def _client(service: str, region: str) -> Any:
    if (service, region) not in _CLIENTS:
        _CLIENTS[service, region] = boto3.client(service, region_name=region)
    return _CLIENTS[service, region]


def _rds(region: str) -> Any:
    return _client("rds", region)


def _cluster_target(targets: Targets, region: str) -> ClusterTarget:
    return next(c for c in targets.clusters if c.region == region)


def deploy_aurora(targets: Targets, *, writer_region: str | None = None,
                  detached: frozenset[str] = frozenset(),
                  cluster_overrides: Mapping[str, Mapping[str, Any]] | None = None,
                  single_zone: frozenset[str] = frozenset()) -> None:
    """The global cluster and its regional clusters and instances, as the plan says.

    `writer_region` makes another region's cluster the writer (moto makes the first
    member the writer); `detached` clusters are created standalone; `single_zone`
    clusters get all their instances in one AZ.
    """
    overrides = cluster_overrides or {}
    for global_cluster in targets.global_clusters:
        writer = writer_region or global_cluster.primary_region
        _rds(global_cluster.region).create_global_cluster(
            GlobalClusterIdentifier=global_cluster.identifier, Engine="aurora-postgresql",
            EngineVersion="16.6", StorageEncrypted=True, DeletionProtection=True)
        clusters = sorted(targets.clusters, key=lambda c: c.region != writer)
        for cluster in clusters:
            settings: dict[str, Any] = {
                "DeletionProtection": cluster.deletion_protection,
                "StorageEncrypted": True,
                "BackupRetentionPeriod": cluster.backup_retention_days,
                "EnableIAMDatabaseAuthentication": True,
            }
            # Only a writer or a standalone cluster has its own master user.
            if cluster.region == writer or cluster.identifier in detached:
                settings.update(MasterUsername="hastack_admin", MasterUserPassword="x" * 16)
            if cluster.identifier not in detached:
                settings["GlobalClusterIdentifier"] = global_cluster.identifier
            settings.update(overrides.get(cluster.identifier, {}))
            _rds(cluster.region).create_db_cluster(
                DBClusterIdentifier=cluster.identifier, Engine="aurora-postgresql",
                EngineVersion="16.6", **settings)
            for number in range(cluster.planned_instances):
                zone = "a" if cluster.identifier in single_zone else "abc"[number % 3]
                _rds(cluster.region).create_db_instance(
                    DBInstanceIdentifier=f"{cluster.identifier}-{number + 1}",
                    DBClusterIdentifier=cluster.identifier, Engine="aurora-postgresql",
                    DBInstanceClass="db.r6g.xlarge", AvailabilityZone=cluster.region + zone)


def deploy_caches(targets: Targets,
                  group_overrides: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    for group in targets.replication_groups:
        settings: dict[str, Any] = {
            # moto ignores NumCacheClusters: a primary and two replicas this way.
            "ReplicasPerNodeGroup": 2, "AutomaticFailoverEnabled": True,
            "MultiAZEnabled": True, "TransitEncryptionEnabled": True,
            "AtRestEncryptionEnabled": True, "AuthToken": "t" * 32,
        }
        settings.update((group_overrides or {}).get(group.identifier, {}))
        settings = {key: value for key, value in settings.items() if value is not None}
        _client("elasticache", group.region).create_replication_group(
            ReplicationGroupId=group.identifier, ReplicationGroupDescription="redis",
            Engine="redis", EngineVersion="7.1", CacheNodeType="cache.r7g.large", **settings)


def _s3(region: str) -> Any:
    return _client("s3", region)


def replication_rule(destination: str, status: str = "Enabled") -> dict[str, Any]:
    return {"ID": "replicate-everything", "Priority": 1, "Status": status,
            "Filter": {"Prefix": ""}, "DeleteMarkerReplication": {"Status": "Enabled"},
            "Destination": {"Bucket": verify_aws.S3_ARN_PREFIX + destination}}


def put_replication(bucket: BucketTarget, destination: str, status: str = "Enabled") -> None:
    _s3(bucket.region).put_bucket_replication(Bucket=bucket.name, ReplicationConfiguration={
        "Role": "arn:aws:iam::123456789012:role/replication",
        "Rules": [replication_rule(destination, status)]})


def deploy_buckets(targets: Targets) -> None:
    for bucket in targets.buckets:
        s3 = _s3(bucket.region)
        location = ({} if bucket.region == "us-east-1" else
                    {"CreateBucketConfiguration": {"LocationConstraint": bucket.region}})
        s3.create_bucket(Bucket=bucket.name, **location)
        s3.put_bucket_versioning(Bucket=bucket.name,
                                 VersioningConfiguration={"Status": "Enabled"})
        s3.put_public_access_block(Bucket=bucket.name,
                                   PublicAccessBlockConfiguration=ALL_PUBLIC_ACCESS_BLOCKED)
        s3.put_bucket_encryption(Bucket=bucket.name, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {
                "SSEAlgorithm": "aws:kms",
                "KMSMasterKeyID": f"arn:aws:kms:{bucket.region}:123456789012:key/k"},
                "BucketKeyEnabled": True}]})
    for bucket in targets.buckets:
        if bucket.replica_name:
            put_replication(bucket, bucket.replica_name)


def _route53() -> Any:
    return _client("route53", "us-east-1")


def create_health_check(name_tag: str, check_type: str = "HTTPS") -> str:
    route53 = _route53()
    check_id: str = route53.create_health_check(CallerReference=name_tag, HealthCheckConfig={
        "Type": check_type, "FullyQualifiedDomainName": "lb.example.net",
        "Port": 443 if check_type.startswith("HTTPS") else 80, "ResourcePath": "/api/health",
        "RequestInterval": 10, "FailureThreshold": 3,
        "Regions": ["us-east-1", "us-west-2", "eu-west-1"]})["HealthCheck"]["Id"]
    route53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=check_id,
                                     AddTags=[{"Key": "Name", "Value": name_tag}])
    return check_id


CALCULATED = " (endpoint and ARC)"


def create_calculated_check(name_tag: str, children: list[str]) -> str:
    route53 = _route53()
    check_id: str = route53.create_health_check(CallerReference=name_tag, HealthCheckConfig={
        "Type": "CALCULATED", "ChildHealthChecks": children,
        "HealthThreshold": len(children)})["HealthCheck"]["Id"]
    route53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=check_id,
                                     AddTags=[{"Key": "Name", "Value": name_tag}])
    return check_id


def upsert_record(zone_id: str, record: FailoverRecordTarget,
                  health_check_id: str | None) -> None:
    record_set: dict[str, Any] = {
        "Name": record.record_name, "Type": record.record_type,
        "SetIdentifier": record.set_identifier, "Failover": record.role, "TTL": 60,
        "ResourceRecords": [{"Value": f"{record.set_identifier}.lb.example.net"}]}
    if health_check_id:
        record_set["HealthCheckId"] = health_check_id
    _route53().change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={
        "Changes": [{"Action": "UPSERT", "ResourceRecordSet": record_set}]})


def deploy_dns(targets: Targets, check_type: str = "HTTPS") -> str:
    """Health checks and failover records; returns the hosted zone ID (which moto picks,
    so it differs from the plan's and the zone is found by its domain)."""
    endpoints = [hc for hc in targets.health_checks if not hc.name_tag.endswith(CALCULATED)]
    check_ids = {hc.name_tag: create_health_check(hc.name_tag, check_type) for hc in endpoints}
    for hc in targets.health_checks:
        if hc.name_tag.endswith(CALCULATED):
            # The PRIMARY's CALCULATED check over its region's endpoint check (dns.py).
            endpoint = hc.name_tag.removesuffix(CALCULATED)
            check_ids[hc.name_tag] = create_calculated_check(hc.name_tag, [check_ids[endpoint]])
    domain = targets.failover_records[0].domain
    zone_id: str = _route53().create_hosted_zone(
        Name=domain, CallerReference="zone")["HostedZone"]["Id"]
    for record in targets.failover_records:
        upsert_record(zone_id, record, check_ids.get(record.health_check_name_tag or ""))
    return zone_id


def deploy_all(targets: Targets) -> str:
    deploy_aurora(targets)
    deploy_caches(targets)
    deploy_buckets(targets)
    return deploy_dns(targets)


def statuses(findings: list[Finding]) -> list[str]:
    return [f.status for f in findings]


# --- the plan: what to look for ------------------------------------------------------------

def test_targets_follow_the_prod_plan(targets: Targets) -> None:
    (global_cluster,) = targets.global_clusters
    assert global_cluster.identifier == "hastack-prod-aurora"
    assert global_cluster.primary_region == "us-east-1"
    assert {region for region, _ in global_cluster.members} == {"us-east-1", "us-west-2"}
    assert {(c.region, c.planned_instances, c.deletion_protection, c.backup_retention_days)
            for c in targets.clusters} == {("us-east-1", 3, True, 21), ("us-west-2", 2, True, 21)}
    assert {g.region for g in targets.replication_groups} == {"us-east-1", "us-west-2"}
    by_name = {b.name: b for b in targets.buckets}
    assert by_name["live-artifacts-east"].replica_name == "live-artifacts-west"
    assert by_name["live-artifacts-east"].region == "us-east-1"
    # Replication runs both ways: the replica's return rule is verified too.
    assert by_name["live-artifacts-west"].replica_name == "live-artifacts-east"
    # Access-log buckets carry no HA invariant and need no live name.
    assert set(by_name) == {"live-artifacts-east", "live-artifacts-west"}
    # The PRIMARY's CALCULATED check (endpoint AND the Region switch plan's) too.
    assert sorted(hc.name_tag for hc in targets.health_checks) == [
        "workflows.workflows.example.com us-east-1",
        "workflows.workflows.example.com us-east-1 (endpoint and ARC)",
        "workflows.workflows.example.com us-west-2"]
    assert {(r.set_identifier, r.role, r.domain, r.health_checked)
            for r in targets.failover_records} == {
        ("us-east-1", "PRIMARY", "workflows.example.com", True),
        ("us-west-2", "SECONDARY", "workflows.example.com", False)}


def test_bucket_names_from_overrides_by_resource_name_or_output_key(
        plan: dict[str, Any]) -> None:
    names = resolve_bucket_names(plan, LIVE_OUTPUTS, {
        "hastack-prod-artifacts-us-east-1": "override-east",
        "artifactReplicaBucket": "override-west"})
    assert names == {"hastack-prod-artifacts-us-east-1": "override-east",
                     "hastack-prod-artifacts-us-west-2": "override-west"}


def test_bucket_with_an_explicit_name_in_the_plan_needs_no_outputs() -> None:
    plan = {"cloud": "aws", "outputs": {}, "resources": [
        {"type": verify_aws.BUCKET, "name": "named", "id": "named-bucket",
         "region": "eu-west-1", "inputs": {"bucket": "named-bucket"}}]}
    assert resolve_bucket_names(plan, None, {}) == {"named": "named-bucket"}


def test_bucket_without_a_live_name_is_a_plan_error(plan: dict[str, Any]) -> None:
    with pytest.raises(PlanError, match=r"artifactReplicaBucket.*--outputs"):
        resolve_bucket_names(plan, {"artifactBucket": "live-artifacts-east"}, {})


def test_bucket_override_for_an_unknown_bucket_is_a_plan_error(plan: dict[str, Any]) -> None:
    with pytest.raises(PlanError, match="artifactBuckt"):
        resolve_bucket_names(plan, LIVE_OUTPUTS, {"artifactBuckt": "typo"})


def test_gcp_plan_is_refused() -> None:
    gcp_plan = json.loads((REPO / "tests" / "golden" / "gcp-prod.json").read_text())
    with pytest.raises(PlanError, match="AWS"):
        plan_targets(gcp_plan, {})


# --- the whole run ------------------------------------------------------------------------

def test_compliant_deployment_passes_every_check(targets: Targets, aws: None) -> None:
    deploy_all(targets)
    findings = verify(targets, AwsClients())
    assert {f.check for f in findings} == ALL_CHECKS
    assert [f for f in findings if f.status != "pass"] == []


def test_each_client_is_made_once_per_service_and_region(aws: None) -> None:
    clients = AwsClients()
    assert clients.get("rds", "us-east-1") is clients.get("rds", "us-east-1")
    assert clients.get("rds", "us-east-1") is not clients.get("rds", "us-west-2")


# --- Aurora --------------------------------------------------------------------------------

def test_detached_secondary_fails_global_members(targets: Targets, live: LiveAws) -> None:
    secondary = _cluster_target(targets, "us-west-2")
    deploy_aurora(targets, detached=frozenset({secondary.identifier}))
    (finding,) = verify_aws.check_global_cluster_members(live, targets.global_clusters[0])
    assert finding.status == "fail"
    assert f"{secondary.identifier} (us-west-2)" in finding.detail
    assert "1 region(s)" in finding.detail


def test_attached_secondary_passes_global_members(targets: Targets, live: LiveAws) -> None:
    deploy_aurora(targets)
    (finding,) = verify_aws.check_global_cluster_members(live, targets.global_clusters[0])
    assert finding.status == "pass", finding.detail


def test_missing_global_cluster_fails(targets: Targets, live: LiveAws) -> None:
    target = dataclasses.replace(targets.global_clusters[0], identifier="someone-deleted-it")
    deploy_aurora(targets)
    assert statuses(verify_aws.check_global_cluster_members(live, target)) == ["fail"]
    assert statuses(verify_aws.check_global_cluster_writer(live, target)) == ["fail"]


def test_writer_in_primary_region_passes(targets: Targets, live: LiveAws) -> None:
    deploy_aurora(targets)
    (finding,) = verify_aws.check_global_cluster_writer(live, targets.global_clusters[0])
    assert finding.status == "pass"
    assert "us-east-1" in finding.detail


def test_a_writer_outside_the_active_region_fails_saying_what_to_do(
        targets: Targets, live: LiveAws) -> None:
    deploy_aurora(targets, writer_region="us-west-2")
    target = targets.global_clusters[0]
    assert target.active_region == "us-east-1"  # the plan's activeRegion output
    (writer,) = verify_aws.check_global_cluster_writer(live, target)
    assert writer.status == "pass" and "us-west-2" in writer.detail
    (finding,) = verify_aws.check_active_region(live, target)
    assert finding.status == "fail"
    assert ("set hastack:activeRegion: us-west-2 in stacks/Pulumi.prod.yaml" in finding.detail
            and "hastack failover prod --to us-east-1 --mode planned" in finding.detail)
    # A switchover keeps both regions attached: membership still holds.
    assert statuses(verify_aws.check_global_cluster_members(live, target)) == ["pass"]


def test_after_a_failover_the_writer_in_the_new_active_region_passes(
        targets: Targets, live: LiveAws) -> None:
    deploy_aurora(targets, writer_region="us-west-2")
    target = dataclasses.replace(targets.global_clusters[0], active_region="us-west-2")
    (finding,) = verify_aws.check_active_region(live, target)
    assert finding.status == "pass" and "us-west-2" in finding.detail


def test_the_active_region_check_follows_the_described_global_cluster(
        targets: Targets) -> None:
    """The writer comes from DescribeGlobalClusters' IsWriter flag, as AWS sends it."""
    target = dataclasses.replace(targets.global_clusters[0], active_region="us-east-1")
    rds = boto3.client("rds", region_name=target.region, aws_access_key_id="x",
                       aws_secret_access_key="x")
    stub = Stubber(rds)
    arn = "arn:aws:rds:us-west-2:123456789012:cluster:hastack-prod-aurora-us-west-2"
    stub.add_response("describe_global_clusters", {"GlobalClusters": [{
        "GlobalClusterIdentifier": target.identifier, "GlobalClusterMembers": [
            {"DBClusterArn": arn.replace("us-west-2", "us-east-1"), "IsWriter": False},
            {"DBClusterArn": arn, "IsWriter": True}]}]},
        {"GlobalClusterIdentifier": target.identifier})

    class Clients(AwsClients):
        def get(self, service: str, region: str) -> Any:
            return rds

    with stub:
        (finding,) = verify_aws.check_active_region(LiveAws(Clients()), target)
    assert finding.status == "fail" and "in us-west-2, but hastack:activeRegion is us-east-1" \
        in finding.detail


def test_global_cluster_without_a_writer_fails(targets: Targets, live: LiveAws) -> None:
    target = targets.global_clusters[0]
    _rds(target.region).create_global_cluster(GlobalClusterIdentifier=target.identifier,
                                              Engine="aurora-postgresql")
    (finding,) = verify_aws.check_global_cluster_writer(live, target)
    assert (finding.status, finding.detail) == ("fail", "0 writer clusters, expected exactly 1")
    assert statuses(verify_aws.check_global_cluster_members(live, target)) == ["fail"]


def test_deletion_protection_turned_off_fails(targets: Targets, live: LiveAws) -> None:
    deploy_aurora(targets)
    primary = _cluster_target(targets, "us-east-1")
    assert statuses(verify_aws.check_cluster_deletion_protection(live, primary)) == ["pass"]
    _rds("us-east-1").modify_db_cluster(DBClusterIdentifier=primary.identifier,
                                        DeletionProtection=False, ApplyImmediately=True)
    fresh = LiveAws(AwsClients())  # answers are memoised per run
    (finding,) = verify_aws.check_cluster_deletion_protection(fresh, primary)
    assert finding.status == "fail"
    assert "DeletionProtection" in finding.detail


def test_deletion_protection_is_not_required_when_the_plan_has_none(
        targets: Targets, live: LiveAws) -> None:
    primary = _cluster_target(targets, "us-east-1")
    deploy_aurora(targets, cluster_overrides={primary.identifier: {"DeletionProtection": False}})
    unprotected = dataclasses.replace(primary, deletion_protection=False)
    assert verify_aws.check_cluster_deletion_protection(live, unprotected) == []
    assert statuses(verify_aws.check_cluster_deletion_protection(live, primary)) == ["fail"]


def test_backup_retention_below_plan_fails(targets: Targets, live: LiveAws) -> None:
    deploy_aurora(targets)
    secondary = _cluster_target(targets, "us-west-2")
    _rds("us-west-2").modify_db_cluster(DBClusterIdentifier=secondary.identifier,
                                        BackupRetentionPeriod=3, ApplyImmediately=True)
    (finding,) = verify_aws.check_cluster_backup_retention(live, secondary)
    assert finding.status == "fail"
    assert "3 day(s), plan keeps 21" in finding.detail
    primary = _cluster_target(targets, "us-east-1")
    assert statuses(verify_aws.check_cluster_backup_retention(live, primary)) == ["pass"]


def test_unencrypted_cluster_fails(targets: Targets, live: LiveAws) -> None:
    secondary = _cluster_target(targets, "us-west-2")
    deploy_aurora(targets, cluster_overrides={secondary.identifier: {"StorageEncrypted": False}})
    assert statuses(verify_aws.check_cluster_encryption(live, secondary)) == ["fail"]
    primary = _cluster_target(targets, "us-east-1")
    assert statuses(verify_aws.check_cluster_encryption(live, primary)) == ["pass"]


def test_iam_auth_off_fails(targets: Targets, live: LiveAws) -> None:
    # moto's modify_db_cluster ignores EnableIAMDatabaseAuthentication: built in instead.
    primary = _cluster_target(targets, "us-east-1")
    deploy_aurora(targets, cluster_overrides={
        primary.identifier: {"EnableIAMDatabaseAuthentication": False}})
    assert statuses(verify_aws.check_cluster_iam_auth(live, primary)) == ["fail"]
    secondary = _cluster_target(targets, "us-west-2")
    assert statuses(verify_aws.check_cluster_iam_auth(live, secondary)) == ["pass"]


def test_missing_cluster_fails_its_checks(targets: Targets, live: LiveAws) -> None:
    deploy_aurora(targets)
    gone = dataclasses.replace(_cluster_target(targets, "us-east-1"), identifier="gone")
    for check in verify_aws.CLUSTER_CHECKS[:4]:
        (finding,) = check(live, gone)
        assert (finding.status, finding.detail) == ("fail", "DB cluster not found")


def test_instances_in_one_zone_fail(targets: Targets, live: LiveAws) -> None:
    primary = _cluster_target(targets, "us-east-1")
    deploy_aurora(targets, single_zone=frozenset({primary.identifier}))
    (finding,) = verify_aws.check_cluster_instance_zones(live, primary)
    assert finding.status == "fail"
    assert "1 AZ(s)" in finding.detail
    secondary = _cluster_target(targets, "us-west-2")
    assert statuses(verify_aws.check_cluster_instance_zones(live, secondary)) == ["pass"]


def test_instance_zones_follow_what_the_plan_places(targets: Targets, live: LiveAws) -> None:
    deploy_aurora(targets)
    secondary = _cluster_target(targets, "us-west-2")
    # A headless secondary (no instances planned) has nothing to place.
    headless = dataclasses.replace(secondary, planned_instances=0)
    assert verify_aws.check_cluster_instance_zones(live, headless) == []
    # A single planned instance needs one AZ, not two...
    one = dataclasses.replace(secondary, identifier="lonely", planned_instances=1)
    _rds("us-west-2").create_db_cluster(DBClusterIdentifier="lonely", Engine="aurora-postgresql",
                                        MasterUsername="u", MasterUserPassword="x" * 16)
    _rds("us-west-2").create_db_instance(
        DBInstanceIdentifier="lonely-1", DBClusterIdentifier="lonely",
        Engine="aurora-postgresql", DBInstanceClass="db.r6g.large",
        AvailabilityZone="us-west-2a")
    assert statuses(verify_aws.check_cluster_instance_zones(live, one)) == ["pass"]
    # ...but a cluster that lost every instance fails.
    empty = dataclasses.replace(secondary, identifier="no-such-cluster")
    assert statuses(verify_aws.check_cluster_instance_zones(live, empty)) == ["fail"]


# --- ElastiCache -----------------------------------------------------------------------------

def _group(targets: Targets, region: str) -> ReplicationGroupTarget:
    return next(g for g in targets.replication_groups if g.region == region)


def test_compliant_replication_group_passes(targets: Targets, live: LiveAws) -> None:
    deploy_caches(targets)
    group = _group(targets, "us-east-1")
    for check in verify_aws.REPLICATION_GROUP_CHECKS:
        assert statuses(check(live, group)) == ["pass"], check.__name__


def test_automatic_failover_disabled_fails(targets: Targets, live: LiveAws) -> None:
    deploy_caches(targets)
    group = _group(targets, "us-west-2")
    _client("elasticache", "us-west-2").modify_replication_group(
        ReplicationGroupId=group.identifier, AutomaticFailoverEnabled=False,
        ApplyImmediately=True)
    (finding,) = verify_aws.check_cache_automatic_failover(live, group)
    assert (finding.status, finding.detail) == ("fail", "AutomaticFailover is disabled")
    assert statuses(verify_aws.check_cache_automatic_failover(
        live, _group(targets, "us-east-1"))) == ["pass"]


def test_multi_az_disabled_fails(targets: Targets, live: LiveAws) -> None:
    deploy_caches(targets)
    group = _group(targets, "us-east-1")
    _client("elasticache", "us-east-1").modify_replication_group(
        ReplicationGroupId=group.identifier, MultiAZEnabled=False, ApplyImmediately=True)
    (finding,) = verify_aws.check_cache_multi_az(live, group)
    assert (finding.status, finding.detail) == ("fail", "MultiAZ is disabled")


def test_group_without_replicas_fails(targets: Targets, live: LiveAws) -> None:
    group = _group(targets, "us-east-1")
    deploy_caches(targets, {group.identifier: {
        "ReplicasPerNodeGroup": 0, "AutomaticFailoverEnabled": False, "MultiAZEnabled": False}})
    (finding,) = verify_aws.check_cache_members(live, group)
    assert finding.status == "fail"
    assert "1 member cluster(s)" in finding.detail


def test_group_without_encryption_or_auth_fails(targets: Targets, live: LiveAws) -> None:
    group = _group(targets, "us-west-2")
    deploy_caches(targets, {group.identifier: {
        "TransitEncryptionEnabled": False, "AtRestEncryptionEnabled": False, "AuthToken": None}})
    (finding,) = verify_aws.check_cache_encryption(live, group)
    assert finding.status == "fail"
    for flag in ("TransitEncryptionEnabled", "AtRestEncryptionEnabled", "AuthTokenEnabled"):
        assert flag in finding.detail


def test_missing_replication_group_fails(targets: Targets, live: LiveAws) -> None:
    gone = ReplicationGroupTarget("gone-redis", "us-east-1")
    for check in verify_aws.REPLICATION_GROUP_CHECKS:
        (finding,) = check(live, gone)
        assert (finding.status, finding.detail) == ("fail", "replication group not found")


# --- S3 --------------------------------------------------------------------------------------

def _source(targets: Targets) -> BucketTarget:
    """The primary region's bucket (both replicate: each names the other as replica)."""
    return next(b for b in targets.buckets if b.region == "us-east-1")


def _replica(targets: Targets) -> BucketTarget:
    return next(b for b in targets.buckets if b.region != "us-east-1")


def test_compliant_buckets_pass(targets: Targets, live: LiveAws) -> None:
    deploy_buckets(targets)
    for bucket in targets.buckets:
        for check in verify_aws.BUCKET_CHECKS:
            assert set(statuses(check(live, bucket))) <= {"pass"}, (check.__name__, bucket)
    assert statuses(verify_aws.check_bucket_replication(live, _source(targets))) == ["pass"]


@pytest.mark.parametrize("which", ["source", "replica"])
def test_suspended_versioning_fails(targets: Targets, live: LiveAws, which: str) -> None:
    deploy_buckets(targets)
    bucket = _source(targets) if which == "source" else _replica(targets)
    _s3(bucket.region).put_bucket_versioning(Bucket=bucket.name,
                                             VersioningConfiguration={"Status": "Suspended"})
    (finding,) = verify_aws.check_bucket_versioning(live, bucket)
    assert (finding.status, finding.detail) == ("fail", "versioning is Suspended")


def test_removed_replication_fails(targets: Targets, live: LiveAws) -> None:
    deploy_buckets(targets)
    source = _source(targets)
    _s3(source.region).delete_bucket_replication(Bucket=source.name)
    (finding,) = verify_aws.check_bucket_replication(live, source)
    assert (finding.status, finding.detail) == ("fail", "no replication configuration")


def test_replication_to_another_bucket_fails(targets: Targets, live: LiveAws) -> None:
    deploy_buckets(targets)
    source = _source(targets)
    put_replication(source, "someone-elses-bucket")
    (finding,) = verify_aws.check_bucket_replication(live, source)
    assert finding.status == "fail"
    assert f"no rule replicates to {source.replica_name}" in finding.detail


def test_disabled_replication_rule_fails(targets: Targets, live: LiveAws) -> None:
    deploy_buckets(targets)
    source = _source(targets)
    put_replication(source, source.replica_name or "", status="Disabled")
    (finding,) = verify_aws.check_bucket_replication(live, source)
    assert finding.status == "fail"
    assert "disabled" in finding.detail


def test_replica_must_replicate_back(targets: Targets, live: LiveAws) -> None:
    """Two-way replication: the replica's rule back to the primary bucket is checked too."""
    deploy_buckets(targets)
    replica = _replica(targets)
    assert replica.replica_name == _source(targets).name
    _s3(replica.region).delete_bucket_replication(Bucket=replica.name)
    (finding,) = verify_aws.check_bucket_replication(live, replica)
    assert (finding.status, finding.detail) == ("fail", "no replication configuration")


def test_public_access_block_loosened_fails(targets: Targets, live: LiveAws) -> None:
    deploy_buckets(targets)
    replica = _replica(targets)
    _s3(replica.region).put_public_access_block(
        Bucket=replica.name,
        PublicAccessBlockConfiguration={**ALL_PUBLIC_ACCESS_BLOCKED, "BlockPublicPolicy": False})
    (finding,) = verify_aws.check_bucket_public_access_block(live, replica)
    assert (finding.status, finding.detail) == ("fail", "off: BlockPublicPolicy")


def test_public_access_block_removed_fails(targets: Targets, live: LiveAws) -> None:
    deploy_buckets(targets)
    source = _source(targets)
    _s3(source.region).delete_public_access_block(Bucket=source.name)
    (finding,) = verify_aws.check_bucket_public_access_block(live, source)
    assert finding.status == "fail"
    assert "BlockPublicAcls" in finding.detail


def test_default_encryption_not_kms_fails(targets: Targets, live: LiveAws) -> None:
    deploy_buckets(targets)
    source = _source(targets)
    _s3(source.region).put_bucket_encryption(Bucket=source.name, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    (finding,) = verify_aws.check_bucket_kms_encryption(live, source)
    assert finding.status == "fail"
    assert "AES256" in finding.detail


def test_missing_bucket_fails_every_bucket_check(targets: Targets, live: LiveAws) -> None:
    gone = dataclasses.replace(_source(targets), name="no-such-bucket-anywhere")
    for check in verify_aws.BUCKET_CHECKS:
        (finding,) = check(live, gone)
        assert (finding.status, finding.detail) == ("fail", "bucket not found"), check.__name__


# --- Route 53 --------------------------------------------------------------------------------

# The failover pair is keyed by region; with the committed activeRegion the primary
# (active) side is us-east-1.
ROLE_REGION = {"primary": "us-east-1", "secondary": "us-west-2"}


def _health_check(targets: Targets, role: str) -> HealthCheckTarget:
    """The health check of the region with that role ("primary" / "secondary")."""
    region = {"primary": "us-east-1", "secondary": "us-west-2"}[role]
    return next(hc for hc in targets.health_checks if hc.name_tag.endswith(region))


def _record(targets: Targets, role: str) -> FailoverRecordTarget:
    """The record of the region with that role ("primary" / "secondary")."""
    return next(r for r in targets.failover_records if r.role == role.upper())


def test_https_health_checks_pass(targets: Targets, live: LiveAws) -> None:
    deploy_dns(targets)
    for target in targets.health_checks:
        assert statuses(verify_aws.check_health_check(live, target)) == ["pass"]


def test_http_health_check_fails(targets: Targets, live: LiveAws) -> None:
    deploy_dns(targets, check_type="HTTP")
    (finding,) = verify_aws.check_health_check(live, _health_check(targets, "primary"))
    assert finding.status == "fail"
    assert "type is HTTP, not HTTPS" in finding.detail


def test_disabled_health_check_fails(targets: Targets, live: LiveAws) -> None:
    deploy_dns(targets)
    target = _health_check(targets, "secondary")
    check_id = next(hc["Id"] for hc in live.health_checks("us-east-1")
                    if hc["Tags"]["Name"] == target.name_tag)
    _route53().update_health_check(HealthCheckId=check_id, Disabled=True)
    (finding,) = verify_aws.check_health_check(LiveAws(AwsClients()), target)
    assert finding.status == "fail"
    assert "disabled" in finding.detail


def test_inverted_health_check_fails(targets: Targets, live: LiveAws) -> None:
    deploy_dns(targets)
    target = _health_check(targets, "primary")
    check_id = next(hc["Id"] for hc in live.health_checks("us-east-1")
                    if hc["Tags"]["Name"] == target.name_tag)
    _route53().update_health_check(HealthCheckId=check_id, Inverted=True)
    (finding,) = verify_aws.check_health_check(LiveAws(AwsClients()), target)
    assert (finding.status, finding.detail) == ("fail", f"{check_id}: inverted")


def test_deleted_health_check_fails(targets: Targets, live: LiveAws) -> None:
    deploy_dns(targets)
    target = _health_check(targets, "primary")
    check_id = next(hc["Id"] for hc in live.health_checks("us-east-1")
                    if hc["Tags"]["Name"] == target.name_tag)
    _route53().delete_health_check(HealthCheckId=check_id)
    fresh = LiveAws(AwsClients())
    (finding,) = verify_aws.check_health_check(fresh, target)
    assert finding.status == "fail"
    assert "not found" in finding.detail
    # ...and the record that pointed at it no longer has a working health check.
    (record,) = verify_aws.check_failover_record(fresh, _record(targets, "primary"))
    assert record.status == "fail"
    assert f"health check {check_id} does not exist" in record.detail


def test_failover_records_pass_by_plan_zone_id_too(targets: Targets, live: LiveAws) -> None:
    zone_id = deploy_dns(targets)
    for record in targets.failover_records:
        # Found by domain (the plan's zone ID does not exist in moto)...
        assert statuses(verify_aws.check_failover_record(live, record)) == ["pass"]
        # ...and by the zone ID, when the plan carries the real one.
        by_id = dataclasses.replace(record, zone_id=zone_id.rsplit("/", 1)[-1], domain="x.invalid")
        assert statuses(verify_aws.check_failover_record(live, by_id)) == ["pass"]


def test_zone_lookup_by_domain_skips_private_zones(targets: Targets, live: LiveAws) -> None:
    record = _record(targets, "primary")
    vpc = _client("ec2", "us-east-1").create_vpc(
        CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    _route53().create_hosted_zone(
        Name=record.domain, CallerReference="private", HostedZoneConfig={"PrivateZone": True},
        VPC={"VPCRegion": "us-east-1", "VPCId": vpc})
    public_zone = deploy_dns(targets)
    assert live.hosted_zone_id("us-east-1", record.zone_id, record.domain) == public_zone


def test_zone_lookup_by_domain_ignores_the_zones_listed_after_it(fake_credentials: None) -> None:
    # Route 53 lists zones *starting at* DNSName (moto lists only exact matches): when
    # the domain has no zone, the next zone in the listing must not be taken for it.
    clients = AwsClients()
    stubber = Stubber(clients.get("route53", "us-east-1"))
    stubber.add_client_error("get_hosted_zone", service_error_code="NoSuchHostedZone",
                             http_status_code=404)
    stubber.add_response("list_hosted_zones_by_name", {
        "HostedZones": [{"Id": "/hostedzone/ZNEXT", "Name": "zzz.example.com.",
                         "CallerReference": "n", "Config": {"PrivateZone": False}}],
        "IsTruncated": False, "MaxItems": "100"})
    with stubber:
        zone = LiveAws(clients).hosted_zone_id("us-east-1", "ZPLAN", "workflows.example.com")
    assert zone is None


def test_record_without_health_check_fails(targets: Targets, live: LiveAws) -> None:
    zone_id = deploy_dns(targets)
    record = _record(targets, "primary")
    upsert_record(zone_id, record, health_check_id=None)
    (finding,) = verify_aws.check_failover_record(live, record)
    assert (finding.status, finding.detail) == ("fail", "no health check attached")


def test_record_on_the_other_sides_health_check_fails(targets: Targets, live: LiveAws) -> None:
    zone_id = deploy_dns(targets)
    record = _record(targets, "primary")
    standby_check = next(hc["Id"] for hc in live.health_checks("us-east-1")
                         if hc["Tags"]["Name"].endswith("us-west-2"))
    upsert_record(zone_id, record, standby_check)
    (finding,) = verify_aws.check_failover_record(LiveAws(AwsClients()), record)
    assert finding.status == "fail"
    assert "is not the one tagged" in finding.detail


def test_warm_standby_record_passes_without_a_health_check(targets: Targets,
                                                           live: LiveAws) -> None:
    deploy_dns(targets)
    record = _record(targets, "secondary")
    (finding,) = verify_aws.check_failover_record(live, record)
    assert finding.status == "pass" and "warm standby" in finding.detail


def test_a_health_check_on_the_warm_standby_record_fails(targets: Targets,
                                                         live: LiveAws) -> None:
    zone_id = deploy_dns(targets)
    record = _record(targets, "secondary")
    check_id = next(hc["Id"] for hc in live.health_checks("us-east-1")
                    if hc["Tags"]["Name"].endswith("us-west-2"))
    upsert_record(zone_id, record, check_id)
    (finding,) = verify_aws.check_failover_record(LiveAws(AwsClients()), record)
    assert finding.status == "fail" and "the plan has none" in finding.detail


def test_record_with_the_wrong_failover_role_fails(targets: Targets, live: LiveAws) -> None:
    zone_id = deploy_dns(targets)
    record = _record(targets, "primary")
    check_id = next(hc["Id"] for hc in live.health_checks("us-east-1")
                    if hc["Tags"]["Name"] == record.health_check_name_tag)
    upsert_record(zone_id, dataclasses.replace(record, role="SECONDARY"), check_id)
    (finding,) = verify_aws.check_failover_record(LiveAws(AwsClients()), record)
    assert (finding.status, finding.detail) == (
        "fail", "failover role is SECONDARY, plan has PRIMARY")


def test_missing_record_or_zone_fails(targets: Targets, live: LiveAws) -> None:
    deploy_dns(targets)
    renamed = dataclasses.replace(_record(targets, "primary"), set_identifier="blue")
    assert statuses(verify_aws.check_failover_record(live, renamed)) == ["fail"]
    no_zone = dataclasses.replace(_record(targets, "primary"), domain="elsewhere.example.org")
    (finding,) = verify_aws.check_failover_record(live, no_zone)
    assert finding.status == "fail"
    assert "hosted zone" in finding.detail


# --- the command ------------------------------------------------------------------------------

@pytest.fixture
def outputs_file(tmp_path: Path) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({**LIVE_OUTPUTS, "orchestratorUrl": "https://x"}))
    return path


def test_command_exit_0_and_json_report_when_compliant(
        targets: Targets, aws: None, outputs_file: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    deploy_all(targets)
    report = tmp_path / "out" / "verify.json"
    code = verify_main(["--plan", str(PROD_PLAN), "--outputs", str(outputs_file),
                        "--json", str(report)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "CHECK" in out and "aurora.global-members" in out
    assert out.rstrip().endswith("failed: passed")
    document = json.loads(report.read_text())
    assert document["passed"] is True
    assert document["stack"] == "prod"
    assert document["summary"]["fail"] == 0
    assert {f["check"] for f in document["findings"]} == ALL_CHECKS


def test_command_exit_1_on_drift_or_a_writer_outside_the_active_region(
        targets: Targets, aws: None, outputs_file: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    deploy_aurora(targets, writer_region="us-west-2")
    deploy_caches(targets)
    deploy_buckets(targets)
    deploy_dns(targets)
    argv = ["--plan", str(PROD_PLAN), "--outputs", str(outputs_file)]
    assert verify_main(argv) == 1  # the stack still names us-east-1
    failed = [line for line in capsys.readouterr().out.splitlines() if "  FAIL  " in line]
    assert len(failed) == 1 and failed[0].startswith("active-region")
    source = _source(targets)
    _s3(source.region).put_bucket_versioning(Bucket=source.name,
                                             VersioningConfiguration={"Status": "Suspended"})
    assert verify_main(argv) == 1
    failed = [line for line in capsys.readouterr().out.splitlines() if "  FAIL  " in line]
    assert len(failed) == 2
    assert "s3.versioning" in failed[1] and source.name in failed[1]


def test_command_exit_2_without_bucket_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert verify_main(["--plan", str(PROD_PLAN)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no live name for bucket(s)")
    assert "Traceback" not in err


@pytest.mark.parametrize("argv, message", [
    (["--plan", "/nonexistent/plan.json", "--bucket", "a=b"], "cannot read plan"),
    (["--plan", str(PROD_PLAN), "--bucket", "artifactBucket"], "expected LOGICAL=NAME"),
    ([], "--plan"),
])
def test_command_exit_2_on_usage_errors(argv: list[str], message: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert verify_main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_command_exit_2_without_credentials(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, outputs_file: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-role probe
    assert verify_main(["--plan", str(PROD_PLAN), "--outputs", str(outputs_file)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no AWS credentials found")
    assert len(err.strip().splitlines()) == 1


class _AccessDeniedClients(AwsClients):
    """Real botocore clients whose first call is answered with AccessDenied."""

    def get(self, service: str, region: str) -> Any:
        client = super().get(service, region)
        stubber = Stubber(client)
        stubber.add_client_error("describe_global_clusters", service_error_code="AccessDenied",
                                 service_message="not authorized to rds:DescribeGlobalClusters",
                                 http_status_code=403)
        stubber.activate()
        return client


def test_command_exit_2_names_the_api_and_region_on_access_denied(
        fake_credentials: None, monkeypatch: pytest.MonkeyPatch, outputs_file: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(verify_cli, "AwsClients", _AccessDeniedClients)
    assert verify_main(["--plan", str(PROD_PLAN), "--outputs", str(outputs_file)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: AWS DescribeGlobalClusters in us-east-1 failed")
    assert "AccessDenied" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_not_found_is_drift_but_other_api_errors_stop_the_run(
        fake_credentials: None) -> None:
    clients = _AccessDeniedClients()
    target = GlobalClusterTarget("g", "us-east-1", "us-east-1", ())
    only_global = Targets((target,), (), (), (), (), ())
    with pytest.raises(verify_aws.AwsApiError, match="check_global_cluster_members on g"):
        verify(only_global, clients)
