"""Cloud SQL: regional HA, backups with PITR, private and TLS-only access, a replica elsewhere."""

from __future__ import annotations

from hastack_policies.catalogue import (
    CRITICAL,
    DATA_RETENTION,
    HA_COSTLY,
    HIGH,
    MEDIUM,
    PROD_ONLY,
    SECURITY,
    Report,
    StackSubject,
    Subject,
    checkov,
    own,
    resource_rule,
    stack_rule,
)
from hastack_policies.graph import StackGraph
from hastack_policies.tokens import CLOUD_SQL_INSTANCE
from hastack_policies.values import (
    is_false,
    is_open_cidr,
    is_set,
    items,
    peek,
    truthy,
    value,
)

INSTANCE = (CLOUD_SQL_INSTANCE,)
# Flag -> values that pass, as the cited Checkov checks accept them.
AUDIT_FLAGS = {
    "cloudsql.enable_pgaudit": ("on",),
    "log_statement": ("ddl", "mod", "all"),
    "log_min_error_statement": ("debug5", "debug4", "debug3", "debug2", "debug1", "info",
                                "notice", "warning", "error"),
    "log_checkpoints": ("on",),
    "log_lock_waits": ("on",),
}
TLS_MODES = ("ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED")


def _is_replica(props: object) -> bool:
    return is_set(props, "masterInstanceName")


@resource_rule(
    name="cloudsql-regional",
    description="Primary Cloud SQL instances are REGIONAL (a standby in another zone).",
    severity=HIGH, levels=HA_COSTLY,
    anchors=(own("HA-SQL-1"),),
    types=INSTANCE,
    remediation="Set settings.availabilityType='REGIONAL'.",
)
def cloudsql_regional(subject: Subject, report: Report) -> None:
    if _is_replica(subject.props):
        return
    if value(subject.props, "settings", "availabilityType") != "REGIONAL":
        report("settings.availabilityType is not REGIONAL: a zone outage is a database outage.")


@resource_rule(
    name="cloudsql-backups-pitr",
    description="Primary instances take automated backups with point-in-time recovery.",
    severity=HIGH, levels=SECURITY,
    anchors=(checkov("CKV_GCP_14"),),
    types=INSTANCE,
    remediation="Set settings.backupConfiguration.enabled=true and "
                "pointInTimeRecoveryEnabled=true.",
)
def cloudsql_backups_pitr(subject: Subject, report: Report) -> None:
    if _is_replica(subject.props):
        return  # replicas cannot hold backups
    backup = value(subject.props, "settings", "backupConfiguration", default={})
    if not truthy(value(backup, "enabled", default=False)):
        report("settings.backupConfiguration.enabled is not true.")
    if not truthy(value(backup, "pointInTimeRecoveryEnabled", default=False)):
        report("settings.backupConfiguration.pointInTimeRecoveryEnabled is not true.")


@resource_rule(
    name="cloudsql-private-ip",
    description="Cloud SQL has a private IP on the VPC and no public IP.",
    severity=HIGH, levels=SECURITY,
    anchors=(checkov("CKV_GCP_60"),),
    types=INSTANCE,
    remediation="Set settings.ipConfiguration.ipv4Enabled=false and privateNetwork.",
)
def cloudsql_private_ip(subject: Subject, report: Report) -> None:
    ip = value(subject.props, "settings", "ipConfiguration", default={})
    # Cloud SQL gives an instance a public IP unless told not to.
    if not is_false(value(ip, "ipv4Enabled")):
        report("settings.ipConfiguration.ipv4Enabled is not false: the instance has a "
               "public IP.")
    if not is_set(ip, "privateNetwork"):
        report("settings.ipConfiguration.privateNetwork is not set.")


@resource_rule(
    name="cloudsql-ssl-required",
    description="Cloud SQL accepts only TLS connections.",
    severity=HIGH, levels=SECURITY,
    # Not CKV_GCP_6: that check passes only TRUSTED_CLIENT_CERTIFICATE_REQUIRED (client
    # certificates), while this rule, like the platform, accepts ENCRYPTED_ONLY (TLS
    # with password or IAM login over the private IP).
    anchors=(own("SEC-SQL-1"),),
    types=INSTANCE,
    remediation="Set settings.ipConfiguration.sslMode='ENCRYPTED_ONLY'.",
)
def cloudsql_ssl_required(subject: Subject, report: Report) -> None:
    mode = value(subject.props, "settings", "ipConfiguration", "sslMode")
    if mode not in TLS_MODES:
        report(f"settings.ipConfiguration.sslMode is {mode!r}: plain-text connections are "
               "accepted.")


@resource_rule(
    name="cloudsql-no-open-networks",
    description="No authorized network of a Cloud SQL instance is 0.0.0.0/0.",
    severity=CRITICAL, levels=SECURITY,
    anchors=(checkov("CKV_GCP_11"),),
    types=INSTANCE,
    remediation="Remove 0.0.0.0/0 from settings.ipConfiguration.authorizedNetworks.",
)
def cloudsql_no_open_networks(subject: Subject, report: Report) -> None:
    networks = items(subject.props, "settings", "ipConfiguration", "authorizedNetworks")
    if any(is_open_cidr(value(network, "value")) for network in networks):
        report("settings.ipConfiguration.authorizedNetworks contains 0.0.0.0/0.")


