"""AuroraGlobalDatabase under the recording mock engine."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.aws.aurora import (
    AuroraGlobalDatabase,
    AuroraGlobalDatabaseArgs,
    AuroraRegion,
    resolve_settings,
)
from components.base import Tier
from hastack.config.loader import load_settings
from hastack.plan.recorder import Registration
from hastack.plan.runner import Recording, run_program

GLOBAL = "aws:rds/globalCluster:GlobalCluster"
CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
PARAMS = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
KEY = "aws:kms/key:Key"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
PASSWORD = "random:index/randomPassword:RandomPassword"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"

EAST, WEST = "us-east-1", "us-west-2"
CIDRS = {EAST: ["10.10.0.0/18", "10.10.64.0/18"], WEST: ["10.20.0.0/18"]}


def _region(provider: aws.Provider, region: str) -> AuroraRegion:
    return AuroraRegion(provider=provider, region=region, vpc_id=f"vpc-{region}",
                        subnet_ids=[f"subnet-{region}-{i}" for i in range(3)],
                        allowed_cidrs=CIDRS[region])


def _plan(tier: Tier = "prod", *, two_regions: bool = True, **overrides: Any) -> Recording:
    def program() -> None:
        east = aws.Provider("east", region=EAST)
        west = aws.Provider("west", region=WEST)
        db = AuroraGlobalDatabase("hastack-db", AuroraGlobalDatabaseArgs(
            tier=tier, primary=_region(east, EAST),
            secondary=_region(west, WEST) if two_regions else None, **overrides))
        pulumi.export("writer", db.writer_endpoint)
        pulumi.export("reader", db.reader_endpoint)
        pulumi.export("global_writer", db.global_writer_endpoint)
        pulumi.export("readers", {r: c.reader_endpoint for r, c in db.regions.items()})
        pulumi.export("secret_arn", db.secret_arn)
        pulumi.export("port", db.port)
        pulumi.export("db_host", db.database_endpoint.host)
        pulumi.export("db_name", db.database_endpoint.database)
        pulumi.export("db_user", db.database_endpoint.username)

    return run_program(program, project="hastack", stack="test", config={})


@pytest.fixture(scope="module")
def prod() -> Recording:
    return _plan("prod")


@pytest.fixture(scope="module")
def dev() -> Recording:
    return _plan("dev", two_regions=False)


_of = Recording.of_type


def _in(region: str) -> Callable[[Registration], bool]:
    provider = "east" if region == EAST else "west"
    return lambda r: (r.provider or "").endswith(f"::{provider}")


def _one(recording: Recording, type_token: str, region: str | None = None) -> Registration:
    found = _of(recording, type_token, _in(region) if region else lambda _: True)
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def test_prod_builds_a_global_database_with_a_secondary_cluster_in_the_other_region(
        prod: Recording) -> None:
    glob = _one(prod, GLOBAL)
    assert glob.inputs["engine"] == "aurora-postgresql"
    major, minor = (int(p) for p in glob.inputs["engineVersion"].split(".")[:2])
    assert (major, minor) >= (14, 9)
    assert glob.inputs["storageEncrypted"] is True
    for region in (EAST, WEST):
        cluster = _one(prod, CLUSTER, region)
        assert cluster.inputs["globalClusterIdentifier"] == glob.id == "hastack-db"
        assert cluster.inputs["storageEncrypted"] is True


def test_each_region_encrypts_with_its_own_rotating_key(prod: Recording) -> None:
    arns = {}
    for region in (EAST, WEST):
        key = _one(prod, KEY, region)
        assert key.inputs["enableKeyRotation"] is True
        arn = key.outputs["arn"]
        assert f":{region}:" in arn
        arns[region] = arn
        assert _one(prod, CLUSTER, region).inputs["kmsKeyId"] == arn
        for instance in _of(prod, INSTANCE, _in(region)):
            assert instance.inputs["performanceInsightsKmsKeyId"] == arn
    assert arns[EAST] != arns[WEST]


def test_secondary_has_no_master_credentials_and_waits_for_the_primary(prod: Recording) -> None:
    primary, secondary = _one(prod, CLUSTER, EAST), _one(prod, CLUSTER, WEST)
    assert primary.inputs["masterUsername"] == "hastack_admin"
    assert "masterPassword" in primary.secret_inputs
    for field in ("masterUsername", "masterPassword", "databaseName"):
        assert field not in secondary.inputs
    primary_instances = {r.urn for r in _of(prod, INSTANCE, _in(EAST))}
    assert primary.urn in secondary.dependencies
    assert primary_instances <= set(secondary.dependencies)


def test_switchover_fields_are_ignored_on_both_members(prod: Recording) -> None:
    for region in (EAST, WEST):
        ignored = set(_one(prod, CLUSTER, region).ignore_changes)
        assert {"globalClusterIdentifier", "replicationSourceIdentifier",
                "engineVersion"} <= ignored


def test_instances_spread_over_distinct_zones_with_promotion_tiers(prod: Recording) -> None:
    expected = {EAST: 3, WEST: 2}  # prod: instancesPerRegion 3, secondaryInstances 2
    for region, count in expected.items():
        instances = sorted(_of(prod, INSTANCE, _in(region)), key=lambda r: r.name)
        assert len(instances) == count
        zones = [r.inputs["availabilityZone"] for r in instances]
        assert len(set(zones)) == count and all(z.startswith(region) for z in zones)
        tiers = [r.inputs["promotionTier"] for r in instances]
        assert len(set(tiers)) == count
        assert all(r.inputs["publiclyAccessible"] is False for r in instances)


def test_clusters_enforce_tls_iam_auth_logs_and_backups(prod: Recording) -> None:
    for region in (EAST, WEST):
        cluster = _one(prod, CLUSTER, region)
        params = _one(prod, PARAMS, region)
        assert {"name": "rds.force_ssl", "value": "1"} in params.inputs["parameters"]
        assert params.inputs["family"] == "aurora-postgresql17"
        assert cluster.inputs["dbClusterParameterGroupName"] == params.outputs["name"]
        assert cluster.inputs["dbSubnetGroupName"] == _one(prod, SUBNET_GROUP, region
                                                           ).outputs["name"]
        assert cluster.inputs["iamDatabaseAuthenticationEnabled"] is True
        assert cluster.inputs["enabledCloudwatchLogsExports"] == ["postgresql"]
        assert cluster.inputs["copyTagsToSnapshot"] is True
        assert cluster.inputs["backupRetentionPeriod"] == 14


def test_performance_insights_and_enhanced_monitoring(prod: Recording) -> None:
    role = _one(prod, ROLE)
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    attachment = _one(prod, ATTACHMENT)
    assert attachment.inputs["policyArn"].endswith(
        ":iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole")
    for instance in _of(prod, INSTANCE):
        assert instance.inputs["performanceInsightsEnabled"] is True
        assert instance.inputs["monitoringInterval"] == 15
        assert instance.inputs["monitoringRoleArn"] == role.outputs["arn"]
        assert instance.inputs["autoMinorVersionUpgrade"] is True
        assert attachment.urn in instance.dependencies


def test_security_groups_admit_5432_only_from_the_given_cidrs(prod: Recording) -> None:
    for region in (EAST, WEST):
        rules = _of(prod, INGRESS, _in(region))
        assert sorted(r.inputs["cidrIpv4"] for r in rules) == sorted(CIDRS[region])
        for rule in rules:
            assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (5432, 5432)
            assert rule.inputs["ipProtocol"] == "tcp"
        groups = {r.inputs["securityGroupId"] for r in rules}
        assert _one(prod, CLUSTER, region).inputs["vpcSecurityGroupIds"] == sorted(groups)


def test_prod_protects_and_snapshots_its_data(prod: Recording) -> None:
    assert _one(prod, GLOBAL).inputs["deletionProtection"] is True
    for region in (EAST, WEST):
        cluster = _one(prod, CLUSTER, region)
        assert cluster.inputs["deletionProtection"] is True
        assert cluster.inputs["skipFinalSnapshot"] is False
        assert cluster.inputs["finalSnapshotIdentifier"]
    for token in (GLOBAL, CLUSTER, KEY, SECRET):
        for registration in _of(prod, token):
            assert registration.protect and registration.retain_on_delete, registration.name


def test_dev_is_one_regional_cluster_without_protection(dev: Recording) -> None:
    assert _of(dev, GLOBAL) == []
    cluster = _one(dev, CLUSTER)
    assert "globalClusterIdentifier" not in cluster.inputs
    assert cluster.ignore_changes == []
    assert cluster.inputs["deletionProtection"] is False
    assert cluster.inputs["skipFinalSnapshot"] is True
    assert cluster.inputs["backupRetentionPeriod"] == 7
    assert len(_of(dev, INSTANCE)) == 2
    assert all(i.inputs["monitoringInterval"] == 60 for i in _of(dev, INSTANCE))
    for token in (CLUSTER, KEY, SECRET):
        for registration in _of(dev, token):
            assert not registration.protect and not registration.retain_on_delete


@pytest.mark.parametrize("plan", ["prod", "dev"])
def test_master_password_never_appears_in_plain_text(plan: str, request: Any) -> None:
    recording: Recording = request.getfixturevalue(plan)
    password = _one(recording, PASSWORD)
    text = password.outputs["result"]
    assert len(text) >= 32
    # URL-safe: the password goes verbatim into postgresql:// connection URLs.
    assert set(password.inputs["overrideSpecial"]) <= set("-_.~")
    for registration in recording.registrations:
        if registration.urn != password.urn:
            assert text not in json.dumps(registration.inputs), registration.name
    assert "masterPassword" in _one(recording, CLUSTER, EAST).secret_inputs
    assert "secretString" in _one(recording, SECRET_VERSION).secret_inputs


def test_credentials_secret_uses_the_cmk_and_replicates_to_the_standby(
        prod: Recording) -> None:
    secret = _one(prod, SECRET)
    assert secret.inputs["kmsKeyId"] == _one(prod, KEY, EAST).outputs["arn"]
    assert secret.inputs["replicas"] == [
        {"region": WEST, "kmsKeyId": _one(prod, KEY, WEST).outputs["arn"]}]
    assert secret.urn in _one(prod, SECRET_VERSION).dependencies


def test_outputs_point_workloads_at_the_global_writer_endpoint(prod: Recording,
                                                               dev: Recording) -> None:
    out = prod.outputs
    glob = _one(prod, GLOBAL)
    assert out["global_writer"] == glob.outputs["endpoint"]
    assert out["db_host"] == out["global_writer"]
    assert out["writer"] == _one(prod, CLUSTER, EAST).outputs["endpoint"]
    assert set(out["readers"]) == {EAST, WEST}
    assert out["readers"][WEST] == _one(prod, CLUSTER, WEST).outputs["readerEndpoint"]
    assert out["port"] == 5432 and out["secret_arn"].startswith("arn:aws:secretsmanager:")
    assert (out["db_name"], out["db_user"]) == ("workflows", "hastack_admin")
    # Single region: no global endpoint; workloads use the cluster writer endpoint.
    assert dev.outputs.get("global_writer") is None
    assert dev.outputs["db_host"] == _one(dev, CLUSTER).outputs["endpoint"]


def _args(tier: Tier = "prod", two_regions: bool = True, **overrides: Any
          ) -> AuroraGlobalDatabaseArgs:
    provider: Any = object()  # resolve_settings never touches the provider
    primary = AuroraRegion(provider, EAST, "vpc", ["s"], ["10.10.0.0/16"])
    secondary = AuroraRegion(provider, WEST, "vpc", ["s"], ["10.20.0.0/16"])
    fields: dict[str, Any] = {"tier": tier, "primary": primary,
                              "secondary": secondary if two_regions else None}
    fields.update(overrides)
    return AuroraGlobalDatabaseArgs(**fields)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"engine_version": "14.8"}, "PostgreSQL >= 14.9"),
    ({"engine_version": "sixteen"}, "must look like"),
    ({"instances_per_region": 1}, "instances_per_region must be >= 2"),
    ({"secondary_instances": 1}, "secondary_instances must be >= 2 in prod"),
    ({"backup_retention_days": 7}, "backup_retention_days must be 14..35 in prod"),
    ({"instance_class": "db.t4g.medium"}, "memory-optimised"),
    ({"monitoring_interval": 20}, "monitoring_interval"),
    ({"secondary": AuroraRegion(object(), EAST, "v", ["s"], ["10.0.0.0/16"])},  # type: ignore[arg-type]
     "must differ from primary.region"),
    ({"primary": AuroraRegion(object(), EAST, "v", ["s"], [])},  # type: ignore[arg-type]
     "allowed_cidrs is empty"),
    ({"primary": AuroraRegion(object(), EAST, "v", ["s"], ["0.0.0.0/0"])},  # type: ignore[arg-type]
     "must not contain 0.0.0.0/0"),
    ({"primary": AuroraRegion(object(), EAST, "v", ["s"], ["10.0.0.0/16"], ["us-east-1a"])},  # type: ignore[arg-type]
     "at least 2 distinct zones"),
])
def test_invalid_arguments_raise_clear_errors(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        resolve_settings(_args(**overrides))


def test_dev_backup_floor_is_seven_days() -> None:
    with pytest.raises(ValueError, match=r"7\.\.35 in dev"):
        resolve_settings(_args("dev", two_regions=False, backup_retention_days=3))
    assert resolve_settings(_args("dev", two_regions=False)).backup_days == 7


def test_invalid_name_is_rejected_inside_a_program() -> None:
    def program() -> None:
        provider = aws.Provider("east", region=EAST)
        AuroraGlobalDatabase("Bad_Name", AuroraGlobalDatabaseArgs(
            tier="dev", primary=_region(provider, EAST)))

    with pytest.raises(ValueError, match="lower-case"):
        run_program(program, project="hastack", stack="test", config={})


def test_args_from_stack_config_follow_the_tier() -> None:
    config = load_settings({
        "cloud": "aws", "tier": "prod", "orchestrator": "prefect",
        "regions": {"primary": EAST, "secondary": WEST},
        "dns": {"domain": "example.com"},
    }, "test")
    provider: Any = object()
    args = AuroraGlobalDatabaseArgs.from_config(
        config, AuroraRegion(provider, EAST, "v", ["s"], ["10.10.0.0/16"]),
        AuroraRegion(provider, WEST, "v", ["s"], ["10.20.0.0/16"]))
    settings = resolve_settings(args)
    assert (settings.instances, settings.secondary_instances, settings.backup_days) == (3, 2, 14)
    assert settings.protection.deletion_protection is True


def _parameters(recording: Recording, region: str) -> dict[str, dict[str, Any]]:
    group = _one(recording, PARAMS, region)
    return {p["name"]: p for p in group.inputs["parameters"]}


def test_prod_bounds_the_global_rpo_on_the_primary_parameter_group_only(
        prod: Recording) -> None:
    managed = _parameters(prod, EAST)["rds.global_db_rpo"]
    assert managed == {"name": "rds.global_db_rpo", "value": "20", "applyMethod": "immediate"}
    # The secondary's group stays at the default (the parameter bounds the writer).
    assert "rds.global_db_rpo" not in _parameters(prod, WEST)


def test_managed_rpo_is_off_outside_prod_and_can_be_set() -> None:
    assert "rds.global_db_rpo" not in _parameters(_plan("staging"), EAST)
    custom = _plan("staging", managed_rpo_seconds=60)
    assert _parameters(custom, EAST)["rds.global_db_rpo"]["value"] == "60"


@pytest.mark.parametrize("seconds", [1, 19, 2_147_483_648])
def test_managed_rpo_outside_the_aws_range_is_refused(seconds: int) -> None:
    with pytest.raises(ValueError, match=r"managed_rpo_seconds must be 0 \(off\) or 20"):
        resolve_settings(_args(managed_rpo_seconds=seconds))
    with pytest.raises(ValueError, match="needs a secondary region"):
        resolve_settings(_args("dev", two_regions=False, managed_rpo_seconds=20))


def test_parameter_groups_log_ddl_and_load_pgaudit(prod: Recording) -> None:
    for region in (EAST, WEST):
        params = {p["name"]: p for p in _one(prod, PARAMS, region).inputs["parameters"]}
        assert params["log_statement"]["value"] == "ddl"
        assert params["log_min_duration_statement"]["value"] == "1000"
        assert params["pgaudit.log"]["value"] == "ddl,role"
        preload = params["shared_preload_libraries"]
        assert "pgaudit" in preload["value"].split(",")
        # Static parameter: RDS refuses "immediate" for it.
        assert preload["applyMethod"] == "pending-reboot"


def test_credentials_rotate_when_the_rotation_label_changes(prod: Recording) -> None:
    """No keepers by default (no surprise rotation); a label replaces the password."""
    token = "random:index/randomPassword:RandomPassword"
    (first,) = Recording.of_type(prod, token)
    assert "keepers" not in first.inputs
    rotated = _plan(credentials_rotation="2026-12")
    (second,) = Recording.of_type(rotated, token)
    assert second.inputs["keepers"] == {"rotation": "2026-12"}
    assert second.urn == first.urn  # same resource, replaced by the provider


def test_performance_insights_can_use_the_scoped_cluster_key(prod: Recording) -> None:
    """PI encrypts with the cluster key, and its reads go through RDS: the key policy's
    via-service statement must allow what the Aurora User Guide's PI key-policy example
    grants (kms:Decrypt, kms:GenerateDataKey under kms:ViaService rds.<region>)."""
    for region in (EAST, WEST):
        key = _one(prod, KEY, region)
        statements = json.loads(key.inputs["policy"])["Statement"]
        via = [s for s in statements
               if f"rds.{region}.amazonaws.com" in s.get("Condition", {}).get(
                   "StringEquals", {}).get("kms:ViaService", [])]
        assert len(via) == 1
        actions = set(via[0]["Action"])
        assert "kms:Decrypt" in actions
        assert any(a in actions for a in ("kms:GenerateDataKey", "kms:GenerateDataKey*"))
        for instance in _of(prod, INSTANCE, _in(region)):
            assert instance.inputs["performanceInsightsKmsKeyId"] == key.outputs["arn"]
