"""Memorystore for Redis and Cloud Storage."""

from __future__ import annotations

from hastack_policies.catalogue import (
    CRITICAL,
    HA_COSTLY,
    HIGH,
    MEDIUM,
    OPERATIONS,
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
from hastack_policies.tokens import GCS_BUCKET, MEMORYSTORE_INSTANCE
from hastack_policies.values import is_set, peek, truthy, value


@resource_rule(
    name="memorystore-standard-ha",
    description="Memorystore instances use the STANDARD_HA tier (replica in another zone).",
    severity=HIGH, levels=HA_COSTLY,
    anchors=(own("HA-MEM-1"),),
    types=(MEMORYSTORE_INSTANCE,),
    remediation="Set tier='STANDARD_HA'.",
)
def memorystore_standard_ha(subject: Subject, report: Report) -> None:
    if value(subject.props, "tier", default="BASIC") != "STANDARD_HA":
        report("tier is not STANDARD_HA: a zone outage loses the cache.")


@resource_rule(
    name="memorystore-transit-encryption",
    description="Memorystore requires TLS from clients.",
    severity=HIGH, levels=SECURITY,
    anchors=(checkov("CKV_GCP_97"),),
    types=(MEMORYSTORE_INSTANCE,),
    remediation="Set transitEncryptionMode='SERVER_AUTHENTICATION'.",
)
def memorystore_transit_encryption(subject: Subject, report: Report) -> None:
    if value(subject.props, "transitEncryptionMode") != "SERVER_AUTHENTICATION":
        report("transitEncryptionMode is not SERVER_AUTHENTICATION.")


@resource_rule(
    name="memorystore-auth",
    description="Memorystore requires the Redis AUTH string.",
    severity=HIGH, levels=SECURITY,
    anchors=(checkov("CKV_GCP_95"),),
    types=(MEMORYSTORE_INSTANCE,),
    remediation="Set authEnabled=true.",
)
def memorystore_auth(subject: Subject, report: Report) -> None:
    if not truthy(value(subject.props, "authEnabled", default=False)):
        report("authEnabled is not true: anyone on the VPC can connect.")


@resource_rule(
    name="gcs-versioning",
    description="Cloud Storage buckets keep object versions.",
    severity=HIGH, levels=SECURITY,
    anchors=(checkov("CKV_GCP_78"),),
    types=(GCS_BUCKET,),
    remediation="Set versioning.enabled=true.",
)
def gcs_versioning(subject: Subject, report: Report) -> None:
    if not truthy(value(subject.props, "versioning", "enabled", default=False)):
        report("versioning.enabled is not true.")


@resource_rule(
    name="gcs-uniform-access",
    description="Cloud Storage buckets use uniform bucket-level access (no object ACLs).",
    severity=MEDIUM, levels=SECURITY,
    anchors=(checkov("CKV_GCP_29"),),
    types=(GCS_BUCKET,),
    remediation="Set uniformBucketLevelAccess=true.",
)
def gcs_uniform_access(subject: Subject, report: Report) -> None:
    if not truthy(value(subject.props, "uniformBucketLevelAccess", default=False)):
        report("uniformBucketLevelAccess is not true.")


@resource_rule(
    name="gcs-public-access-prevention",
    description="Cloud Storage buckets enforce public access prevention.",
    severity=CRITICAL, levels=SECURITY,
    anchors=(checkov("CKV_GCP_114"),),
    types=(GCS_BUCKET,),
    remediation="Set publicAccessPrevention='enforced'.",
)
def gcs_public_access_prevention(subject: Subject, report: Report) -> None:
    if value(subject.props, "publicAccessPrevention") != "enforced":
        report("publicAccessPrevention is not 'enforced'.")


@stack_rule(
    name="gcs-usage-logging",
    description="Every bucket that is not itself a log bucket writes usage logs to one.",
    severity=MEDIUM, levels=OPERATIONS,
    # CKV_GCP_62 flags log buckets too; those must not log into themselves.
    anchors=(checkov("CKV_GCP_62"),),
    remediation="VersionedGcsBucketArgs(usage_logs=True) (the prod default): logging.logBucket "
                "set to a dedicated log bucket writable by cloud-storage-analytics@google.com.",
)
def gcs_usage_logging(stack: StackSubject, report: Report) -> None:
    graph = StackGraph(stack.resources)
    buckets = graph.of_type(GCS_BUCKET)
    log_targets = {log.urn for bucket in buckets
                   for log in graph.referenced(bucket, "logging", GCS_BUCKET)}
    names = {peek(b.props, "name"): b.urn for b in buckets}
    for bucket in buckets:
        target = peek(bucket.props, "logging", "logBucket")
        if isinstance(target, str) and target in names:
            log_targets.add(names[target])
    for bucket in buckets:
        if bucket.urn in log_targets:
            if peek(bucket.props, "logging", "logBucket") in (peek(bucket.props, "name"),):
                report("logs into itself.", bucket.urn)
            continue
        if not is_set(bucket.props, "logging", "logBucket"):
            report("no usage logs: requests to this bucket are not recorded.", bucket.urn)
