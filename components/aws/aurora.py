"""Aurora PostgreSQL: one regional cluster, or a global database spanning two regions.

Layout (prod / staging with `secondary`):

    GlobalCluster ─┬─ primary Cluster   (region A, writer + readers, master credentials)
                   └─ secondary Cluster (region B, readers only, no credentials)

Each region gets its own customer-managed KMS key, subnet group, security group
(5432 from the given CIDRs only) and cluster parameter group (`rds.force_ssl=1`).
Single-region stacks (dev) get the same regional cluster without the global cluster.

Which endpoint survives a regional failover
-------------------------------------------
* `global_writer_endpoint` (the `GlobalCluster.endpoint` attribute) always points
  at the writer of whichever cluster is currently primary, so it follows both a
  managed switchover and a managed failover without a DNS change on our side.
  Workloads in both regions should use it for writes; `database_endpoint` does.
* The regional `writer_endpoint` / `reader_endpoint` names stay tied to their
  cluster: after a failover the old primary's writer endpoint no longer accepts
  writes. Use the regional reader endpoints for region-local reads only.
* Single-region: there is no global endpoint; the cluster writer endpoint
  survives an AZ failure (Aurora promotes a reader in another AZ), not a
  regional one.

A switchover/failover is an operational action (console/CLI), not a `pulumi up`.
The fields it changes are in `ignore_changes` so the next `pulumi up` shows no
diff and never tries to "undo" it (see `SWITCHOVER_IGNORED_FIELDS`).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

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
from components.k8s.wiring import DatabaseEndpoint
from hastack.config.model import StackConfig
from hastack.config.regions import AWS_REGION_ZONES, zones_of
from hastack.config.tiers import floor, tier_defaults
from hastack.config.versions import MIN_POSTGRESQL

ENGINE = "aurora-postgresql"
PORT = 5432
# Prefect's migrations need PostgreSQL >= 14.9 (the table: hastack/config/versions.py).
MIN_ENGINE_VERSION = MIN_POSTGRESQL
COMPONENT = "AuroraGlobalDatabase"

# Fields a managed switchover / failover (or an engine upgrade driven through the
# GlobalCluster) changes behind Pulumi's back. Sources:
# * pulumi-aws `rds.Cluster` docs: "If DB Cluster is part of a Global Cluster, use
#   ignoreChanges [for replicationSourceIdentifier]"; removing it promotes the
#   secondary to standalone (terraform-provider-aws#40921).
# * `rds.GlobalCluster` docs ("Upgrading Engine Versions"): ignore `engineVersion`
#   on member clusters, or the upgrade fails with an inconsistent final plan.
# * `globalClusterIdentifier` drifts on members (cloudposse/terraform-aws-rds-cluster
#   #280); a diff there would detach the cluster from the global database.
# After a switchover the old primary becomes a replica (gains a replication
# source) and the old secondary a writer, so both members ignore the same set.
SWITCHOVER_IGNORED_FIELDS = (
    "globalClusterIdentifier",
    "replicationSourceIdentifier",
    "engineVersion",
)

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,40}[a-z0-9]$")
_VERSION = re.compile(r"^(\d+)(?:\.(\d+))?(?:\.\d+)?$")
# RDS forbids '/', '"', '@' and space; the unreserved URL characters keep the
# password usable verbatim in a postgresql:// connection URL.
_URL_SAFE_SPECIALS = "-_.~"
_MONITORING_POLICY = "policy/service-role/AmazonRDSEnhancedMonitoringRole"
# rds.global_db_rpo: "Valid values are from 20 seconds up to the maximum integer value of
# 2,147,483,647" (Aurora User Guide, aurora-global-database-disaster-recovery, managed RPO).
MANAGED_RPO_PARAMETER = "rds.global_db_rpo"
MANAGED_RPO_MIN, MANAGED_RPO_MAX = 20, 2_147_483_647
MANAGED_RPO_PROD_SECONDS = 20


@dataclass(frozen=True)
class AuroraRegion:
    """Where one regional cluster lives. `subnet_ids` must be private subnets in `zones`."""

    provider: pulumi.ProviderResource
    region: str
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    # Who may connect on 5432: the EKS node / private subnet CIDRs, never 0.0.0.0/0.
    allowed_cidrs: Sequence[str]
    # Zones to spread instances over (the network's names for its pinned AZ IDs);
    # defaults to the region's known zone names.
    zones: Sequence[pulumi.Input[str]] = ()


@dataclass(frozen=True)
class AuroraGlobalDatabaseArgs:
    """Inputs; every `None` falls back to the tier default in `hastack/config/tiers.py`."""

    tier: Tier
    primary: AuroraRegion
    # A second region makes this a global database; None builds one regional cluster.
    secondary: AuroraRegion | None = None
    engine_version: str | None = None
    instance_class: str | None = None
    instances_per_region: int | None = None
    secondary_instances: int | None = None
    backup_retention_days: int | None = None
    database_name: str | None = None
    master_username: str | None = None
    deletion_protection: bool | None = None
    # Enhanced Monitoring granularity in seconds (prod 15, otherwise 60).
    monitoring_interval: int | None = None
    # Managed RPO (`rds.global_db_rpo`, Aurora PostgreSQL only) on the primary cluster's
    # parameter group: commits block while every secondary lags more than this. AWS
    # accepts 20..2,147,483,647 s. Default: 20 in prod (the tightest bound AWS offers),
    # off elsewhere; 0 turns it off. Only meaningful with a secondary region.
    managed_rpo_seconds: int | None = None
    # None: the tier's protection (`Protection.for_tier`); from_config passes the stack's.
    protection: Protection | None = None
    # A new label rotates the master password (see components.base.rotation_keepers).
    credentials_rotation: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: StackConfig, primary: AuroraRegion,
                    secondary: AuroraRegion | None = None) -> AuroraGlobalDatabaseArgs:
        db = config.database
        return cls(
            tier=config.tier, primary=primary, secondary=secondary,
            engine_version=db.engine_version, instance_class=db.instance_class,
            instances_per_region=db.instances_per_region,
            secondary_instances=db.secondary_instances,
            backup_retention_days=db.backup_retention_days,
            database_name=db.database_name, master_username=db.master_username,
            deletion_protection=config.deletion_protection, tags=dict(config.tags),
            protection=Protection.requested(config.protect_stateful_resources,
                                            config.deletion_protection),
            credentials_rotation=db.credentials_rotation,
        )


@dataclass(frozen=True)
class _Settings:
    """Args with tier defaults applied and validated."""

    engine_version: str
    family: str
    instance_class: str
    instances: int
    secondary_instances: int
    backup_days: int
    database_name: str
    master_username: str
    monitoring_interval: int
    managed_rpo_seconds: int | None
    final_snapshot: bool
    protection: Protection
    tier: Tier


@dataclass(frozen=True)
class _MonitoringRole:
    role: aws.iam.Role
    attachment: aws.iam.RolePolicyAttachment


@dataclass(frozen=True)
class RegionalCluster:
    """What one region built; endpoints are that cluster's own DNS names."""

    region: str
    cluster: aws.rds.Cluster
    instances: list[aws.rds.ClusterInstance]
    kms_key: aws.kms.Key
    security_group: aws.ec2.SecurityGroup
    writer_endpoint: pulumi.Output[str]
    reader_endpoint: pulumi.Output[str]
    # The cluster identifier as set (known at preview): the DBClusterIdentifier dimension.
    identifier: str = ""


