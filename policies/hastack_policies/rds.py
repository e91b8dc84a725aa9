"""Aurora / RDS: encryption, backups, access, observability, zone and region spread.

A secondary cluster of an Aurora global database has no master credentials (it
inherits the primary's users) and encrypts with a key of its own region; nothing
here asks it for either.
"""

from __future__ import annotations

from pulumi_policy import PolicyResource

from hastack_policies.catalogue import (
    CRITICAL,
    DATA_RETENTION,
    HA_COSTLY,
    HIGH,
    LOW,
    MEDIUM,
    OPERATIONS,
    PROD_ONLY,
    SECURITY,
    Report,
    StackSubject,
    Subject,
    checkov,
    floor_setting,
    fsbp,
    own,
    resource_rule,
    setting,
    stack_rule,
)
from hastack_policies.graph import StackGraph, subnet_zone
from hastack_policies.tokens import (
    BACKUP_PLAN,
    BACKUP_SELECTION,
    BACKUP_VAULT,
    BACKUP_VAULT_LOCK,
    RDS_CLUSTER,
    RDS_CLUSTER_INSTANCE,
    RDS_CLUSTER_PARAMETER_GROUP,
    RDS_GLOBAL_CLUSTER,
    RDS_INSTANCE,
    RDS_SUBNET_GROUP,
    SUBNET,
)
from hastack_policies.values import as_int, is_false, is_set, items, peek, truthy, value

CLUSTERS_AND_INSTANCES = (RDS_CLUSTER, RDS_INSTANCE)
DB_INSTANCES = (RDS_CLUSTER_INSTANCE, RDS_INSTANCE)


@resource_rule(
    name="rds-storage-encrypted-cmk",
    description="Aurora clusters and RDS instances encrypt storage with a customer-managed key.",
    severity=HIGH, levels=SECURITY,
    anchors=(fsbp("RDS.27"), checkov("CKV_AWS_96"), checkov("CKV_AWS_327")),
    types=CLUSTERS_AND_INSTANCES,
    remediation="Set storageEncrypted=true and kmsKeyId to the region's CMK ARN.",
)
def rds_storage_encrypted_cmk(subject: Subject, report: Report) -> None:
    if not truthy(value(subject.props, "storageEncrypted", default=False)):
        report("storageEncrypted is not true.")
    if not is_set(subject.props, "kmsKeyId"):
        report("kmsKeyId is not set: storage would use the AWS-managed aws/rds key.")


@resource_rule(
    name="rds-deletion-protection",
    description="Aurora clusters and RDS instances have deletion protection on.",
    severity=HIGH, levels=DATA_RETENTION,
    anchors=(fsbp("RDS.7"), checkov("CKV_AWS_139")),
    types=CLUSTERS_AND_INSTANCES,
    remediation="Set deletionProtection=true (hastack: deletionProtection in the stack file).",
)
def rds_deletion_protection(subject: Subject, report: Report) -> None:
    if not truthy(value(subject.props, "deletionProtection", default=False)):
        report("deletionProtection is not true.")


@resource_rule(
    name="rds-backup-retention",
    description="Automated backups are kept at least the configured number of days.",
    severity=HIGH, levels=SECURITY,
    # CKV_AWS_133 covers aws_rds_cluster and aws_db_instance; FSBP RDS.11 judges only
    # AWS::RDS::DBInstance (retention >= 7 days), i.e. this rule's RDS-instance half.
    anchors=(checkov("CKV_AWS_133"), fsbp("RDS.11")),
    types=CLUSTERS_AND_INSTANCES,
    remediation="Raise database.backupRetentionDays (backupRetentionPeriod).",
    settings={"minimumDays": floor_setting("database.backupRetentionDays",
                                           "Fewest days of automated backups")},
)
def rds_backup_retention(subject: Subject, report: Report) -> None:
    # RDS defaults to one day when the input is absent.
    days = as_int(value(subject.props, "backupRetentionPeriod", default=1), 1)
    if days < subject.config["minimumDays"]:
        report(f"backupRetentionPeriod is {days} days (< {subject.config['minimumDays']}).")


@resource_rule(
    name="rds-final-snapshot",
    description="Deleting a database takes a final snapshot.",
    severity=MEDIUM, levels=DATA_RETENTION,
    anchors=(own("DATA-RDS-1"),),
    types=CLUSTERS_AND_INSTANCES,
    remediation="Set skipFinalSnapshot=false and a finalSnapshotIdentifier.",
)
def rds_final_snapshot(subject: Subject, report: Report) -> None:
    if truthy(value(subject.props, "skipFinalSnapshot", default=False)):
        report("skipFinalSnapshot is true: deleting the cluster loses its data.")
    elif not is_set(subject.props, "finalSnapshotIdentifier"):
        report("finalSnapshotIdentifier is not set, so the final snapshot cannot be taken.")


