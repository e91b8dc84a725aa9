"""The artifact bucket: versioned, private, CMEK-encrypted, and geo-redundant in prod.

Geo-redundancy: one custom dual-region bucket, not a replicated pair
---------------------------------------------------------------------
With a secondary region the bucket is a *configurable dual-region*
(`location` = the multi-region, `custom_placement_config` = the two stack
regions) instead of two buckets kept in sync. Why:

* One name in both regions: after a regional failover the standby orchestrator
  keeps using the same bucket URL; there is nothing to re-point and no
  replication job to fail over or reverse.
* Cloud Storage replicates and serves from either region itself, with strong
  consistency for reads after writes, and turbo replication (`rpo=ASYNC_TURBO`)
  bounds the replication lag at 15 minutes (default replication is best-effort
  within hours), which is what the prod regional RPO needs.
* A replicated pair (two buckets + Storage Transfer Service) is only worth it
  when the regions cannot form a dual-region (different continents); that case is
  refused with an explicit error rather than silently building something weaker.

The price: both regions must sit in one multi-region (US, EU or ASIA), and the
bucket's default CMEK lives in the matching Cloud KMS multi-region (`us`,
`europe`, `asia`), because a key must cover every location of the data it
encrypts; a single-region bucket uses a key in its own region.

Hardening: object versioning, uniform bucket-level access (no object ACLs),
public access prevention `enforced`, a default KMS key with the Cloud Storage
service agent granted, noncurrent versions deleted after N days, abandoned
multipart uploads cleaned up, and `force_destroy` only outside prod.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from components.base import Protection, Tier, child_options, standard_labels, stateful_options
from components.gcp.kms import RegionalKey, RegionalKeyArgs
from components.gcp.service_agents import storage_agent_member

TYPE_TOKEN = "hastack:gcp:VersionedGcsBucket"
# Region prefix -> (Cloud Storage multi-region, Cloud KMS multi-region).
MULTI_REGIONS = {"us-": ("US", "us"), "europe-": ("EU", "europe"), "asia-": ("ASIA", "asia")}
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$")


def multi_region_of(region: str) -> tuple[str, str] | None:
    for prefix, locations in MULTI_REGIONS.items():
        if region.startswith(prefix):
            return locations
    return None


@dataclass(frozen=True)
class VersionedGcsBucketArgs:
    name: str
    tier: Tier
    project: str
    primary_region: str
    # With a secondary region (and `replicate`), the bucket is a dual-region.
    secondary_region: str | None = None
    replicate: bool = True
    noncurrent_version_days: int = 30
    # Turbo replication (15-minute RPO) for dual-regions; defaults to prod only.
    turbo_replication: bool | None = None
    # Globally unique; defaults to `<project>-<name>-artifacts`.
    bucket_name: str | None = None
    # Usage logs (hourly CSV of every request) into a dedicated log bucket; None: prod
    # only. Cloud Audit Logs (Data Access) remain the richer record where enabled.
    usage_logs: bool | None = None
    usage_log_retention_days: int = 365
    labels: Mapping[str, str] = field(default_factory=dict)
    protection: Protection | None = None
    # Resources (the project's APIs) that must exist before any child or lookup.
    depends_on: Sequence[pulumi.Resource] = ()

    @property
    def dual_region(self) -> bool:
        return self.replicate and self.secondary_region is not None

    @property
    def physical_name(self) -> str:
        return self.bucket_name or f"{self.project}-{self.name}-artifacts"

    def validate(self) -> None:
        if not _BUCKET_NAME.match(self.physical_name):
            raise ValueError(f"VersionedGcsBucket: '{self.physical_name}' is not a valid bucket "
                             f"name (3..63 lower-case letters, digits, '-', '_'); set bucket_name")
        if not 1 <= self.noncurrent_version_days <= 3650:
            raise ValueError("VersionedGcsBucket: noncurrent_version_days must be 1..3650")
        if self.secondary_region == self.primary_region:
            raise ValueError("VersionedGcsBucket: secondary_region must differ from primary_region")
        if self.replicate and self.secondary_region is None and self.tier == "prod":
            raise ValueError("VersionedGcsBucket: prod replication needs a secondary_region")
        if self.dual_region:
            assert self.secondary_region is not None
            first = multi_region_of(self.primary_region)
            if first is None or first != multi_region_of(self.secondary_region):
                raise ValueError(
                    f"VersionedGcsBucket: {self.primary_region} and {self.secondary_region} "
                    f"cannot form a dual-region (both must be in US, EU or ASIA); "
                    f"pick regions on one continent or set replicate=False")

    @property
    def log_bucket_name(self) -> str:
        return f"{self.physical_name[:58]}-logs"

    @property
    def location(self) -> str:
        if self.dual_region:
            return _multi_region(self.primary_region)[0]
        return self.primary_region.upper()

    @property
    def key_location(self) -> str:
        if self.dual_region:
            return _multi_region(self.primary_region)[1]
        return self.primary_region

    @property
    def turbo(self) -> bool:
        if not self.dual_region:
            return False
        return self.tier == "prod" if self.turbo_replication is None else self.turbo_replication


def _multi_region(region: str) -> tuple[str, str]:
    found = multi_region_of(region)
    if found is None:
        raise ValueError(f"VersionedGcsBucket: {region} is not in a dual-region multi-region")
    return found


class VersionedGcsBucket(pulumi.ComponentResource):
    bucket: gcp.storage.Bucket
    bucket_name: pulumi.Output[str]

    def __init__(self, resource_name: str, args: VersionedGcsBucketArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        args.validate()
        super().__init__(TYPE_TOKEN, resource_name, None, opts)
        protection = args.protection or Protection.for_tier(args.tier)
        key = RegionalKey(
            f"{resource_name}-kms",
            RegionalKeyArgs(name=args.name, location=args.key_location, purpose="gcs",
                            tier=args.tier, project=args.project, labels=args.labels,
                            encrypters=[storage_agent_member(args.project, self, None,
                                                                 args.depends_on)],
                            protection=protection),
            opts=child_options(self),
        )
        S = gcp.storage
        logs = None
        if args.usage_logs if args.usage_logs is not None else args.tier == "prod":
            logs = self._log_bucket(resource_name, args, protection)
        placement = S.BucketCustomPlacementConfigArgs(
            data_locations=[args.primary_region.upper(), str(args.secondary_region).upper()],
        ) if args.dual_region else None
        self.bucket = S.Bucket(
            f"{resource_name}-bucket",
            name=args.physical_name,
            project=args.project,
            location=args.location,
            custom_placement_config=placement,
            rpo=("ASYNC_TURBO" if args.turbo else "DEFAULT") if args.dual_region else None,
            storage_class="STANDARD",
            versioning=S.BucketVersioningArgs(enabled=True),
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            encryption=S.BucketEncryptionArgs(default_kms_key_name=key.key_id),
            lifecycle_rules=[
                S.BucketLifecycleRuleArgs(
                    action=S.BucketLifecycleRuleActionArgs(type="Delete"),
                    condition=S.BucketLifecycleRuleConditionArgs(
                        days_since_noncurrent_time=args.noncurrent_version_days,
                        with_state="ARCHIVED"),
                ),
                S.BucketLifecycleRuleArgs(
                    action=S.BucketLifecycleRuleActionArgs(type="AbortIncompleteMultipartUpload"),
                    condition=S.BucketLifecycleRuleConditionArgs(age=7),
                ),
            ],
            force_destroy=args.tier != "prod",
            labels=standard_labels(args.tier, "VersionedGcsBucket", args.labels),
            logging=S.BucketLoggingArgs(log_bucket=logs.name, log_object_prefix="usage/")
            if logs else None,
            opts=stateful_options(protection, child_options(self),
                                  depends_on=[*key.grants, *([logs] if logs else [])]),
        )
        self.bucket_name = self.bucket.name
        self.register_outputs({"bucketName": self.bucket_name, "url": self.bucket.url})

    def _log_bucket(self, resource_name: str, args: VersionedGcsBucketArgs,
                    protection: Protection) -> gcp.storage.Bucket:
        """Private, versioned, expiring; only Cloud Storage's log writer may add objects."""
        S = gcp.storage
        bucket = S.Bucket(
            f"{resource_name}-usage-logs",
            name=args.log_bucket_name,
            project=args.project,
            location=args.location,
            custom_placement_config=S.BucketCustomPlacementConfigArgs(
                data_locations=[args.primary_region.upper(),
                                str(args.secondary_region).upper()],
            ) if args.dual_region else None,
            storage_class="STANDARD",
            versioning=S.BucketVersioningArgs(enabled=True),
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            lifecycle_rules=[
                S.BucketLifecycleRuleArgs(
                    action=S.BucketLifecycleRuleActionArgs(type="Delete"),
                    condition=S.BucketLifecycleRuleConditionArgs(
                        age=args.usage_log_retention_days)),
                S.BucketLifecycleRuleArgs(
                    action=S.BucketLifecycleRuleActionArgs(type="Delete"),
                    condition=S.BucketLifecycleRuleConditionArgs(
                        days_since_noncurrent_time=30, with_state="ARCHIVED")),
            ],
            force_destroy=False,
            # Marks it as logs, not application data (the resilience model skips it).
            labels={**standard_labels(args.tier, "VersionedGcsBucket", args.labels),
                    "hastack-purpose": "usage-logs"},
            opts=stateful_options(protection, child_options(self)),
        )
        # The documented writer of usage logs (Cloud Storage docs, "Usage logs &
        # storage logs"): create objects only; with uniform access, by IAM.
        S.BucketIAMMember(
            f"{resource_name}-usage-log-writer",
            bucket=bucket.name,
            role="roles/storage.objectCreator",
            member="group:cloud-storage-analytics@google.com",
            opts=child_options(self))
        return bucket