def resolve_settings(args: AuroraGlobalDatabaseArgs) -> _Settings:
    """Tier defaults merged with `args`, or a `ValueError` that names the bad field."""
    defaults = tier_defaults("aws", args.tier)["database"]

    def pick(value: object, key: str) -> object:
        return defaults[key] if value is None else value

    version = str(pick(args.engine_version, "engineVersion"))
    major = _check_version(version)
    instances = int(pick(args.instances_per_region, "instancesPerRegion"))  # type: ignore[call-overload]
    secondary_instances = int(pick(args.secondary_instances, "secondaryInstances"))  # type: ignore[call-overload]
    backup_days = int(pick(args.backup_retention_days, "backupRetentionDays"))  # type: ignore[call-overload]
    instance_class = str(pick(args.instance_class, "instanceClass"))
    prod = args.tier == "prod"

    # The floors are the tier profile's (hastack/config/tiers.py), which the config
    # already enforces: these checks guard direct users of the component.
    if instances < floor(args.tier, "database.instancesPerRegion"):
        raise ValueError("instances_per_region must be >= 2: a writer and a reader in "
                         f"another AZ to fail over to (got {instances})")
    if args.secondary is not None:
        floor_ = floor(args.tier, "database.secondaryInstances")
        if secondary_instances < floor_:
            raise ValueError(f"secondary_instances must be >= {floor_} in {args.tier} so the "
                             f"secondary region can take over (got {secondary_instances})")
        if args.secondary.region == args.primary.region:
            raise ValueError("secondary.region must differ from primary.region "
                             f"('{args.primary.region}')")
        if instance_class.startswith("db.t"):
            raise ValueError(f"instance_class '{instance_class}': Aurora global databases "
                             "need memory-optimised (db.r*) instances")
    backup_floor = floor(args.tier, "database.backupRetentionDays")
    if not backup_floor <= backup_days <= 35:
        raise ValueError(f"backup_retention_days must be {backup_floor}..35 in {args.tier} "
                         f"(got {backup_days})")
    interval = args.monitoring_interval if args.monitoring_interval is not None else (
        15 if prod else 60)
    if interval not in (1, 5, 10, 15, 30, 60):
        raise ValueError("monitoring_interval must be one of 1, 5, 10, 15, 30, 60 "
                         f"(got {interval})")
    for region in filter(None, (args.primary, args.secondary)):
        _check_region(region)
    managed_rpo = args.managed_rpo_seconds
    if managed_rpo is None:
        managed_rpo = MANAGED_RPO_PROD_SECONDS if prod and args.secondary is not None else 0
    if managed_rpo and not MANAGED_RPO_MIN <= managed_rpo <= MANAGED_RPO_MAX:
        raise ValueError(f"managed_rpo_seconds must be 0 (off) or {MANAGED_RPO_MIN}.."
                         f"{MANAGED_RPO_MAX} (got {managed_rpo})")
    if managed_rpo and args.secondary is None:
        raise ValueError("managed_rpo_seconds needs a secondary region (a global database)")

    protection = args.protection or Protection.for_tier(args.tier, args.deletion_protection)
    return _Settings(
        engine_version=version,
        family=f"aurora-postgresql{major}",
        instance_class=instance_class,
        instances=instances,
        secondary_instances=secondary_instances,
        backup_days=backup_days,
        database_name=str(pick(args.database_name, "databaseName")),
        master_username=str(pick(args.master_username, "masterUsername")),
        monitoring_interval=interval,
        managed_rpo_seconds=managed_rpo or None,
        # Dev clusters are disposable; anything else leaves a snapshot behind on delete.
        final_snapshot=args.tier != "dev",
        protection=protection,
        tier=args.tier,
    )