@resource_rule(
    name="rds-iam-authentication",
    description="Databases accept IAM authentication.",
    severity=MEDIUM, levels=SECURITY,
    anchors=(fsbp("RDS.12"), checkov("CKV_AWS_162")),
    types=CLUSTERS_AND_INSTANCES,
    remediation="Set iamDatabaseAuthenticationEnabled=true.",
)
def rds_iam_authentication(subject: Subject, report: Report) -> None:
    if not truthy(value(subject.props, "iamDatabaseAuthenticationEnabled", default=False)):
        report("iamDatabaseAuthenticationEnabled is not true.")


@resource_rule(
    name="rds-log-exports",
    description="Database logs are exported to CloudWatch Logs.",
    severity=MEDIUM, levels=SECURITY,
    anchors=(fsbp("RDS.37"), checkov("CKV_AWS_324")),
    types=CLUSTERS_AND_INSTANCES,
    remediation="Add the engine's log types to enabledCloudwatchLogsExports.",
    settings={"requiredLogTypes": setting("array", ["postgresql"],
                                          "Log types that must be exported")},
)
def rds_log_exports(subject: Subject, report: Report) -> None:
    exported = set(items(subject.props, "enabledCloudwatchLogsExports"))
    missing = [kind for kind in subject.config["requiredLogTypes"] if kind not in exported]
    if missing:
        report(f"enabledCloudwatchLogsExports lacks {', '.join(missing)}.")


@resource_rule(
    name="rds-copy-tags-to-snapshots",
    description="Snapshots inherit the database's tags (owner, tier, cost centre).",
    severity=LOW, levels=OPERATIONS,
    anchors=(fsbp("RDS.16"), checkov("CKV_AWS_313")),
    types=CLUSTERS_AND_INSTANCES,
    remediation="Set copyTagsToSnapshot=true.",
)
def rds_copy_tags_to_snapshots(subject: Subject, report: Report) -> None:
    if not truthy(value(subject.props, "copyTagsToSnapshot", default=False)):
        report("copyTagsToSnapshot is not true.")


@resource_rule(
    name="rds-not-public",
    description="No database instance is publicly accessible.",
    severity=CRITICAL, levels=SECURITY,
    anchors=(fsbp("RDS.2"), checkov("CKV_AWS_17")),
    types=(RDS_CLUSTER, *DB_INSTANCES),
    remediation="Set publiclyAccessible=false; reach the database from the VPC only.",
)
def rds_not_public(subject: Subject, report: Report) -> None:
    if truthy(value(subject.props, "publiclyAccessible", default=False)):
        report("publiclyAccessible is true.")


@resource_rule(
    name="rds-enhanced-monitoring",
    description="Database instances publish enhanced monitoring metrics.",
    severity=LOW, levels=OPERATIONS,
    anchors=(fsbp("RDS.6"), checkov("CKV_AWS_118")),
    types=DB_INSTANCES,
    remediation="Set monitoringInterval (1-60 s) and monitoringRoleArn.",
)
def rds_enhanced_monitoring(subject: Subject, report: Report) -> None:
    if as_int(value(subject.props, "monitoringInterval", default=0)) <= 0:
        report("monitoringInterval is 0: enhanced monitoring is off.")
    elif not is_set(subject.props, "monitoringRoleArn"):
        report("monitoringRoleArn is not set.")


@resource_rule(
    name="rds-performance-insights",
    description="Performance Insights is on and encrypted with a customer-managed key.",
    severity=LOW, levels=OPERATIONS,
    anchors=(checkov("CKV_AWS_353"), checkov("CKV_AWS_354")),
    types=DB_INSTANCES,
    remediation="Set performanceInsightsEnabled=true and performanceInsightsKmsKeyId.",
)
def rds_performance_insights(subject: Subject, report: Report) -> None:
    if not truthy(value(subject.props, "performanceInsightsEnabled", default=False)):
        report("performanceInsightsEnabled is not true.")
    elif not is_set(subject.props, "performanceInsightsKmsKeyId"):
        report("performanceInsightsKmsKeyId is not set.")


@resource_rule(
    name="rds-auto-minor-version-upgrade",
    description="Database instances take minor engine upgrades (security patches).",
    severity=MEDIUM, levels=SECURITY,
    anchors=(fsbp("RDS.13"), checkov("CKV_AWS_226")),
    types=DB_INSTANCES,
    remediation="Leave autoMinorVersionUpgrade unset or true.",
)
def rds_auto_minor_version_upgrade(subject: Subject, report: Report) -> None:
    if is_false(value(subject.props, "autoMinorVersionUpgrade")):
        report("autoMinorVersionUpgrade is false.")