@resource_rule(
    name="cloudsql-deletion-protection",
    description="Cloud SQL instances are protected from deletion (Pulumi and API level).",
    severity=HIGH, levels=DATA_RETENTION,
    anchors=(own("DATA-SQL-1"),),
    types=INSTANCE,
    remediation="Keep deletionProtection true and set settings.deletionProtectionEnabled=true.",
)
def cloudsql_deletion_protection(subject: Subject, report: Report) -> None:
    if is_false(value(subject.props, "deletionProtection")):
        report("deletionProtection is false.")
    if not truthy(value(subject.props, "settings", "deletionProtectionEnabled", default=False)):
        report("settings.deletionProtectionEnabled is not true: the instance can be deleted "
               "from the console or API.")


@stack_rule(
    name="cloudsql-cross-region-replica",
    description="Every primary Cloud SQL instance has a read replica in another region.",
    severity=HIGH, levels=HA_COSTLY,
    anchors=(own("HA-SQL-2"),),
    remediation="Configure regions.secondary so a cross-region replica is created.",
)
def cloudsql_cross_region_replica(stack: StackSubject, report: Report) -> None:
    graph = StackGraph(stack.resources)
    for primary in graph.of_type(CLOUD_SQL_INSTANCE):
        if _is_replica(primary.props):
            continue
        replicas = graph.referrers(primary, "masterInstanceName", INSTANCE,
                                   literal=lambda p: peek(p.props, "name"))
        home = graph.region(primary)
        if not any(graph.region(replica) not in (None, home) for replica in replicas):
            report(f"no replica outside {home or 'its region'}.", primary.urn)


@stack_rule(
    name="cloudsql-dr-replica-designated",
    description="A prod Cloud SQL primary with a cross-region replica is Enterprise Plus and "
                "designates that replica as its DR replica (Advanced DR), so failover and "
                "failback are switchovers, not a one-way promotion.",
    severity=HIGH, levels=PROD_ONLY,
    anchors=(own("HA-SQL-3"),),
    remediation="Use database.edition ENTERPRISE_PLUS with a db-perf-optimized-N-* tier "
                "(the prod default): the primary then sets replicationCluster."
                "failoverDrReplicaName to \"<project>:<replica>\" (components/gcp/cloudsql.py).",
)
def cloudsql_dr_replica_designated(stack: StackSubject, report: Report) -> None:
    graph = StackGraph(stack.resources)
    for primary in graph.of_type(CLOUD_SQL_INSTANCE):
        if _is_replica(primary.props):
            continue
        home = graph.region(primary)
        remote = [replica for replica in graph.referrers(
            primary, "masterInstanceName", INSTANCE, literal=lambda p: peek(p.props, "name"))
            if graph.region(replica) not in (None, home)]
        if not remote:
            continue  # no cross-region replica: cloudsql-cross-region-replica's finding
        edition = value(primary.props, "settings", "edition", default=None)
        if edition != "ENTERPRISE_PLUS":
            report(f"edition {edition or 'unset'}: Advanced DR (switchover, replica failover "
                   "that re-attaches the old primary) needs ENTERPRISE_PLUS.", primary.urn)
            continue
        designated = value(primary.props, "replicationCluster", "failoverDrReplicaName",
                           default="")
        names = {peek(replica.props, "name") for replica in remote}
        # Cloud SQL stores "project:instance"; "instance" alone is accepted too.
        if str(designated or "").rsplit(":", 1)[-1] not in names:
            report(f"replicationCluster.failoverDrReplicaName is {designated!r}, not its "
                   f"cross-region replica ({', '.join(sorted(map(str, names)))}).",
                   primary.urn)


@resource_rule(
    name="cloudsql-audit-flags",
    description="Cloud SQL PostgreSQL runs pgAudit and logs DDL, error statements, "
                "checkpoints and lock waits.",
    severity=MEDIUM, levels=SECURITY,
    anchors=(checkov("CKV_GCP_110"), checkov("CKV_GCP_111"), checkov("CKV_GCP_109"),
             checkov("CKV_GCP_51"), checkov("CKV_GCP_54")),
    types=INSTANCE,
    remediation="Add the flags of components.gcp.cloudsql.DATABASE_FLAGS to "
                "settings.databaseFlags (and pgaudit.log=ddl,role).",
)
def cloudsql_audit_flags(subject: Subject, report: Report) -> None:
    if not str(value(subject.props, "databaseVersion", default="POSTGRES")).startswith(
            "POSTGRES"):
        return
    flags = {str(value(f, "name")): str(value(f, "value", default="")).lower()
             for f in items(subject.props, "settings", "databaseFlags")}
    for flag, allowed in AUDIT_FLAGS.items():
        if flags.get(flag) not in allowed:
            report(f"database flag {flag} is {flags.get(flag)!r}; expected one of "
                   f"{', '.join(allowed)}.")


@resource_rule(
    name="cloudsql-backups-second-location",
    description="Primary Cloud SQL instances store their backups in another region.",
    severity=MEDIUM, levels=HA_COSTLY,
    anchors=(own("DATA-SQL-2"),),
    types=INSTANCE,
    remediation="Set settings.backupConfiguration.location to the secondary region "
                "(CloudSqlPostgresArgs.backup_location; the replica region by default).",
)
def cloudsql_backups_second_location(subject: Subject, report: Report) -> None:
    if _is_replica(subject.props):
        return
    location = value(subject.props, "settings", "backupConfiguration", "location")
    home = value(subject.props, "region")
    if not location:
        report("settings.backupConfiguration.location is not set: backups stay in Cloud "
               "SQL's default location for the instance's region.")
    elif location == home:
        report(f"backups are stored in the instance's own region ({home}).")