def audit_parameters() -> list[aws.rds.ClusterParameterGroupParameterArgs]:
    """Statement and audit logging into the exported `postgresql` log.

    `log_statement=ddl` records schema changes; pgAudit adds who changed roles and
    grants. `shared_preload_libraries` is static: RDS applies it at the next reboot
    (new clusters boot with it); `CREATE EXTENSION pgaudit;` once per database then
    starts the DDL event triggers. Names and values: Aurora User Guide, "Setting up
    the pgAudit extension" and "Reference for the pgAudit extension".
    """
    P = aws.rds.ClusterParameterGroupParameterArgs
    return [
        P(name="log_statement", value="ddl"),
        # Keep pg_stat_statements loaded for per-statement statistics, next to pgaudit.
        P(name="shared_preload_libraries", value="pg_stat_statements,pgaudit",
          apply_method="pending-reboot"),
        P(name="pgaudit.log", value="ddl,role"),
    ]


def _check_version(version: str) -> int:
    match = _VERSION.match(version)
    if not match:
        raise ValueError(f"engine_version '{version}' must look like '16.6'")
    major, minor = int(match.group(1)), int(match.group(2) or 0)
    if (major, minor) < MIN_ENGINE_VERSION:
        raise ValueError(f"engine_version '{version}' is too old: PostgreSQL >= 14.9 is required")
    return major


def _check_region(region: AuroraRegion) -> None:
    if not region.allowed_cidrs:
        raise ValueError(f"{region.region}: allowed_cidrs is empty; list the CIDRs "
                         "(EKS/private subnets) that may reach PostgreSQL")
    for cidr in region.allowed_cidrs:
        network = ipaddress.ip_network(cidr, strict=True)
        if network.prefixlen == 0:
            raise ValueError(f"{region.region}: allowed_cidrs must not contain {cidr}")
    if not region.zones and region.region not in AWS_REGION_ZONES:
        raise ValueError(f"{region.region}: unknown region; pass zones explicitly")
    if len(set(_zones(region))) < 2:
        raise ValueError(f"{region.region}: needs at least 2 distinct zones to spread instances")


