"""RedisReplicationGroup under the recording mock engine."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.aws.redis import (
    RedisReplicationGroup,
    RedisReplicationGroupArgs,
    resolve_settings,
)
from components.base import Tier
from hastack.plan.recorder import Registration
from hastack.plan.runner import Recording, run_program

GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
SUBNET_GROUP = "aws:elasticache/subnetGroup:SubnetGroup"
KEY = "aws:kms/key:Key"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
TOKEN = "random:index/randomPassword:RandomPassword"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"

REGION = "eu-west-1"
CIDR = "10.30.0.0/18"
NODE_SG = "sg-0123456789abcdef0"


def _plan(tier: Tier = "prod", **overrides: Any) -> Recording:
    def program() -> None:
        provider = aws.Provider("regional", region=REGION)
        fields: dict[str, Any] = {
            "tier": tier, "provider": provider, "region": REGION, "vpc_id": "vpc-1",
            "subnet_ids": ["subnet-a", "subnet-b", "subnet-c"],
            "allowed_cidrs": [CIDR], "allowed_security_group_ids": [NODE_SG],
        }
        fields.update(overrides)
        cache = RedisReplicationGroup("hastack-cache", RedisReplicationGroupArgs(**fields))
        pulumi.export("primary", cache.primary_endpoint)
        pulumi.export("reader", cache.reader_endpoint)
        pulumi.export("port", cache.port)
        pulumi.export("secret_arn", cache.secret_arn)
        pulumi.export("cache_host", cache.cache_endpoint.host)
        pulumi.export("cache_tls", cache.cache_endpoint.tls)
        pulumi.export("cache_token", cache.cache_endpoint.auth_token)

    return run_program(program, project="hastack", stack="test", config={})


@pytest.fixture(scope="module")
def prod() -> Recording:
    return _plan("prod")


@pytest.fixture(scope="module")
def dev() -> Recording:
    return _plan("dev")


_of = Recording.of_type


def _one(recording: Recording, type_token: str) -> Registration:
    found = _of(recording, type_token)
    assert len(found) == 1, [r.name for r in found]
    return found[0]


@pytest.mark.parametrize(("plan", "nodes"), [("prod", 3), ("dev", 2)])
def test_failover_across_zones(plan: str, nodes: int, request: Any) -> None:
    group = _one(request.getfixturevalue(plan), GROUP)
    assert group.inputs["automaticFailoverEnabled"] is True
    assert group.inputs["multiAzEnabled"] is True
    assert group.inputs["numCacheClusters"] == nodes
    zones = group.inputs["preferredCacheClusterAzs"]
    assert len(zones) == nodes and len(set(zones)) == nodes
    assert all(zone.startswith(REGION) for zone in zones)
    assert group.inputs["clusterMode"] == "disabled"


def test_tls_only_and_encrypted_at_rest_with_the_cmk(prod: Recording) -> None:
    group = _one(prod, GROUP)
    key = _one(prod, KEY)
    assert key.inputs["enableKeyRotation"] is True
    assert group.inputs["transitEncryptionEnabled"] is True
    assert group.inputs["transitEncryptionMode"] == "required"
    assert group.inputs["atRestEncryptionEnabled"] is True
    assert group.inputs["kmsKeyId"] == key.outputs["arn"]
    assert group.inputs["port"] == 6379


@pytest.mark.parametrize("plan", ["prod", "dev"])
def test_auth_token_is_only_ever_a_secret(plan: str, request: Any) -> None:
    recording: Recording = request.getfixturevalue(plan)
    group = _one(recording, GROUP)
    assert group.inputs["authToken"] == "[secret]"
    assert "authToken" in group.secret_inputs
    assert "secretString" in _one(recording, SECRET_VERSION).secret_inputs
    token = _one(recording, TOKEN)
    text = token.outputs["result"]
    assert len(text) >= 16
    # ElastiCache accepts only !&#$^<>- as special characters in an AUTH token.
    assert set(token.inputs["overrideSpecial"]) <= set("!&#$^<>-")
    for registration in recording.registrations:
        if registration.urn != token.urn:
            assert text not in json.dumps(registration.inputs), registration.name
    assert "cache_token" in recording.output_secrets


def test_token_is_stored_in_secrets_manager_under_the_cmk(prod: Recording) -> None:
    secret = _one(prod, SECRET)
    assert secret.inputs["kmsKeyId"] == _one(prod, KEY).outputs["arn"]
    assert secret.urn in _one(prod, SECRET_VERSION).dependencies
    assert prod.outputs["secret_arn"].startswith(f"arn:aws:secretsmanager:{REGION}:")


@pytest.mark.parametrize(("plan", "days"), [("prod", 7), ("dev", 1)])
def test_snapshots_are_kept(plan: str, days: int, request: Any) -> None:
    group = _one(request.getfixturevalue(plan), GROUP)
    assert group.inputs["snapshotRetentionLimit"] == days > 0
    assert group.inputs["snapshotWindow"]
    assert group.inputs["snapshotWindow"] != group.inputs["maintenanceWindow"]


def test_dedicated_subnet_group_and_a_tight_security_group(prod: Recording) -> None:
    group = _one(prod, GROUP)
    assert group.inputs["subnetGroupName"] == _one(prod, SUBNET_GROUP).outputs["name"]
    security_group = _one(prod, SECURITY_GROUP)
    assert group.inputs["securityGroupIds"] == [security_group.id]
    rules = _of(prod, INGRESS)
    assert len(rules) == 2
    for rule in rules:
        assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (6379, 6379)
        assert rule.inputs["securityGroupId"] == security_group.id
    sources = {r.inputs.get("cidrIpv4") or r.inputs.get("referencedSecurityGroupId")
               for r in rules}
    assert sources == {CIDR, NODE_SG}


def test_slow_log_goes_to_a_log_group_with_retention(prod: Recording, dev: Recording) -> None:
    group = _one(prod, GROUP)
    logs = {r.outputs["name"]: r for r in _of(prod, LOG_GROUP)}
    deliveries = {d["logType"]: d for d in group.inputs["logDeliveryConfigurations"]}
    slow = deliveries["slow-log"]
    assert slow["destinationType"] == "cloudwatch-logs"
    assert logs[slow["destination"]].inputs["retentionInDays"] == 365
    assert all(r.inputs["retentionInDays"] == 30 for r in _of(dev, LOG_GROUP))


def test_prod_protects_and_dev_does_not(prod: Recording, dev: Recording) -> None:
    for token in (GROUP, KEY, SECRET):
        assert _one(prod, token).protect and _one(prod, token).retain_on_delete
        assert not _one(dev, token).protect and not _one(dev, token).retain_on_delete
    assert _one(prod, GROUP).inputs["finalSnapshotIdentifier"]
    assert "finalSnapshotIdentifier" not in _one(dev, GROUP).inputs


def test_cache_endpoint_for_the_workloads(prod: Recording) -> None:
    out = prod.outputs
    assert out["cache_host"] == out["primary"] == _one(prod, GROUP).outputs[
        "primaryEndpointAddress"]
    assert out["reader"] == _one(prod, GROUP).outputs["readerEndpointAddress"]
    assert out["port"] == 6379 and out["cache_tls"] is True


def test_valkey_is_supported() -> None:
    group = _one(_plan("staging", engine="valkey", engine_version="8.0"), GROUP)
    assert (group.inputs["engine"], group.inputs["engineVersion"]) == ("valkey", "8.0")


def _args(tier: Tier = "prod", **overrides: Any) -> RedisReplicationGroupArgs:
    fields: dict[str, Any] = {"tier": tier, "provider": object(), "region": REGION,
                              "vpc_id": "v", "subnet_ids": ["s"], "allowed_cidrs": [CIDR]}
    fields.update(overrides)
    return RedisReplicationGroupArgs(**fields)


@pytest.mark.parametrize(("tier", "overrides", "message"), [
    ("prod", {"nodes": 2}, r"nodes must be >= 3 in prod"),
    ("dev", {"nodes": 1}, r"nodes must be >= 2 in dev"),
    ("prod", {"engine_version": "6.2"}, r"redis >= 7\.0"),
    ("prod", {"engine": "valkey", "engine_version": "7.0"}, r"valkey >= 7\.2"),
    ("prod", {"engine": "memcached"}, r"engine must be 'redis' or 'valkey'"),
    ("prod", {"snapshot_retention_days": 0}, r"snapshot_retention_days must be 1\.\.35"),
    ("prod", {"allowed_cidrs": []}, r"allowed_cidrs or allowed_security_group_ids"),
    ("prod", {"allowed_cidrs": ["0.0.0.0/0"]}, r"must not contain 0\.0\.0\.0/0"),
    ("prod", {"zones": ["eu-west-1a"]}, r"at least 2 distinct zones"),
    ("prod", {"region": "xx-nowhere-1"}, r"unknown region"),
])
def test_invalid_arguments_raise_clear_errors(tier: Tier, overrides: dict[str, Any],
                                              message: str) -> None:
    with pytest.raises(ValueError, match=message):
        resolve_settings("hastack-cache", _args(tier, **overrides))


def test_replication_group_id_length_is_checked() -> None:
    with pytest.raises(ValueError, match="not a valid replication group id"):
        resolve_settings("a-very-long-cache-name-for-this-platform-us-east-1", _args())
    with pytest.raises(ValueError, match="not a valid replication group id"):
        resolve_settings("Cache-Us-East-1", _args())


def test_log_groups_are_encrypted_with_the_group_key_which_logs_may_use(prod: Recording) -> None:
    key = _one(prod, KEY)
    logs = _of(prod, LOG_GROUP)
    assert len(logs) == 2
    assert all(log.inputs["kmsKeyId"] == key.outputs["arn"] for log in logs)
    policy = json.loads(key.inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    arns = by_sid["CloudWatchLogsEncryptsItsLogGroups"]["Condition"]["ArnEquals"][
        "kms:EncryptionContext:aws:logs:arn"]
    assert sorted(a.rsplit(":log-group:", 1)[1] for a in arns) == sorted(
        log.inputs["name"] for log in logs)
    via = by_sid["UseThroughServices"]["Condition"]["StringEquals"]["kms:ViaService"]
    assert via == [f"elasticache.{REGION}.amazonaws.com",
                   f"secretsmanager.{REGION}.amazonaws.com"]
    # The account administers the key but cannot use it outside those paths.
    admin = by_sid["AccountAdministersKeyThroughIam"]
    assert "kms:Decrypt" not in admin["Action"] and "kms:*" not in admin["Action"]
    assert "kms:PutKeyPolicy" in admin["Action"] or "kms:Put*" in admin["Action"]



def test_auth_token_rotates_with_the_label_and_the_old_one_stays_valid(prod: Recording) -> None:
    assert "keepers" not in _one(prod, TOKEN).inputs
    rotated = _plan("prod", credentials_rotation="r2")
    assert _one(rotated, TOKEN).inputs["keepers"] == {"rotation": "r2"}
    # ROTATE keeps the previous token valid next to the new one until the next rotation.
    assert _one(rotated, GROUP).inputs["authTokenUpdateStrategy"] == "ROTATE"
