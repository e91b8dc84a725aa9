"""ElastiCache (Redis OSS or Valkey) for one region: a primary and replicas across AZs.

Cluster mode is disabled: the orchestrators use Redis as a queue/cache with one
keyspace, so HA comes from replicas in other zones and automatic failover, not
sharding. Clients connect with TLS and an AUTH token; the token lives in Secrets
Manager under the component's own KMS key.

Endpoints: `primary_endpoint` follows the primary through an automatic failover
(ElastiCache repoints the DNS name); `reader_endpoint` spreads reads over the
replicas. Neither survives the loss of the region: each region runs its own group
(a cache can be rebuilt, unlike the database).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.aws.kms import customer_managed_key, key_policy, scope_of
from components.aws.secrets import SecretRegion, stored_secret
from components.base import (
    Protection,
    Tier,
    child_options,
    rotation_keepers,
    standard_tags,
    stateful_options,
)
from components.k8s.wiring import CacheEndpoint
from hastack.config.model import StackConfig
from hastack.config.regions import AWS_REGION_ZONES, zones_of
from hastack.config.tiers import floor as tier_floor
from hastack.config.tiers import tier_defaults
from hastack.config.versions import CACHE_MIN_VERSIONS

PORT = 6379
COMPONENT = "RedisReplicationGroup"
Engine = Literal["redis", "valkey"]

# ElastiCache allows only !&#$^<>- as AUTH token specials; '-' is also safe
# unescaped in a rediss:// URL and in shells.
_TOKEN_SPECIALS = "-"
LOG_KINDS = ("slow-log", "engine-log")
_LOG_RETENTION_DAYS: dict[str, int] = {"dev": 30, "staging": 90, "prod": 365}
# Replication group IDs: 1..40 chars, a letter first, no trailing or double hyphen.
_GROUP_ID = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,38}[a-z0-9]$")
_VERSION = re.compile(r"^(\d+)\.(\d+)")
# TLS can be "required" (no plain-text listener at all) from these versions on.
_MIN_VERSIONS = CACHE_MIN_VERSIONS


@dataclass(frozen=True)
class RedisReplicationGroupArgs:
    """Inputs; every `None` falls back to the tier default in `hastack/config/tiers.py`."""

    tier: Tier
    provider: pulumi.ProviderResource
    region: str
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    # Who may connect on 6379: CIDRs and/or security groups (e.g. the EKS node SG).
    allowed_cidrs: Sequence[str] = ()
    allowed_security_group_ids: Sequence[pulumi.Input[str]] = ()
    # The zones of `subnet_ids` (the network's names for its pinned AZ IDs); defaults
    # to the region's known zone names.
    zones: Sequence[pulumi.Input[str]] = ()
    engine: Engine | None = None
    engine_version: str | None = None
    node_type: str | None = None
    nodes: int | None = None
    snapshot_retention_days: int | None = None
    log_retention_days: int | None = None
    # None: the tier's protection (`Protection.for_tier`); from_config passes the stack's.
    protection: Protection | None = None
    # A new label rotates the AUTH token (see components.base.rotation_keepers).
    credentials_rotation: str | None = None
    # SNS topic ElastiCache sends its events to (failover started/completed, node
    # replaced); the platform's alert topic of this region.
    notification_topic_arn: pulumi.Input[str] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: StackConfig, *, provider: pulumi.ProviderResource,
                    region: str, vpc_id: pulumi.Input[str],
                    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
                    allowed_cidrs: Sequence[str] = (),
                    allowed_security_group_ids: Sequence[pulumi.Input[str]] = (),
                    zones: Sequence[pulumi.Input[str]] = (),
                    ) -> RedisReplicationGroupArgs:
        cache = config.cache
        return cls(
            tier=config.tier, provider=provider, region=region, vpc_id=vpc_id,
            subnet_ids=subnet_ids, allowed_cidrs=allowed_cidrs, zones=tuple(zones),
            allowed_security_group_ids=allowed_security_group_ids,
            engine=cache.engine, engine_version=cache.engine_version,
            node_type=cache.node_type, nodes=cache.nodes_per_region,
            snapshot_retention_days=cache.snapshot_retention_days, tags=dict(config.tags),
            protection=Protection.requested(config.protect_stateful_resources,
                                            config.deletion_protection),
            credentials_rotation=cache.credentials_rotation,
        )


@dataclass(frozen=True)
class _Settings:
    engine: str
    engine_version: str
    node_type: str
    zones: list[pulumi.Input[str]]
    snapshot_days: int
    log_days: int
    final_snapshot: bool
    protection: Protection


def resolve_settings(name: str, args: RedisReplicationGroupArgs) -> _Settings:
    """Tier defaults merged with `args`, or a `ValueError` that names the bad field."""
    defaults = tier_defaults("aws", args.tier)["cache"]
    engine = args.engine or defaults["engine"]
    version = args.engine_version or defaults["engineVersion"]
    nodes = args.nodes if args.nodes is not None else int(defaults["nodesPerRegion"])
    snapshot_days = (args.snapshot_retention_days if args.snapshot_retention_days is not None
                     else int(defaults["snapshotRetentionDays"]))

    if engine not in _MIN_VERSIONS:
        raise ValueError(f"engine must be 'redis' or 'valkey' (got '{engine}')")
    match = _VERSION.match(version)
    if not match or (int(match.group(1)), int(match.group(2))) < _MIN_VERSIONS[engine]:
        low = ".".join(map(str, _MIN_VERSIONS[engine]))
        raise ValueError(f"engine_version '{version}': {engine} >= {low} is required for "
                         "TLS-only (transit_encryption_mode=required)")
    floor = tier_floor(args.tier, "cache.nodesPerRegion")
    if nodes < floor:
        raise ValueError(f"nodes must be >= {floor} in {args.tier}: a primary plus replicas "
                         f"in other zones for automatic failover (got {nodes})")
    if not 1 <= snapshot_days <= 35:
        raise ValueError(f"snapshot_retention_days must be 1..35 (got {snapshot_days})")
    if not args.allowed_cidrs and not args.allowed_security_group_ids:
        raise ValueError("allowed_cidrs or allowed_security_group_ids is required: "
                         "name who may reach the cache on 6379")
    for cidr in args.allowed_cidrs:
        if ipaddress.ip_network(cidr, strict=True).prefixlen == 0:
            raise ValueError(f"allowed_cidrs must not contain {cidr}")
    if not _GROUP_ID.match(name):
        raise ValueError(f"'{name}' is not a valid replication group id: the component's "
                         "name is the group id (lower-case, a letter first, at most 40 "
                         "characters); include the region in it, one group per region")
    if not args.zones and args.region not in AWS_REGION_ZONES:
        raise ValueError(f"{args.region}: unknown region; pass zones explicitly")
    zones: list[pulumi.Input[str]] = list(args.zones) or list(zones_of("aws", args.region))
    if len(set(zones)) < 2:
        raise ValueError(f"{args.region}: needs at least 2 distinct zones for Multi-AZ")
    return _Settings(
        engine=engine,
        engine_version=version,
        node_type=args.node_type or defaults["nodeType"],
        # One zone per node, round-robin; the first entry hosts the primary.
        zones=[zones[index % len(zones)] for index in range(nodes)],
        snapshot_days=snapshot_days,
        log_days=args.log_retention_days or _LOG_RETENTION_DAYS[args.tier],
        final_snapshot=args.tier != "dev",
        protection=args.protection or Protection.for_tier(args.tier),
    )


class RedisReplicationGroup(pulumi.ComponentResource):
    """A TLS-only, AUTH-protected, Multi-AZ ElastiCache replication group in one region."""

    primary_endpoint: pulumi.Output[str]
    reader_endpoint: pulumi.Output[str]
    port: int
    secret_arn: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]
    cache_endpoint: CacheEndpoint

    def __init__(self, name: str, args: RedisReplicationGroupArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("hastack:aws:RedisReplicationGroup", name, None, opts)
        settings = resolve_settings(name, args)
        # The resource name is the group id; callers put the region in it.
        prefix = name
        tags = standard_tags(args.tier, COMPONENT, args.tags)
        options = child_options(self, args.provider)
        protection = settings.protection

        log_names = {kind: f"/hastack/elasticache/{prefix}/{kind}" for kind in LOG_KINDS}
        # Used through ElastiCache (data at rest) and Secrets Manager (the token), and
        # by CloudWatch Logs for exactly this group's two log groups.
        scope = scope_of(self, args.provider, args.region,
                         services=("elasticache", "secretsmanager"),
                         log_groups=tuple(log_names.values()))
        key = customer_managed_key(
            f"{prefix}-key",
            description=f"ElastiCache data at rest, logs and the AUTH token of {prefix}",
            tier=args.tier, protection=protection, tags=tags, opts=options,
            policy=key_policy(scope))
        token = random.RandomPassword(
            f"{prefix}-auth-token", length=48, special=True,
            override_special=_TOKEN_SPECIALS, min_lower=1, min_upper=1, min_numeric=1,
            # Rotation: with auth_token_update_strategy ROTATE the old token stays valid
            # next to the new one, so clients keep working until their pods roll.
            keepers=rotation_keepers(args.credentials_rotation),
            opts=pulumi.ResourceOptions(parent=self))
        auth_token: pulumi.Output[str] = pulumi.Output.secret(token.result)
        subnet_group = aws.elasticache.SubnetGroup(
            f"{prefix}-subnets", subnet_ids=args.subnet_ids,
            description=f"Private subnets of {prefix}", tags=tags, opts=options)
        security_group = self._security_group(prefix, args, tags, options)
        # Slow queries can quote keys and values: encrypted with the group's CMK.
        slow_log, engine_log = (
            aws.cloudwatch.LogGroup(
                f"{prefix}-{kind}",
                name=log_names[kind],
                retention_in_days=settings.log_days,
                kms_key_id=key.arn,
                tags=tags,
                opts=options)
            for kind in LOG_KINDS)

        group = aws.elasticache.ReplicationGroup(
            f"{prefix}-group",
            replication_group_id=prefix,
            description=f"{settings.engine} for the workflow platform in {args.region}",
            engine=settings.engine,
            engine_version=settings.engine_version,
            node_type=settings.node_type,
            port=PORT,
            cluster_mode="disabled",
            num_cache_clusters=len(settings.zones),
            preferred_cache_cluster_azs=settings.zones,
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            subnet_group_name=subnet_group.name,
            security_group_ids=[security_group.id],
            transit_encryption_enabled=True,
            # "required" refuses plain-text clients; "preferred" is only a migration step.
            transit_encryption_mode="required",
            auth_token=auth_token,
            # Rotating the token keeps the old one valid until clients have the new one.
            auth_token_update_strategy="ROTATE",
            at_rest_encryption_enabled=True,
            kms_key_id=key.arn,
            snapshot_retention_limit=settings.snapshot_days,
            snapshot_window="03:00-04:00",
            maintenance_window="sun:05:00-sun:06:00",
            final_snapshot_identifier=f"{prefix}-final" if settings.final_snapshot else None,
            auto_minor_version_upgrade=True,
            notification_topic_arn=args.notification_topic_arn,
            log_delivery_configurations=[
                aws.elasticache.ReplicationGroupLogDeliveryConfigurationArgs(
                    destination=log.name, destination_type="cloudwatch-logs",
                    log_format="json", log_type=kind)
                for kind, log in (("slow-log", slow_log), ("engine-log", engine_log))
            ],
            tags=tags,
            opts=stateful_options(protection, options))

        # Region-local (not replicated): the token is worth nothing without this
        # region's cache, which does not outlive its region (components/aws/secrets.py).
        secret = stored_secret(
            f"{prefix}-auth",
            description=f"AUTH token and endpoint of the {prefix} cache",
            value=pulumi.Output.json_dumps({
                "host": group.primary_endpoint_address,
                "readerHost": group.reader_endpoint_address,
                "port": PORT,
                "authToken": auth_token,
                "tls": True,
            }),
            primary=SecretRegion(args.provider, args.region, key.arn), replica=None,
            tier=args.tier, protection=protection, tags=tags, parent=self)

        self.replication_group_id = group.id
        # Cluster-mode-disabled members are named `<group>-001`, `-002`, ...: the
        # CacheClusterId dimension of the per-node metrics (ReplicationLag).
        self.node_ids = [f"{prefix}-{i:03d}" for i in range(1, len(settings.zones) + 1)]
        self.primary_endpoint = group.primary_endpoint_address
        self.reader_endpoint = group.reader_endpoint_address
        self.port = PORT
        self.secret_arn = secret.arn
        self.kms_key_arn = key.arn
        self.cache_endpoint = CacheEndpoint(
            host=self.primary_endpoint, port=PORT, auth_token=auth_token, tls=True)
        self.register_outputs({
            "primaryEndpoint": self.primary_endpoint,
            "readerEndpoint": self.reader_endpoint,
            "port": PORT,
            "secretArn": self.secret_arn,
            "kmsKeyArn": self.kms_key_arn,
        })

    def _security_group(self, prefix: str, args: RedisReplicationGroupArgs,
                        tags: dict[str, str], opts: pulumi.ResourceOptions
                        ) -> aws.ec2.SecurityGroup:
        group = aws.ec2.SecurityGroup(
            f"{prefix}-cache",
            vpc_id=args.vpc_id,
            description=f"Redis {PORT} from the platform only",
            revoke_rules_on_delete=True,
            tags=tags,
            opts=opts)
        rule_opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(parent=group))
        # One rule resource per source so adding one never replaces the group.
        for index, cidr in enumerate(args.allowed_cidrs):
            aws.vpc.SecurityGroupIngressRule(
                f"{prefix}-cache-cidr-{index}",
                security_group_id=group.id, ip_protocol="tcp", from_port=PORT, to_port=PORT,
                cidr_ipv4=cidr, description=f"Redis from {cidr}", tags=tags, opts=rule_opts)
        for index, source_group in enumerate(args.allowed_security_group_ids):
            aws.vpc.SecurityGroupIngressRule(
                f"{prefix}-cache-sg-{index}",
                security_group_id=group.id, ip_protocol="tcp", from_port=PORT, to_port=PORT,
                referenced_security_group_id=source_group,
                description="Redis from a platform security group", tags=tags, opts=rule_opts)
        return group