def _zones(region: AuroraRegion) -> list[pulumi.Input[str]]:
    return list(region.zones) or list(zones_of("aws", region.region))


class AuroraGlobalDatabase(pulumi.ComponentResource):
    """Aurora PostgreSQL for the orchestrator's state, HA across zones and (optionally) regions."""

    writer_endpoint: pulumi.Output[str]
    reader_endpoint: pulumi.Output[str]
    global_writer_endpoint: pulumi.Output[str] | None
    secret_arn: pulumi.Output[str]
    port: int
    regions: dict[str, RegionalCluster]
    database_endpoint: DatabaseEndpoint

    def __init__(self, name: str, args: AuroraGlobalDatabaseArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("hastack:aws:AuroraGlobalDatabase", name, None, opts)
        if not _NAME.match(name):
            raise ValueError(f"name '{name}' must be lower-case letters, digits and '-', "
                             "2..42 characters (it prefixes RDS identifiers)")
        settings = resolve_settings(args)
        self.port = PORT
        tags = standard_tags(args.tier, COMPONENT, args.tags)
        primary_provider = args.primary.provider

        password = random.RandomPassword(
            f"{name}-master-password", length=32, special=True,
            override_special=_URL_SAFE_SPECIALS, min_lower=1, min_upper=1, min_numeric=1,
            # Rotation: a new label makes a new password; RDS changes it in place and
            # the secret version and the orchestrators' Kubernetes Secrets follow.
            keepers=rotation_keepers(args.credentials_rotation),
            opts=pulumi.ResourceOptions(parent=self))
        # Explicitly secret: the value must never reach the plan or state in clear text.
        master_password: pulumi.Output[str] = pulumi.Output.secret(password.result)

        global_cluster = None
        if args.secondary is not None:
            global_cluster = aws.rds.GlobalCluster(
                f"{name}-global",
                global_cluster_identifier=name,
                engine=ENGINE,
                engine_version=settings.engine_version,
                database_name=settings.database_name,
                storage_encrypted=True,
                deletion_protection=settings.protection.deletion_protection,
                tags=tags,
                opts=stateful_options(settings.protection,
                                      child_options(self, primary_provider)))

        monitoring_role = self._monitoring_role(name, primary_provider, tags)
        primary = self._regional_cluster(
            name, args.primary, settings, tags, monitoring_role, global_cluster,
            instances=settings.instances, credentials=master_password, after=[])
        self.regions = {primary.region: primary}
        if args.secondary is not None:
            # The secondary can only attach once the primary has a writer instance.
            secondary = self._regional_cluster(
                name, args.secondary, settings, tags, monitoring_role, global_cluster,
                instances=settings.secondary_instances, credentials=None,
                after=[primary.cluster, *primary.instances])
            self.regions[secondary.region] = secondary

        self.writer_endpoint = primary.writer_endpoint
        self.reader_endpoint = primary.reader_endpoint
        self.global_writer_endpoint = global_cluster.endpoint if global_cluster else None
        host = self.global_writer_endpoint or self.writer_endpoint

        secret = self._credentials_secret(name, args, settings, primary, tags, {
            "username": settings.master_username,
            "password": master_password,
            "host": host,
            "port": PORT,
            "dbname": settings.database_name,
        })
        self.secret_arn = secret.arn
        self.database_endpoint = DatabaseEndpoint(
            host=host, port=PORT, database=settings.database_name,
            username=settings.master_username, password=master_password)

        self.register_outputs({
            "writerEndpoint": self.writer_endpoint,
            "readerEndpoint": self.reader_endpoint,
            "globalWriterEndpoint": self.global_writer_endpoint,
            "readerEndpoints": {r: c.reader_endpoint for r, c in self.regions.items()},
            "writerEndpoints": {r: c.writer_endpoint for r, c in self.regions.items()},
            "kmsKeyArns": {r: c.kms_key.arn for r, c in self.regions.items()},
            "secretArn": self.secret_arn,
            "port": PORT,
        })

    def _monitoring_role(self, name: str, provider: pulumi.ProviderResource,
                         tags: dict[str, str]) -> _MonitoringRole:
        """One Enhanced Monitoring role for both regions (IAM is global)."""
        role = aws.iam.Role(
            f"{name}-monitoring",
            description="Lets RDS Enhanced Monitoring publish OS metrics to CloudWatch Logs",
            assume_role_policy=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Service": "monitoring.rds.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }],
            }),
            tags=tags,
            opts=child_options(self, provider))
        partition = aws.get_partition_output(
            opts=pulumi.InvokeOutputOptions(parent=self, provider=provider))
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-monitoring",
            role=role.name,
            policy_arn=partition.partition.apply(
                lambda part: f"arn:{part}:iam::aws:{_MONITORING_POLICY}"),
            opts=child_options(self, provider))
        return _MonitoringRole(role=role, attachment=attachment)

    def _regional_cluster(
        self,
        name: str,
        region: AuroraRegion,
        settings: _Settings,
        tags: dict[str, str],
        monitoring_role: _MonitoringRole,
        global_cluster: aws.rds.GlobalCluster | None,
        *,
        instances: int,
        credentials: pulumi.Output[str] | None,
        after: list[pulumi.Resource],
    ) -> RegionalCluster:
        prefix = f"{name}-{region.region}"
        provider = region.provider
        opts = child_options(self, provider)
        protection = settings.protection

        # Used only through RDS (storage, snapshots, Performance Insights, backup
        # copies) and Secrets Manager (the credentials and their regional replica).
        key = customer_managed_key(
            f"{prefix}-key",
            description=f"Aurora storage, Performance Insights and secrets of {prefix}",
            tier=settings.tier, protection=protection, tags=tags, opts=opts,
            policy=key_policy(scope_of(self, provider, region.region,
                                       services=("rds", "secretsmanager"))))
        subnet_group = aws.rds.SubnetGroup(
            f"{prefix}-subnets", subnet_ids=region.subnet_ids,
            description=f"Private subnets of {prefix}", tags=tags, opts=opts)
        security_group = self._security_group(prefix, region, tags, opts)
        parameters = aws.rds.ClusterParameterGroup(
            f"{prefix}-params",
            family=settings.family,
            description=f"TLS-only connections and audit-friendly logging for {prefix}",
            parameters=[
                # Refuse plain-text connections at the server, whatever the client asks for.
                aws.rds.ClusterParameterGroupParameterArgs(name="rds.force_ssl", value="1"),
                aws.rds.ClusterParameterGroupParameterArgs(name="log_connections", value="1"),
                aws.rds.ClusterParameterGroupParameterArgs(name="log_disconnections", value="1"),
                # Statements slower than 1 s land in the exported postgresql log.
                aws.rds.ClusterParameterGroupParameterArgs(
                    name="log_min_duration_statement", value="1000"),
                *self._managed_rpo(settings, is_primary=credentials is not None),
                *audit_parameters(),
            ],
            tags=tags, opts=opts)

        is_primary = credentials is not None
        cluster_id = prefix
        member_of_global = global_cluster is not None
        cluster = aws.rds.Cluster(
            f"{prefix}-cluster",
            cluster_identifier=cluster_id,
            engine=ENGINE,
            engine_version=(global_cluster.engine_version if global_cluster
                            else settings.engine_version),
            global_cluster_identifier=global_cluster.id if global_cluster else None,
            # Only the primary carries credentials: RDS rejects a master user on a
            # cross-region member, which inherits the primary's users.
            master_username=settings.master_username if is_primary else None,
            master_password=credentials,
            database_name=settings.database_name if is_primary else None,
            port=PORT,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[security_group.id],
            db_cluster_parameter_group_name=parameters.name,
            storage_encrypted=True,
            kms_key_id=key.arn,
            iam_database_authentication_enabled=True,
            enabled_cloudwatch_logs_exports=["postgresql"],
            backup_retention_period=settings.backup_days,
            preferred_backup_window="03:00-04:00",
            preferred_maintenance_window="sun:05:00-sun:06:00",
            copy_tags_to_snapshot=True,
            deletion_protection=protection.deletion_protection,
            skip_final_snapshot=not settings.final_snapshot,
            final_snapshot_identifier=f"{cluster_id}-final" if settings.final_snapshot else None,
            tags=tags,
            opts=stateful_options(
                protection, opts,
                ignore_changes=SWITCHOVER_IGNORED_FIELDS if member_of_global else None,
                depends_on=after or None))

        zones = _zones(region)
        members = [
            aws.rds.ClusterInstance(
                f"{prefix}-{index + 1}",
                identifier=f"{cluster_id}-{index + 1}",
                cluster_identifier=cluster.id,
                engine=aws.rds.EngineType.AURORA_POSTGRESQL,
                instance_class=settings.instance_class,
                db_subnet_group_name=subnet_group.name,
                # Round-robin over zones: the first two instances are always in distinct AZs.
                availability_zone=zones[index % len(zones)],
                # Lower tiers are promoted first; the zone-spread order is the failover order.
                promotion_tier=min(index, 15),
                publicly_accessible=False,
                auto_minor_version_upgrade=True,
                performance_insights_enabled=True,
                performance_insights_kms_key_id=key.arn,
                performance_insights_retention_period=7,
                monitoring_interval=settings.monitoring_interval,
                monitoring_role_arn=monitoring_role.role.arn,
                copy_tags_to_snapshot=True,
                tags=tags,
                # RDS validates the role when the instance starts: wait for its policy.
                # Protected like the cluster: in prod, losing the writer is an outage.
                opts=stateful_options(protection, child_options(self, provider),
                                      depends_on=[monitoring_role.attachment]))
            for index in range(instances)
        ]
        return RegionalCluster(
            region=region.region, cluster=cluster, instances=members, kms_key=key,
            security_group=security_group,
            writer_endpoint=cluster.endpoint, reader_endpoint=cluster.reader_endpoint,
            identifier=cluster_id)

    @staticmethod
    def _managed_rpo(settings: _Settings, *, is_primary: bool
                     ) -> list[aws.rds.ClusterParameterGroupParameterArgs]:
        """`rds.global_db_rpo` on the primary's cluster parameter group only.

        The User Guide's procedure sets it on the primary cluster's parameter group;
        the secondary's stays at the default (the parameter bounds commits on the
        writer only). The model (`hastack assess`) reads it from there. `immediate`:
        the User Guide's own example applies it with ApplyMethod=immediate.
        """
        if not is_primary or settings.managed_rpo_seconds is None:
            return []
        return [aws.rds.ClusterParameterGroupParameterArgs(
            name=MANAGED_RPO_PARAMETER, value=str(settings.managed_rpo_seconds),
            apply_method="immediate")]

    def _security_group(self, prefix: str, region: AuroraRegion, tags: dict[str, str],
                        opts: pulumi.ResourceOptions) -> aws.ec2.SecurityGroup:
        group = aws.ec2.SecurityGroup(
            f"{prefix}-db",
            vpc_id=region.vpc_id,
            description=f"PostgreSQL {PORT} from the platform subnets only",
            revoke_rules_on_delete=True,
            tags=tags,
            opts=opts)
        # One rule resource per CIDR (not inline rules) so adding a CIDR never
        # replaces the group or briefly drops the other rules.
        for index, cidr in enumerate(region.allowed_cidrs):
            aws.vpc.SecurityGroupIngressRule(
                f"{prefix}-db-in-{index}",
                security_group_id=group.id,
                ip_protocol="tcp", from_port=PORT, to_port=PORT, cidr_ipv4=cidr,
                description=f"PostgreSQL from {cidr}",
                tags=tags,
                opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(parent=group)))
        return group

    def _credentials_secret(self, name: str, args: AuroraGlobalDatabaseArgs,
                            settings: _Settings, primary: RegionalCluster,
                            tags: dict[str, str], value: dict[str, object]
                            ) -> aws.secretsmanager.Secret:
        replica = None
        if args.secondary is not None:
            secondary = self.regions[args.secondary.region]
            # A replica in the standby region, under that region's key, so the
            # credentials stay readable when the primary region is down.
            replica = SecretRegion(args.secondary.provider, secondary.region,
                                   secondary.kms_key.arn)
        return stored_secret(
            f"{name}-credentials",
            description=f"Master credentials of the {name} Aurora database",
            value=pulumi.Output.json_dumps(value),
            primary=SecretRegion(args.primary.provider, primary.region, primary.kms_key.arn),
            replica=replica, tier=args.tier, protection=settings.protection, tags=tags,
            parent=self)