@resource_rule(
    name="rds-global-cluster-encrypted",
    description="Aurora global databases are encrypted.",
    severity=HIGH, levels=SECURITY,
    anchors=(checkov("CKV_AWS_140"),),
    types=(RDS_GLOBAL_CLUSTER,),
    remediation="Set storageEncrypted=true on the global cluster.",
)
def rds_global_cluster_encrypted(subject: Subject, report: Report) -> None:
    # Built from an existing cluster, the global cluster inherits that cluster's encryption.
    if is_set(subject.props, "sourceDbClusterIdentifier"):
        return
    if not truthy(value(subject.props, "storageEncrypted", default=False)):
        report("storageEncrypted is not true.")


def _cluster_members(graph: StackGraph, cluster: PolicyResource) -> list[PolicyResource]:
    return graph.referrers(cluster, "clusterIdentifier", [RDS_CLUSTER_INSTANCE],
                           literal=lambda c: peek(c.props, "clusterIdentifier"))


def _is_global_secondary(cluster: PolicyResource) -> bool:
    """A member of a global database that carries no credentials is a secondary."""
    in_global = is_set(cluster.props, "globalClusterIdentifier")
    has_credentials = (is_set(cluster.props, "masterUsername")
                       or is_set(cluster.props, "masterPassword")
                       or truthy(peek(cluster.props, "manageMasterUserPassword")))
    return in_global and not has_credentials


def _cluster_zones(graph: StackGraph, cluster: PolicyResource,
                   members: list[PolicyResource]) -> set[str] | None:
    pinned = [peek(member.props, "availabilityZone") for member in members]
    if pinned and all(isinstance(zone, str) and zone for zone in pinned):
        return {zone for zone in pinned if isinstance(zone, str)}
    # Unpinned instances are spread by RDS over the subnet group's zones.
    listed = peek(cluster.props, "availabilityZones")
    if isinstance(listed, list) and listed:
        return {zone for zone in listed if isinstance(zone, str)}
    for group in graph.referenced(cluster, "dbSubnetGroupName", RDS_SUBNET_GROUP):
        zones = {zone for subnet in graph.referenced(group, "subnetIds", SUBNET)
                 if (zone := subnet_zone(subnet))}
        if zones:
            return zones
    return None


@stack_rule(
    name="rds-cluster-multi-az",
    description="Every Aurora cluster runs enough instances, spread over at least two AZs.",
    severity=HIGH, levels=HA_COSTLY,
    anchors=(fsbp("RDS.15"),),
    remediation="Raise database.instancesPerRegion (and secondaryInstances) to >= 2; "
                "spread instances over the region's zones.",
    settings={
        "minInstances": floor_setting("database.instancesPerRegion",
                                      "Fewest instances in a primary/regional cluster"),
        "minSecondaryInstances": floor_setting(
            "database.secondaryInstances",
            "Fewest instances in a global database's secondary cluster"),
    },
)
def rds_cluster_multi_az(stack: StackSubject, report: Report) -> None:
    graph = StackGraph(stack.resources)
    for cluster in graph.of_type(RDS_CLUSTER):
        members = _cluster_members(graph, cluster)
        secondary = _is_global_secondary(cluster)
        needed = stack.config["minSecondaryInstances" if secondary else "minInstances"]
        if len(members) < needed:
            role = "secondary cluster" if secondary else "cluster"
            report(f"{role} has {len(members)} instance(s) (< {needed}).",
                   cluster.urn)
            continue
        zones = _cluster_zones(graph, cluster, members)
        if len(members) >= 2 and zones is not None and len(zones) < 2:
            report(f"every instance is in {sorted(zones)}.", cluster.urn)


@stack_rule(
    name="rds-global-cluster-second-region",
    description="Every Aurora global database has a member cluster in a second region.",
    severity=HIGH, levels=HA_COSTLY,
    anchors=(own("HA-RDS-2"),),
    remediation="Configure regions.secondary so the global database gets a secondary cluster.",
)
def rds_global_cluster_second_region(stack: StackSubject, report: Report) -> None:
    graph = StackGraph(stack.resources)
    for global_cluster in graph.of_type(RDS_GLOBAL_CLUSTER):
        members = graph.referrers(
            global_cluster, "globalClusterIdentifier", [RDS_CLUSTER],
            literal=lambda g: peek(g.props, "globalClusterIdentifier"))
        regions = {region for member in members
                   if (region := graph.region(member)) is not None}
        if len(regions) < 2:
            report(f"member clusters span {sorted(regions) or 'no'} "
                   "region(s); a regional outage has nowhere to fail over to.",
                   global_cluster.urn)


