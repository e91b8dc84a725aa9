"""Memorystore for Redis and Cloud Storage."""

from __future__ import annotations

from hastack_policies.catalogue import (
    CRITICAL,
    HA_COSTLY,
    HIGH,
    MEDIUM,
    SECURITY,
    Report,
    Subject,
    checkov,
    own,
    resource_rule,
)
from hastack_policies.tokens import GCS_BUCKET, MEMORYSTORE_INSTANCE
from hastack_policies.values import truthy, value


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
