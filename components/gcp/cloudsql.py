"""Cloud SQL for PostgreSQL: a regional HA primary and a cross-region read replica.

What the component builds, and why:

* The primary is `availability_type=REGIONAL`: a synchronous standby in another
  zone takes over automatically on a zone failure (RPO 0, about a minute of RTO).
* Backups with point-in-time recovery (`point_in_time_recovery_enabled`,
  `transaction_log_retention_days`, `retained_backups`) cover the "bad write" case
  that replication faithfully copies.
* Private IP only (`ipv4_enabled=False` + `private_network` via private service
  access) and `ssl_mode=ENCRYPTED_ONLY`: no public address, no plaintext.
* CMEK: each instance's disks are encrypted with a key *in its own region* (a
  Cloud SQL requirement); the Cloud SQL service agent is created explicitly and
  granted each key before the instance is created.
* `cloudsql.iam_authentication=on` lets workloads log in with their Workload
  Identity instead of a password; the built-in user's password is random, kept in
  Secret Manager (replicated to the stack's regions so the standby region can read
  it during a primary-region outage) and only ever handled as a Pulumi secret.
* Deletion protection twice: `deletion_protection` stops Pulumi from deleting the
  instance, `settings.deletion_protection_enabled` stops every other client (API,
  console, gcloud). In prod the resources are also `protect`ed and retained.
* The edition is pinned to ENTERPRISE: PostgreSQL 16+ defaults to ENTERPRISE_PLUS,
  which rejects the `db-custom-*` tiers the tiers table uses.

Cross-region replica and promotion
----------------------------------
The replica (`master_instance_name` = primary) runs in the secondary region with
its own region-local CMEK; it is asynchronous, so a region failover loses at most
the replication lag. Regional failover is a *promotion*, a one-way operation:

1. Emergency (primary region down): `gcloud sql instances promote-replica
   <replica>`. The replica becomes a standalone primary and keeps its private IP,
   so the standby region's orchestrator (already wired to that IP) can write.
   Cloud SQL drops `masterInstanceName`/`replicaConfiguration` and changes
   `instanceType` on the promoted instance. Both are force-new in the provider,
   so the replica is registered with `ignore_changes` on them: the next
   `pulumi up` does *not* plan to delete and re-create the promoted database.
   Backups are likewise ignored on the replica so that enabling them after
   promotion is not reverted.
2. Then set `replica_promoted=True`: the component declares the instance as
   `instance_type=CLOUD_SQL_INSTANCE` without a master (the provider's in-place
   promotion path, which also works as a *planned* promotion when the primary is
   healthy), turns on backups and PITR there, and stops ignoring backup settings.
   The logical name (URN) is unchanged, so this is an update, never a replacement.
3. Rebuilding a new replica in the old region is a new stack change (swap the
   regions); the old primary stays protected until an operator removes it.

Advanced DR (switchover/replica failover back and forth) needs ENTERPRISE_PLUS;
it is not used here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_gcp as gcp
import pulumi_random as random

from components.base import (
    Protection,
    Tier,
    child_options,
    rotation_keepers,
    standard_labels,
    stateful_options,
)
from components.gcp.kms import RegionalKey, RegionalKeyArgs
from components.gcp.secrets import SecretManagerKeys, stored_secret
from components.gcp.service_agents import cloudsql_agent
from components.k8s.wiring import DatabaseEndpoint
from hastack.config.versions import CLOUD_SQL_POSTGRESQL_MAJORS, DEFAULT_POSTGRESQL

TYPE_TOKEN = "hastack:gcp:CloudSqlPostgres"
POSTGRES_PORT = 5432
SUPPORTED_MAJORS = CLOUD_SQL_POSTGRESQL_MAJORS
# Fields Cloud SQL rewrites when a replica is promoted outside Pulumi.
PROMOTION_FIELDS = ("masterInstanceName", "replicaConfiguration", "instanceType")
# The CIS benchmark's Cloud SQL PostgreSQL logging flags, plus IAM database login and
# pgAudit (DDL and role changes). Changing `cloudsql.enable_pgaudit` restarts the
# instance; run `CREATE EXTENSION pgaudit;` once in the database to start auditing.
DATABASE_FLAGS = {
    "cloudsql.enable_pgaudit": "on",
    "cloudsql.iam_authentication": "on",
    "log_checkpoints": "on",
    "log_connections": "on",
    "log_disconnections": "on",
    "log_lock_waits": "on",
    "log_min_error_statement": "error",
    "log_statement": "ddl",
    "pgaudit.log": "ddl,role",
}


def postgres_version(engine_version: str) -> str:
    """The Cloud SQL database version for a PostgreSQL version ("16.6" -> "POSTGRES_16").

    Cloud SQL pins the major version; minor versions arrive with maintenance.
    """
    match = re.match(r"^(\d+)(\.\d+){0,2}$", engine_version)
    if not match or int(match.group(1)) not in SUPPORTED_MAJORS:
        allowed = ", ".join(str(m) for m in SUPPORTED_MAJORS)
        raise ValueError(f"CloudSqlPostgres: unsupported PostgreSQL version "
                         f"'{engine_version}'; major versions allowed: {allowed}")
    return f"POSTGRES_{match.group(1)}"


@dataclass(frozen=True)
class CloudSqlPostgresArgs:
    name: str
    tier: Tier
    project: str
    primary_region: str
    # Self link or ID of the VPC that has private service access.
    network: pulumi.Input[str]
    replica_region: str | None = None
    engine_version: str = DEFAULT_POSTGRESQL
    machine_tier: str = "db-custom-2-7680"
    edition: Literal["ENTERPRISE", "ENTERPRISE_PLUS"] = "ENTERPRISE"
    # Zone-redundant primary (required in prod).
    high_availability: bool = True
    # A regional (HA) replica: after promotion the new primary is zone-redundant too.
    replica_high_availability: bool = False
    disk_size_gb: int = 50
    backup_retention_days: int = 7
    database_name: str = "workflows"
    username: str = "hastack_admin"
    # Secret Manager replica locations; defaults to the primary and replica regions.
    secret_regions: Sequence[str] = ()
    # CMEK of those replicas (components/gcp/secrets.py); None: Google-managed keys,
    # which `secrets-cmk-replicated` refuses in prod.
    secret_keys: SecretManagerKeys | None = None
    # Where the primary's backups are stored; defaults to the replica's region (a
    # second location), else Cloud SQL's default multi-region nearest the instance.
    backup_location: str | None = None
    # A new label rotates the generated password (components.base.rotation_keepers).
    credentials_rotation: str | None = None
    # Set after the replica was promoted (see the module docstring).
    replica_promoted: bool = False
    # Sunday 03:00 UTC; Cloud SQL days are 1 (Monday) .. 7 (Sunday).
    maintenance_day: int = 7
    maintenance_hour: int = 3
    labels: Mapping[str, str] = field(default_factory=dict)
    protection: Protection | None = None
    # Resources the instances wait for (the private service access connection).
    depends_on: Sequence[pulumi.Resource] = ()

    def validate(self) -> str:
        version = postgres_version(self.engine_version)
        if self.tier == "prod" and not self.high_availability:
            raise ValueError("CloudSqlPostgres: prod needs high_availability=True (REGIONAL)")
        if self.edition == "ENTERPRISE_PLUS" and self.machine_tier.startswith("db-custom-"):
            raise ValueError(f"CloudSqlPostgres: tier '{self.machine_tier}' needs edition "
                             f"ENTERPRISE; ENTERPRISE_PLUS uses db-perf-optimized-* tiers")
        if self.replica_region == self.primary_region:
            raise ValueError("CloudSqlPostgres: replica_region must differ from primary_region")
        if self.replica_promoted and self.replica_region is None:
            raise ValueError("CloudSqlPostgres: replica_promoted needs a replica_region")
        if not 1 <= self.backup_retention_days <= 365:
            raise ValueError("CloudSqlPostgres: backup_retention_days must be 1..365")
        if not (1 <= self.maintenance_day <= 7 and 0 <= self.maintenance_hour <= 23):
            raise ValueError("CloudSqlPostgres: maintenance_day is 1..7, maintenance_hour 0..23")
        return version

    @property
    def secret_locations(self) -> list[str]:
        if self.secret_regions:
            return list(self.secret_regions)
        return [self.primary_region] + ([self.replica_region] if self.replica_region else [])


class CloudSqlPostgres(pulumi.ComponentResource):
    """Primary + optional cross-region replica, database, user and password secret."""

    primary: gcp.sql.DatabaseInstance
    replica: gcp.sql.DatabaseInstance | None
    endpoint: DatabaseEndpoint
    replica_endpoint: DatabaseEndpoint | None
    password_secret_id: pulumi.Output[str]

    def __init__(self, resource_name: str, args: CloudSqlPostgresArgs,
                 providers: Mapping[str, pulumi.ProviderResource] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        version = args.validate()
        super().__init__(TYPE_TOKEN, resource_name, None, opts)
        providers = providers or {}
        protection = args.protection or Protection.for_tier(args.tier)
        labels = standard_labels(args.tier, "CloudSqlPostgres", args.labels)
        primary_provider = providers.get(args.primary_region)
        agent = cloudsql_agent(resource_name, args.project, self, primary_provider)
        self.primary = self._primary(resource_name, args, version, protection, labels,
                                     agent, primary_provider)
        self.replica = None
        if args.replica_region is not None:
            self.replica = self._replica(resource_name, args, version, protection, labels,
                                         agent, providers.get(args.replica_region))
        password = random.RandomPassword(
            f"{resource_name}-password",
            length=32,
            # URL-safe specials: the password can sit in a DSN without escaping.
            special=True,
            override_special="-_",
            min_lower=2, min_upper=2, min_numeric=2,
            keepers=rotation_keepers(args.credentials_rotation),
            opts=child_options(self),
        )
        self._database_and_user(resource_name, args, protection, password, primary_provider)
        self.password_secret_id = self._password_secret(
            resource_name, args, protection, labels, password, primary_provider)
        secret_password: pulumi.Output[str] = pulumi.Output.secret(password.result)
        self.endpoint = DatabaseEndpoint(
            host=self.primary.private_ip_address, port=POSTGRES_PORT,
            database=args.database_name, username=args.username, password=secret_password)
        self.replica_endpoint = None if self.replica is None else DatabaseEndpoint(
            host=self.replica.private_ip_address, port=POSTGRES_PORT,
            database=args.database_name, username=args.username, password=secret_password)
        self.register_outputs({
            "primaryConnectionName": self.primary.connection_name,
            "primaryHost": self.primary.private_ip_address,
            "replicaHost": self.replica.private_ip_address if self.replica else None,
            "passwordSecretId": self.password_secret_id,
        })

    def _key(self, resource_name: str, args: CloudSqlPostgresArgs, region: str,
             agent: gcp.projects.ServiceIdentity, protection: Protection,
             provider: pulumi.ProviderResource | None) -> RegionalKey:
        return RegionalKey(
            f"{resource_name}-{region}-kms",
            RegionalKeyArgs(name=args.name, location=region, purpose="cloudsql", tier=args.tier,
                            project=args.project, encrypters=[agent.member],
                            labels=args.labels, protection=protection),
            opts=child_options(self, provider),
        )

    def _settings(self, args: CloudSqlPostgresArgs, labels: dict[str, str],
                  protection: Protection, *,
                  availability: str, backups: bool, maintenance: bool,
                  backup_location: str | None = None
                  ) -> gcp.sql.DatabaseInstanceSettingsArgs:
        S = gcp.sql
        return S.DatabaseInstanceSettingsArgs(
            tier=args.machine_tier,
            edition=args.edition,
            availability_type=availability,
            disk_type="PD_SSD",
            disk_size=args.disk_size_gb,
            disk_autoresize=True,
            deletion_protection_enabled=protection.deletion_protection,
            ip_configuration=S.DatabaseInstanceSettingsIpConfigurationArgs(
                ipv4_enabled=False,
                private_network=args.network,
                ssl_mode="ENCRYPTED_ONLY",
            ),
            backup_configuration=S.DatabaseInstanceSettingsBackupConfigurationArgs(
                enabled=True,
                point_in_time_recovery_enabled=True,
                start_time="02:00",
                # Backups in the other region: a regional disaster (or a mistake in
                # this region's project resources) does not take them with it.
                location=backup_location,
                # Enterprise keeps at most 7 days of WAL for PITR.
                transaction_log_retention_days=min(7, args.backup_retention_days),
                backup_retention_settings=S.DatabaseInstanceSettingsBackupConfigurationBackupRetentionSettingsArgs(
                    retained_backups=args.backup_retention_days, retention_unit="COUNT"),
            ) if backups else S.DatabaseInstanceSettingsBackupConfigurationArgs(enabled=False),
            maintenance_window=S.DatabaseInstanceSettingsMaintenanceWindowArgs(
                day=args.maintenance_day, hour=args.maintenance_hour, update_track="stable",
            ) if maintenance else None,
            insights_config=S.DatabaseInstanceSettingsInsightsConfigArgs(
                query_insights_enabled=True,
                query_string_length=1024,
                record_application_tags=True,
                # Client IPs are personal data in some jurisdictions; not needed to tune.
                record_client_address=False,
            ),
            database_flags=[S.DatabaseInstanceSettingsDatabaseFlagArgs(name=k, value=v)
                            for k, v in DATABASE_FLAGS.items()],
            user_labels=labels,
        )

    def _primary(self, resource_name: str, args: CloudSqlPostgresArgs, version: str,
                 protection: Protection, labels: dict[str, str],
                 agent: gcp.projects.ServiceIdentity,
                 provider: pulumi.ProviderResource | None) -> gcp.sql.DatabaseInstance:
        key = self._key(resource_name, args, args.primary_region, agent, protection, provider)
        return gcp.sql.DatabaseInstance(
            f"{resource_name}-primary",
            name=f"{args.name}-{args.primary_region}-pg",
            project=args.project,
            region=args.primary_region,
            database_version=version,
            encryption_key_name=key.key_id,
            deletion_protection=protection.deletion_protection,
            settings=self._settings(
                args, labels, protection,
                availability="REGIONAL" if args.high_availability else "ZONAL",
                backups=True, maintenance=True,
                backup_location=args.backup_location or args.replica_region),
            opts=stateful_options(protection, child_options(self, provider),
                                  depends_on=[*key.grants, *args.depends_on]),
        )

    def _replica(self, resource_name: str, args: CloudSqlPostgresArgs, version: str,
                 protection: Protection, labels: dict[str, str],
                 agent: gcp.projects.ServiceIdentity,
                 provider: pulumi.ProviderResource | None) -> gcp.sql.DatabaseInstance:
        region = args.replica_region
        assert region is not None
        key = self._key(resource_name, args, region, agent, protection, provider)
        promoted = args.replica_promoted
        # Before promotion: a replica of the primary (read replicas take no backups
        # and follow the primary's maintenance). After: a standalone primary.
        ignored = ["replicaConfiguration"] if promoted else [
            *PROMOTION_FIELDS, "settings.backupConfiguration"]
        return gcp.sql.DatabaseInstance(
            f"{resource_name}-replica",
            name=f"{args.name}-{region}-pg",
            project=args.project,
            region=region,
            database_version=version,
            master_instance_name=None if promoted else self.primary.name,
            instance_type="CLOUD_SQL_INSTANCE" if promoted else None,
            encryption_key_name=key.key_id,
            deletion_protection=protection.deletion_protection,
            settings=self._settings(
                args, labels, protection,
                availability="REGIONAL" if args.replica_high_availability else "ZONAL",
                backups=promoted, maintenance=promoted,
                backup_location=args.primary_region if promoted else None),
            opts=stateful_options(protection, child_options(self, provider),
                                  ignore_changes=ignored,
                                  depends_on=[*key.grants, *args.depends_on]),
        )

    def _database_and_user(self, resource_name: str, args: CloudSqlPostgresArgs,
                           protection: Protection, password: random.RandomPassword,
                           provider: pulumi.ProviderResource | None) -> None:
        # Both stay bound to the original primary even after a promotion: the
        # promoted replica already holds them (replication copies roles and
        # databases), and re-pointing `instance` would replace, i.e. drop, them.
        writer = self.primary
        gcp.sql.Database(
            f"{resource_name}-database",
            name=args.database_name,
            project=args.project,
            instance=writer.name,
            opts=stateful_options(protection, child_options(self, provider)),
        )
        gcp.sql.User(
            f"{resource_name}-user",
            name=args.username,
            project=args.project,
            instance=writer.name,
            password=password.result,
            opts=child_options(self, provider),
        )

    def _password_secret(self, resource_name: str, args: CloudSqlPostgresArgs,
                         protection: Protection, labels: dict[str, str],
                         password: random.RandomPassword,
                         provider: pulumi.ProviderResource | None) -> pulumi.Output[str]:
        keys = args.secret_keys
        secret = stored_secret(
            f"{resource_name}-password-secret",
            secret_id=f"{args.name}-db-password", project=args.project,
            value=password.result,
            replicas={location: keys.key_ids.get(location) if keys else None
                      for location in args.secret_locations},
            protection=protection, labels=labels, opts=child_options(self, provider),
            depends_on=keys.grants if keys else (),
            version_name=f"{resource_name}-password-version")
        return secret.id