STATEMENT_LEVELS = ("ddl", "mod", "all")


@resource_rule(
    name="rds-statement-audit-logging",
    description="Aurora PostgreSQL cluster parameter groups log DDL statements and load "
                "pgAudit for role and DDL auditing.",
    severity=MEDIUM, levels=SECURITY,
    anchors=(own("LOG-RDS-1"),),
    types=(RDS_CLUSTER_PARAMETER_GROUP,),
    remediation="Set log_statement=ddl, add pgaudit to shared_preload_libraries "
                "(applyMethod pending-reboot) and pgaudit.log=ddl,role "
                "(components.aws.aurora.audit_parameters()).",
)
def rds_statement_audit_logging(subject: Subject, report: Report) -> None:
    family = str(value(subject.props, "family", default=""))
    if not family.startswith(("aurora-postgresql", "postgres")):
        return
    params = {str(value(p, "name")): str(value(p, "value", default=""))
              for p in items(subject.props, "parameters")}
    if params.get("log_statement", "none").lower() not in STATEMENT_LEVELS:
        report("log_statement is not ddl, mod or all: schema changes leave no trace.")
    libraries = {lib.strip() for lib in params.get("shared_preload_libraries", "").split(",")}
    if "pgaudit" not in libraries:
        report("shared_preload_libraries does not load pgaudit.")
    if params.get("pgaudit.log", "none").lower() in ("", "none"):
        report("pgaudit.log is unset or none: pgAudit records nothing.")


def _is_primary_cluster(cluster: PolicyResource) -> bool:
    """The cluster that holds the credentials (a global database's writer side)."""
    return (is_set(cluster.props, "masterUsername")
            or truthy(peek(cluster.props, "manageMasterUserPassword")))


@stack_rule(
    name="rds-backup-copied-to-another-region",
    description="Every primary Aurora cluster is in an AWS Backup plan that copies its "
                "recovery points to a vault in another region.",
    severity=HIGH, levels=HA_COSTLY,
    anchors=(own("DATA-BAK-1"),),
    remediation="Keep AwsPlatform's AuroraBackup (components/aws/backup.py): a Selection of "
                "the cluster, a Plan rule with a copyAction to the secondary region's vault.",
)
def rds_backup_copied_to_another_region(stack: StackSubject, report: Report) -> None:
    graph = StackGraph(stack.resources)
    for cluster in graph.of_type(RDS_CLUSTER):
        if not _is_primary_cluster(cluster):
            continue
        home = graph.region(cluster)
        copied = False
        for selection in graph.referrers(cluster, "resources", (BACKUP_SELECTION,)):
            for plan in graph.referenced(selection, "planId", BACKUP_PLAN):
                vaults = graph.referenced(plan, "rules", BACKUP_VAULT)
                copies = [rule for rule in items(plan.props, "rules")
                          if items(rule, "copyActions")]
                if copies and any(graph.region(v) not in (None, home) for v in vaults):
                    copied = True
        if not copied:
            report("no AWS Backup plan copies this cluster's recovery points out of "
                   f"{home or 'its region'}: losing the region loses every backup.",
                   cluster.urn)


@stack_rule(
    name="backup-vault-locked",
    description="Every AWS Backup vault has a vault lock, so recovery points outlive a "
                "compromised or mistaken administrator.",
    severity=HIGH, levels=PROD_ONLY,
    anchors=(own("DATA-BAK-2"),),
    remediation="Add an aws.backup.VaultLockConfiguration (AuroraBackupArgs.vault_lock; "
                "compliance mode in prod by default).",
)
def backup_vault_locked(stack: StackSubject, report: Report) -> None:
    graph = StackGraph(stack.resources)
    for vault in graph.of_type(BACKUP_VAULT):
        locks = graph.referrers(vault, "backupVaultName", (BACKUP_VAULT_LOCK,),
                                literal=lambda v: peek(v.props, "name"))
        if not locks:
            report("no vault lock: anyone allowed to delete recovery points can.", vault.urn)


@resource_rule(
    name="backup-vault-cmk",
    description="AWS Backup vaults encrypt recovery points with a customer-managed key.",
    severity=HIGH, levels=SECURITY,
    anchors=(checkov("CKV_AWS_166"),),
    types=(BACKUP_VAULT,),
    remediation="Set kmsKeyArn to a CMK used only through backup and rds in its region.",
)
def backup_vault_cmk(subject: Subject, report: Report) -> None:
    if not is_set(subject.props, "kmsKeyArn"):
        report("kmsKeyArn is not set: recovery points use the AWS-managed aws/backup key.")
