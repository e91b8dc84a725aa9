"""ElastiCache (Redis/Valkey replication groups): failover, encryption, AUTH, backups."""

from __future__ import annotations

from hastack_policies.catalogue import (
    HA,
    HA_COSTLY,
    HIGH,
    MEDIUM,
    SECURITY,
    Report,
    Subject,
    checkov,
    floor_setting,
    fsbp,
    own,
    resource_rule,
)
from hastack_policies.tokens import ELASTICACHE_REPLICATION_GROUP
from hastack_policies.values import as_int, is_set, is_unknown, peek, truthy, value

GROUP = (ELASTICACHE_REPLICATION_GROUP,)


@resource_rule(
    name="elasticache-automatic-failover",
    description="Replication groups fail over automatically to a replica in another AZ.",
    severity=HIGH, levels=HA,
    anchors=(fsbp("ElastiCache.3"),),
    types=GROUP,
    remediation="Set automaticFailoverEnabled=true and multiAzEnabled=true (needs >= 2 nodes).",
)
def elasticache_automatic_failover(subject: Subject, report: Report) -> None:
    if not truthy(value(subject.props, "automaticFailoverEnabled", default=False)):
        report("automaticFailoverEnabled is not true: losing the primary loses writes "
               "until someone acts.")
    if not truthy(value(subject.props, "multiAzEnabled", default=False)):
        report("multiAzEnabled is not true: replicas may share the primary's AZ.")


def _node_count(subject: Subject) -> int:
    shards = as_int(value(subject.props, "numNodeGroups", default=0))
    if shards:
        return shards * (1 + as_int(value(subject.props, "replicasPerNodeGroup", default=0)))
    return as_int(value(subject.props, "numCacheClusters", default=1), 1)


@resource_rule(
    name="elasticache-node-count",
    description="Replication groups (or every shard) have a primary and at least one replica.",
    severity=MEDIUM, levels=HA_COSTLY,
    anchors=(fsbp("ElastiCache.3"),),
    types=GROUP,
    remediation="Raise cache.nodesPerRegion to >= 2 (numCacheClusters or replicasPerNodeGroup).",
    settings={"minNodes": floor_setting("cache.nodesPerRegion",
                                        "Fewest nodes per replication group")},
)
def elasticache_node_count(subject: Subject, report: Report) -> None:
    if is_set(subject.props, "numNodeGroups"):
        replicas = as_int(value(subject.props, "replicasPerNodeGroup", default=0))
        if replicas < 1:
            report("replicasPerNodeGroup is 0: a shard has no replica to fail over to.")
        return
    count = _node_count(subject)
    if count < subject.config["minNodes"]:
        report(f"numCacheClusters is {count} (< {subject.config['minNodes']}).")


@resource_rule(
    name="elasticache-at-rest-encryption-cmk",
    description="Cache data at rest is encrypted with a customer-managed KMS key.",
    severity=HIGH, levels=SECURITY,
    anchors=(fsbp("ElastiCache.4"), checkov("CKV_AWS_29"), checkov("CKV_AWS_191")),
    types=GROUP,
    remediation="Set atRestEncryptionEnabled=true and kmsKeyId to a CMK ARN.",
)
def elasticache_at_rest_encryption_cmk(subject: Subject, report: Report) -> None:
    if not truthy(value(subject.props, "atRestEncryptionEnabled", default=False)):
        report("atRestEncryptionEnabled is not true.")
    if not is_set(subject.props, "kmsKeyId"):
        report("kmsKeyId is not set: the default AWS-owned key is used.")


@resource_rule(
    name="elasticache-in-transit-encryption",
    description="Clients must use TLS to talk to the cache.",
    severity=HIGH, levels=SECURITY,
    anchors=(fsbp("ElastiCache.5"), checkov("CKV_AWS_30")),
    types=GROUP,
    remediation="Set transitEncryptionEnabled=true (and transitEncryptionMode='required').",
)
def elasticache_in_transit_encryption(subject: Subject, report: Report) -> None:
    if not truthy(value(subject.props, "transitEncryptionEnabled", default=False)):
        report("transitEncryptionEnabled is not true.")
    elif value(subject.props, "transitEncryptionMode") == "preferred":
        report("transitEncryptionMode is 'preferred': plain-text clients are still accepted.")


@resource_rule(
    name="elasticache-auth",
    description="Clients must authenticate (AUTH token or RBAC user groups).",
    severity=HIGH, levels=SECURITY,
    anchors=(fsbp("ElastiCache.6"), checkov("CKV_AWS_31")),
    types=GROUP,
    remediation="Set authToken from a generated secret, or userGroupIds.",
)
def elasticache_auth(subject: Subject, report: Report) -> None:
    has_token = is_set(subject.props, "authToken") or is_set(subject.props, "authTokenWoVersion")
    if not has_token and not is_set(subject.props, "userGroupIds"):
        report("neither authToken nor userGroupIds is set: anyone in the VPC can connect.")


@resource_rule(
    name="elasticache-snapshot-retention",
    description="Automatic snapshots are kept at least the configured number of days.",
    severity=MEDIUM, levels=SECURITY,
    anchors=(fsbp("ElastiCache.1"),),
    types=GROUP,
    remediation="Raise cache.snapshotRetentionDays (snapshotRetentionLimit).",
    settings={"minimumDays": floor_setting("cache.snapshotRetentionDays",
                                           "Fewest days of snapshots")},
)
def elasticache_snapshot_retention(subject: Subject, report: Report) -> None:
    days = as_int(value(subject.props, "snapshotRetentionLimit", default=0))
    if days < subject.config["minimumDays"]:
        report(f"snapshotRetentionLimit is {days} (< {subject.config['minimumDays']}).")


@resource_rule(
    name="elasticache-no-default-subnet-group",
    description="Replication groups live in a subnet group of their own, not 'default'.",
    severity=MEDIUM, levels=SECURITY,
    anchors=(fsbp("ElastiCache.7"),),
    types=GROUP,
    remediation="Create an aws.elasticache.SubnetGroup over the private subnets and use it.",
)
def elasticache_no_default_subnet_group(subject: Subject, report: Report) -> None:
    name = peek(subject.props, "subnetGroupName")
    if is_unknown(name):
        return  # computed from a SubnetGroup resource: by construction not 'default'
    if not name or name == "default":
        report("subnetGroupName is unset or 'default': the cache may land in public subnets.")



@resource_rule(
    name="elasticache-auth-rotation-safe",
    description="Changing the AUTH token keeps the previous one valid (strategy ROTATE), so "
                "a rotation does not lock clients out before their pods restart.",
    severity=MEDIUM, levels=SECURITY,
    anchors=(own("SEC-ROT-1"),),
    types=GROUP,
    remediation="Set authTokenUpdateStrategy='ROTATE' next to authToken; rotate by changing "
                "cache.credentialsRotation in the stack file.",
)
def elasticache_auth_rotation_safe(subject: Subject, report: Report) -> None:
    if not is_set(subject.props, "authToken"):
        return
    strategy = value(subject.props, "authTokenUpdateStrategy")
    if strategy != "ROTATE":
        report(f"authTokenUpdateStrategy is {strategy!r}: the next token change drops the "
               "current token at once and every connected client with it.")
