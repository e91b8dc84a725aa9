"""Cloud SQL for PostgreSQL: a regional HA primary and a cross-region replica.

What the component builds, and why:

* The writer is `availability_type=REGIONAL`: a synchronous standby in another
  zone takes over automatically on a zone failure (RPO 0, about a minute of RTO).
* Backups with point-in-time recovery (`point_in_time_recovery_enabled`,
  `transaction_log_retention_days`, `retained_backups`) cover the "bad write" case
  that replication faithfully copies. Enterprise keeps at most 7 days of WAL,
  Enterprise Plus up to 35 (the provider's `transaction_log_retention_days`).
* Private IP only (`ipv4_enabled=False` + `private_network` via private service
  access) and `ssl_mode=ENCRYPTED_ONLY` on both instances (Advanced DR wants the
  same SSL configuration on the DR replica): no public address, no plaintext.
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
* The edition is explicit (`edition`): ENTERPRISE takes `db-custom-*` and the
  shared-core tiers, ENTERPRISE_PLUS the `db-perf-optimized-N-*` tiers (it rejects
  `db-custom-*`; PostgreSQL 16+ would default to it).

Names: keyed by region, never by role
-------------------------------------
Each instance is the logical name `<component>-<region>` and the Cloud SQL instance
`<name>-<region>-pg`; neither changes when `active_region` flips. Which one writes
is decided by `active_region` (the stack's `hastack:activeRegion`). Stacks deployed
before carry the role names `<component>-primary` (home region) and `-replica`: each
instance declares that name as a Pulumi alias, so the rename is a no-op for them.

ENTERPRISE_PLUS: Advanced DR, failover and failback by construction
-------------------------------------------------------------------
With a replica region, the instance in `active_region` is the primary
(`instance_type=CLOUD_SQL_INSTANCE`, backups + PITR on, maintenance window) and
designates the other as its DR replica (`replication_cluster.failover_dr_replica_name
= "<project>:<other instance>"`); the other is a direct cross-region
`READ_REPLICA_INSTANCE` of it (`master_instance_name`), backups off,
`failover_dr_replica_name = ""`. That is the end state Google's switchover samples
show for both directions (terraform-docs-samples, cloud_sql/postgres_instance_switchover).

The role swap is done by the Cloud SQL Admin API (`hastack failover` / `failback`:
`instances.switchover` planned, `instances.promoteReplica?failover=true` unplanned),
never by Pulumi. Why `ignore_changes` holds exactly these fields on both instances:

* `masterInstanceName`: force-new in the provider (a `ForceNewIf` that only spares
  the provider's own switchover path). Declared only for creation; never diffed,
  so the flip can never plan a replacement of either database.
* `instanceType`: the provider's Update calls `instances.switchover` (or
  `promoteReplica`) itself when it sees READ_REPLICA_INSTANCE -> CLOUD_SQL_INSTANCE.
  Ignored, a `pulumi up` never starts a switchover of its own.
* `replicaConfiguration`: Cloud SQL rewrites it on a role change; nothing here
  sets it.

Not ignored, so that `pulumi up --refresh` after the flip converges *in place*:
`settings.backupConfiguration` (backups and PITR follow the writer; PITR is an
Advanced DR requirement on the primary), the maintenance window, and
`replicationCluster` (the new primary designates the old one as its DR replica,
which also re-designates after a replica failover once the old primary is back as
a replica). Always refresh first (`--refresh`): the provider's Update sends the
state's `instanceType`, and only a refreshed state has the API's new roles.
`replication_cluster` is sent only on Update, never on create ("can be set only
after both the primary and replica are created"), so a new stack designates its DR
replica on the second `pulumi up`.

ENTERPRISE: one-way promotion (kept for stacks on ENTERPRISE)
------------------------------------------------------------
Enterprise has no switchover: regional failover is `instances.promoteReplica`, a
one-way operation. With `active_region` on the replica region the component
declares that instance a standalone primary (`instance_type=CLOUD_SQL_INSTANCE`,
no master, backups and PITR on; the provider's in-place promotion path, which also
serves as a planned promotion when the primary is healthy) and leaves the former
primary as it is: a stale standalone instance, protected until an operator
removes it. Before promotion the replica ignores `masterInstanceName`,
`replicaConfiguration`, `instanceType` (Cloud SQL rewrites them on promotion; the
first is force-new) and its backup settings (so enabling them after promotion is
not reverted). Rebuilding a replica in the old region is a manual change (README,
Runbook: failover and failback, On GCP).

The database and the user
-------------------------
`gcp.sql.Database` and `gcp.sql.User` stay bound to the home-region instance in
both editions: replication copies roles and databases to the other instance, and
re-pointing `instance` would replace, i.e. drop and re-create, them. While the home
instance is a replica (after a switchover or replica failover), Cloud SQL refuses
user changes on it (`errorReplicaInvalidOperation`, "The requested operation is not
valid for a replica instance"): a password rotation (`credentials_rotation`) then
fails at `pulumi up`, and the password secret's new version may already be written.
Rotate only while the home region writes (fail back first). A `pulumi up` that
changes nothing about the user does not touch it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

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
from hastack.config.versions import (
    CLOUD_SQL_EDITIONS,
    CLOUD_SQL_POSTGRESQL_MAJORS,
    DEFAULT_POSTGRESQL,
    MAX_LOG_RETENTION_DAYS,
    CloudSqlEdition,
    tier_edition_problem,
)

TYPE_TOKEN = "hastack:gcp:CloudSqlPostgres"
POSTGRES_PORT = 5432
SUPPORTED_MAJORS = CLOUD_SQL_POSTGRESQL_MAJORS
# Fields Cloud SQL rewrites when a replica is promoted or the roles are switched outside
# Pulumi (the module docstring says why each is ignored).
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
    edition: CloudSqlEdition = "ENTERPRISE"
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
    # The region that writes (`hastack:activeRegion`); None: the primary region. With
    # ENTERPRISE_PLUS the roles follow it both ways, with ENTERPRISE the replica region
    # means "promoted" (one way; see the module docstring).
    active_region: str | None = None
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
        if self.edition not in CLOUD_SQL_EDITIONS:
            raise ValueError(f"CloudSqlPostgres: edition '{self.edition}'; allowed: "
                             f"{', '.join(CLOUD_SQL_EDITIONS)}")
        problem = tier_edition_problem(self.machine_tier, self.edition)
        if problem:
            raise ValueError(f"CloudSqlPostgres: {problem}")
        if self.replica_region == self.primary_region:
            raise ValueError("CloudSqlPostgres: replica_region must differ from primary_region")
        if self.writer_region not in (self.primary_region, self.replica_region):
            raise ValueError(f"CloudSqlPostgres: active_region '{self.active_region}' must be "
                             f"the primary_region or the replica_region")
        if not 1 <= self.backup_retention_days <= 365:
            raise ValueError("CloudSqlPostgres: backup_retention_days must be 1..365")
        if not (1 <= self.maintenance_day <= 7 and 0 <= self.maintenance_hour <= 23):
            raise ValueError("CloudSqlPostgres: maintenance_day is 1..7, maintenance_hour 0..23")
        return version

    @property
    def writer_region(self) -> str:
        return self.active_region or self.primary_region

    @property
    def advanced_dr(self) -> bool:
        """A primary/DR replica pair whose roles follow `active_region` both ways."""
        return self.edition == "ENTERPRISE_PLUS" and self.replica_region is not None

    @property
    def replica_promoted(self) -> bool:
        """ENTERPRISE only: the replica region writes, its instance was promoted (one way)."""
        return (not self.advanced_dr and self.replica_region is not None
                and self.writer_region == self.replica_region)

    @property
    def log_retention_days(self) -> int:
        return min(MAX_LOG_RETENTION_DAYS[self.edition], self.backup_retention_days)

    def instance_name(self, region: str) -> str:
        return f"{self.name}-{region}-pg"

    @property
    def secret_locations(self) -> list[str]:
        if self.secret_regions:
            return list(self.secret_regions)
        return [self.primary_region] + ([self.replica_region] if self.replica_region else [])


class CloudSqlPostgres(pulumi.ComponentResource):
    """Primary + optional cross-region replica, database, user and password secret.

    `primary` is the home region's instance and `replica` the other region's (by
    region); `writer` is whichever of them `active_region` makes the primary.
    """

    primary: gcp.sql.DatabaseInstance
    replica: gcp.sql.DatabaseInstance | None
    writer: gcp.sql.DatabaseInstance
    reader: gcp.sql.DatabaseInstance | None
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
        self.replica = None
        if args.advanced_dr:
            self.primary, self.replica = self._dr_pair(resource_name, args, version, protection,
                                                       labels, agent, providers)
        else:
            self.primary = self._primary(resource_name, args, version, protection, labels,
                                         agent, primary_provider)
            if args.replica_region is not None:
                self.replica = self._replica(resource_name, args, version, protection, labels,
                                             agent, providers.get(args.replica_region))
        self.writer = (self.replica if self.replica is not None
                       and args.writer_region == args.replica_region else self.primary)
        # The instance that replicates from the writer (ENTERPRISE after a promotion:
        # none; the former primary is a stale standalone).
        self.reader = None if self.replica is None or args.replica_promoted else (
            self.primary if self.writer is self.replica else self.replica)
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
        user = self._database_and_user(resource_name, args, protection, password,
                                       primary_provider)
        self.password_secret_id = self._password_secret(
            resource_name, args, protection, labels, password, user, primary_provider)
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
                transaction_log_retention_days=args.log_retention_days,
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

    def _instance_options(self, resource_name: str, args: CloudSqlPostgresArgs,
                          protection: Protection, provider: pulumi.ProviderResource | None,
                          region: str, depends_on: Sequence[pulumi.Resource],
                          ignore_changes: Sequence[str] | None = None
                          ) -> pulumi.ResourceOptions:
        # The role name the stacks were first deployed with, as an alias: renaming to
        # the region's name replaces nothing.
        legacy = "primary" if region == args.primary_region else "replica"
        return stateful_options(
            protection, child_options(self, provider,
                                      aliases=[pulumi.Alias(name=f"{resource_name}-{legacy}")]),
            ignore_changes=ignore_changes, depends_on=depends_on)

    def _availability(self, args: CloudSqlPostgresArgs, region: str) -> str:
        # By region, not by role: each region keeps its shape across a flip.
        regional = (args.high_availability if region == args.primary_region
                    else args.replica_high_availability)
        return "REGIONAL" if regional else "ZONAL"

    def _primary(self, resource_name: str, args: CloudSqlPostgresArgs, version: str,
                 protection: Protection, labels: dict[str, str],
                 agent: gcp.projects.ServiceIdentity,
                 provider: pulumi.ProviderResource | None) -> gcp.sql.DatabaseInstance:
        key = self._key(resource_name, args, args.primary_region, agent, protection, provider)
        return gcp.sql.DatabaseInstance(
            f"{resource_name}-{args.primary_region}",
            name=args.instance_name(args.primary_region),
            project=args.project,
            region=args.primary_region,
            database_version=version,
            encryption_key_name=key.key_id,
            deletion_protection=protection.deletion_protection,
            settings=self._settings(
                args, labels, protection,
                availability=self._availability(args, args.primary_region),
                backups=True, maintenance=True,
                backup_location=args.backup_location or args.replica_region),
            opts=self._instance_options(resource_name, args, protection, provider,
                                        args.primary_region, [*key.grants, *args.depends_on]),
        )

    def _replica(self, resource_name: str, args: CloudSqlPostgresArgs, version: str,
                 protection: Protection, labels: dict[str, str],
                 agent: gcp.projects.ServiceIdentity,
                 provider: pulumi.ProviderResource | None) -> gcp.sql.DatabaseInstance:
        """ENTERPRISE: the replica, or after the one-way promotion a standalone primary."""
        region = args.replica_region
        assert region is not None
        key = self._key(resource_name, args, region, agent, protection, provider)
        promoted = args.replica_promoted
        # Before promotion: a replica of the primary (read replicas take no backups
        # and follow the primary's maintenance). After: a standalone primary.
        ignored = ["replicaConfiguration"] if promoted else [
            *PROMOTION_FIELDS, "settings.backupConfiguration"]
        return gcp.sql.DatabaseInstance(
            f"{resource_name}-{region}",
            name=args.instance_name(region),
            project=args.project,
            region=region,
            database_version=version,
            master_instance_name=None if promoted else self.primary.name,
            instance_type="CLOUD_SQL_INSTANCE" if promoted else None,
            encryption_key_name=key.key_id,
            deletion_protection=protection.deletion_protection,
            settings=self._settings(
                args, labels, protection,
                availability=self._availability(args, region),
                backups=promoted, maintenance=promoted,
                backup_location=args.primary_region if promoted else None),
            opts=self._instance_options(resource_name, args, protection, provider, region,
                                        [*key.grants, *args.depends_on], ignored),
        )

    def _dr_pair(self, resource_name: str, args: CloudSqlPostgresArgs, version: str,
                 protection: Protection, labels: dict[str, str],
                 agent: gcp.projects.ServiceIdentity,
                 providers: Mapping[str, pulumi.ProviderResource]
                 ) -> tuple[gcp.sql.DatabaseInstance, gcp.sql.DatabaseInstance]:
        """ENTERPRISE_PLUS: the active region's primary designating the other as DR replica.

        Returns (home-region instance, other-region instance). The writer is declared
        first: the replica's `master_instance_name` is the writer's name output.
        """
        home, other = args.primary_region, args.replica_region
        assert other is not None
        writer_region = args.writer_region
        reader_region = other if writer_region == home else home
        built: dict[str, gcp.sql.DatabaseInstance] = {}
        for region in (writer_region, reader_region):
            provider = providers.get(region)
            key = self._key(resource_name, args, region, agent, protection, provider)
            writes = region == writer_region
            peer = reader_region if writes else writer_region
            built[region] = gcp.sql.DatabaseInstance(
                f"{resource_name}-{region}",
                name=args.instance_name(region),
                project=args.project,
                region=region,
                database_version=version,
                instance_type="CLOUD_SQL_INSTANCE" if writes else "READ_REPLICA_INSTANCE",
                master_instance_name=None if writes else built[writer_region].name,
                replication_cluster=gcp.sql.DatabaseInstanceReplicationClusterArgs(
                    # "project:instance", the format Cloud SQL stores (DR replica docs).
                    failover_dr_replica_name=(f"{args.project}:{args.instance_name(peer)}"
                                              if writes else "")),
                encryption_key_name=key.key_id,
                deletion_protection=protection.deletion_protection,
                settings=self._settings(
                    args, labels, protection,
                    availability=self._availability(args, region),
                    backups=writes, maintenance=writes,
                    backup_location=(args.backup_location or peer) if writes else None),
                opts=self._instance_options(resource_name, args, protection, provider, region,
                                            [*key.grants, *args.depends_on],
                                            list(PROMOTION_FIELDS)),
            )
        return built[home], built[other]

    def _database_and_user(self, resource_name: str, args: CloudSqlPostgresArgs,
                           protection: Protection, password: random.RandomPassword,
                           provider: pulumi.ProviderResource | None) -> gcp.sql.User:
        # Both stay bound to the home-region instance whatever the roles (module
        # docstring): replication copies roles and databases, and re-pointing
        # `instance` would replace, i.e. drop, them.
        home = self.primary
        gcp.sql.Database(
            f"{resource_name}-database",
            name=args.database_name,
            project=args.project,
            instance=home.name,
            opts=stateful_options(protection, child_options(self, provider)),
        )
        return gcp.sql.User(
            f"{resource_name}-user",
            name=args.username,
            project=args.project,
            instance=home.name,
            password=password.result,
            opts=child_options(self, provider),
        )

    def _password_secret(self, resource_name: str, args: CloudSqlPostgresArgs,
                         protection: Protection, labels: dict[str, str],
                         password: random.RandomPassword, user: gcp.sql.User,
                         provider: pulumi.ProviderResource | None) -> pulumi.Output[str]:
        keys = args.secret_keys
        secret = stored_secret(
            f"{resource_name}-password-secret",
            secret_id=f"{args.name}-db-password", project=args.project,
            value=password.result,
            replicas={location: keys.key_ids.get(location) if keys else None
                      for location in args.secret_locations},
            protection=protection, labels=labels, opts=child_options(self, provider),
            # After the user: a rotation Cloud SQL refuses (the home instance is a
            # replica) stops before a new password is stored.
            depends_on=[*(keys.grants if keys else ()), user],
            version_name=f"{resource_name}-password-version")
        return secret.id
