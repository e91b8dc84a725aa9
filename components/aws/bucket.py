"""A hardened, versioned S3 bucket, optionally replicated to a second region.

pulumi-aws v7 style: the bucket resource only names the bucket; versioning,
encryption, public access, ownership, policy, lifecycle and replication are each a
separate resource (`BucketVersioning`, `BucketServerSideEncryptionConfiguration`,
... — the non-`V2` names are current in v7; the `...V2` twins are deprecated
aliases).

Replication (`replicate_to`): a replica bucket with the same hardening and its own
KMS key in the destination region, an IAM role S3 assumes, and a
`BucketReplicationConfig` with Replication Time Control (15-minute SLA) and
metrics, delete-marker replication and SSE-KMS object selection. S3 refuses a
replication configuration unless *both* buckets are already versioned, so the
configuration depends on both `BucketVersioning` resources: a first `pulumi up`
cannot race ahead of the destination's versioning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.aws.access_logs import AccessLogBucket, access_log_bucket, enable_access_logging
from components.aws.kms import customer_managed_key, key_policy, scope_of
from components.base import Protection, Tier, child_options, standard_tags, stateful_options
from components.k8s.wiring import ArtifactStore
from hastack.config.model import StackConfig
from hastack.config.tiers import tier_defaults

COMPONENT = "VersionedBucket"
# Abandoned multipart uploads are invisible and billed; drop them after a week.
ABORT_MULTIPART_DAYS = 7
# Replication Time Control: S3 replicates 99.99% of objects within 15 minutes.
RTC_MINUTES = 15
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,40}[a-z0-9]$")

# The replication rule ID: the `RuleId` dimension of the S3 replication metrics.
REPLICATION_RULE_ID = "replicate-everything"


@dataclass(frozen=True)
class ReplicaRegion:
    """Where the replica goes: the destination region and its provider."""

    provider: pulumi.ProviderResource
    region: str


@dataclass(frozen=True)
class VersionedBucketArgs:
    """Inputs; every `None` falls back to the tier default in `hastack/config/tiers.py`."""

    tier: Tier
    provider: pulumi.ProviderResource
    region: str
    replicate_to: ReplicaRegion | None = None
    noncurrent_version_days: int | None = None
    # None: the tier's protection (`Protection.for_tier`); from_config passes the stack's.
    protection: Protection | None = None
    # Server access logs to a dedicated log bucket per region; None: prod only (the
    # log buckets cost storage, and dev/staging rarely need a request audit trail).
    access_logs: bool | None = None
    access_log_retention_days: int = 365
    tags: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: StackConfig, *, provider: pulumi.ProviderResource,
                    region: str, replica: ReplicaRegion | None = None) -> VersionedBucketArgs:
        replicate = config.artifacts.replicate and replica is not None
        return cls(tier=config.tier, provider=provider, region=region,
                   replicate_to=replica if replicate else None,
                   noncurrent_version_days=config.artifacts.noncurrent_version_days,
                   tags=dict(config.tags),
                   protection=Protection.requested(config.protect_stateful_resources,
                                                   config.deletion_protection))


@dataclass(frozen=True)
class HardenedBucket:
    """One bucket with its key and the resources that must exist before replication."""

    bucket: aws.s3.Bucket
    kms_key: aws.kms.Key
    versioning: aws.s3.BucketVersioning
    access_logs: AccessLogBucket | None = None


class VersionedBucket(pulumi.ComponentResource):
    """Artifact storage: versioned, KMS-encrypted, TLS-only, private, optionally replicated."""

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]
    replica_bucket_name: pulumi.Output[str] | None
    replica_bucket_arn: pulumi.Output[str] | None
    replica_kms_key_arn: pulumi.Output[str] | None
    replication: aws.s3.BucketReplicationConfig | None
    replication_back: aws.s3.BucketReplicationConfig | None

    def __init__(self, name: str, args: VersionedBucketArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("hastack:aws:VersionedBucket", name, None, opts)
        days = _noncurrent_days(args)
        if not _NAME.match(name):
            raise ValueError(f"name '{name}' must be 3..42 lower-case letters, digits or '-' "
                             "(S3 appends a suffix to it)")
        if args.replicate_to is not None and args.replicate_to.region == args.region:
            raise ValueError("replicate_to.region must differ from region "
                             f"('{args.region}'): replication here is for regional failure")
        protection = args.protection or Protection.for_tier(args.tier)
        tags = standard_tags(args.tier, COMPONENT, args.tags)
        self._protection = protection
        self._tier = args.tier
        self._access_logs = (args.tier == "prod" if args.access_logs is None
                             else args.access_logs)
        self._log_days = args.access_log_retention_days
        if not 1 <= self._log_days <= 3650:
            raise ValueError("access_log_retention_days must be 1..3650 "
                             f"(got {self._log_days})")

        source = self._hardened_bucket(f"{name}-{args.region}", args.provider, args.region,
                                       days, tags)
        self._region = args.region
        self._source = source
        self.bucket_name = source.bucket.bucket
        self.bucket_arn = source.bucket.arn
        self.kms_key_arn = source.kms_key.arn
        self.replica_bucket_name = self.replica_bucket_arn = self.replica_kms_key_arn = None
        self.replication = self.replication_back = None

        if args.replicate_to is not None:
            target = args.replicate_to
            replica = self._hardened_bucket(f"{name}-{target.region}", target.provider,
                                            target.region, days, tags)
            self.replication = self._replicate(name, args, source, replica, tags)
            # And back: what the standby region writes during a failover (its
            # orchestrator uses the replica) flows to the primary bucket.
            self.replication_back = self._replicate(
                f"{name}-back", args, replica, source, tags, provider=target.provider)
            self.replica_bucket_name = replica.bucket.bucket
            self.replica_bucket_arn = replica.bucket.arn
            self.replica_kms_key_arn = replica.kms_key.arn

        self.register_outputs({
            "bucketName": self.bucket_name,
            "bucketArn": self.bucket_arn,
            "kmsKeyArn": self.kms_key_arn,
            "replicaBucketName": self.replica_bucket_name,
            "replicaBucketArn": self.replica_bucket_arn,
            "replicaKmsKeyArn": self.replica_kms_key_arn,
        })

    def artifact_store(self, *, oidc_provider_arn: pulumi.Input[str],
                       oidc_issuer: pulumi.Input[str],
                       provider: pulumi.ProviderResource | None = None) -> ArtifactStore:
        """The primary bucket as the orchestrator's `ArtifactStore` (IRSA wiring)."""
        return ArtifactStore(cloud="aws", bucket=self.bucket_name, region=self._region,
                             aws_oidc_provider_arn=oidc_provider_arn,
                             aws_oidc_issuer=oidc_issuer,
                             aws_kms_key_arn=self.kms_key_arn, aws_provider=provider)

    def _hardened_bucket(self, prefix: str, provider: pulumi.ProviderResource, region: str,
                         days: int, tags: dict[str, str]) -> HardenedBucket:
        opts = child_options(self, provider)
        # Used only through S3 in the bucket's region: SSE-KMS with a bucket key, the
        # replication role (which reads and writes through S3) and IRSA readers alike.
        scope = scope_of(self, provider, region, services=("s3",))
        key = customer_managed_key(
            f"{prefix}-key", description=f"Objects of the {prefix} bucket",
            tier=self._tier, protection=self._protection, tags=tags, opts=opts,
            policy=key_policy(scope))
        # Auto-named (`<prefix>-<suffix>`): bucket names are global, so a fixed name
        # would collide across stacks and accounts.
        bucket = aws.s3.Bucket(prefix, tags=tags,
                               opts=stateful_options(self._protection, opts))
        logs = None
        if self._access_logs:
            logs = access_log_bucket(
                prefix, account_id=scope.account_id, source_bucket_arns=[bucket.arn],
                retention_days=self._log_days, protection=self._protection, tags=tags,
                opts=opts)
            enable_access_logging(f"{prefix}-access-logging", source=bucket, target=logs,
                                  opts=opts)
        # The configuration resources below are parented to the component, not the
        # bucket: `protect` is inherited from a parent, and only bucket and key hold data.

        # Block public access and enforce ownership first: nothing public can slip
        # in while the rest of the configuration is still being applied.
        public = aws.s3.BucketPublicAccessBlock(
            f"{prefix}-public-access", bucket=bucket.id,
            block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=opts)
        aws.s3.BucketOwnershipControls(
            f"{prefix}-ownership", bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=opts)
        versioning = aws.s3.BucketVersioning(
            f"{prefix}-versioning", bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"),
            opts=opts)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{prefix}-encryption", bucket=bucket.id,
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=(
                    aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms", kms_master_key_id=key.arn)),
                # S3 Bucket Keys cut KMS requests (and cost) by ~99% for busy buckets.
                bucket_key_enabled=True)],
            opts=opts)
        aws.s3.BucketPolicy(
            f"{prefix}-tls-only", bucket=bucket.id,
            policy=bucket.arn.apply(_deny_insecure_transport),
            # S3 serialises a bucket's configuration calls; a policy written in parallel
            # with the public access block can fail with OperationAborted.
            opts=pulumi.ResourceOptions.merge(opts,
                                              pulumi.ResourceOptions(depends_on=[public])))
        aws.s3.BucketLifecycleConfiguration(
            f"{prefix}-lifecycle", bucket=bucket.id,
            rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-noncurrent-and-abort-multipart",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                noncurrent_version_expiration=(
                    aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=days)),
                abort_incomplete_multipart_upload=(
                    aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=ABORT_MULTIPART_DAYS)))],
            # Lifecycle rules on noncurrent versions only make sense once versioning is on.
            opts=pulumi.ResourceOptions.merge(opts,
                                              pulumi.ResourceOptions(depends_on=[versioning])))
        return HardenedBucket(bucket=bucket, kms_key=key, versioning=versioning,
                              access_logs=logs)

    def _replicate(self, name: str, args: VersionedBucketArgs, source: HardenedBucket,
                   replica: HardenedBucket, tags: dict[str, str],
                   provider: pulumi.ProviderResource | None = None
                   ) -> aws.s3.BucketReplicationConfig:
        """Replication of every object from `source` to `replica` (in the source's region)."""
        opts = child_options(self, args.provider)
        # The configuration lives on the source bucket, so in the source's region.
        config_opts = child_options(self, provider or args.provider)
        role = aws.iam.Role(
            f"{name}-replication",
            description=(f"S3 replication of {name} to the replica bucket" if provider is None
                         else f"S3 replication of {name}: the replica back to the primary"),
            assume_role_policy=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                               "Action": "sts:AssumeRole"}],
            }),
            tags=tags, opts=opts)
        policy = aws.iam.RolePolicy(
            f"{name}-replication",
            role=role.id,
            policy=pulumi.Output.all(
                source.bucket.arn, replica.bucket.arn, source.kms_key.arn, replica.kms_key.arn,
            ).apply(lambda arns: _replication_policy(*arns)),
            opts=opts)
        rule = aws.s3.BucketReplicationConfigRuleArgs(
            id=REPLICATION_RULE_ID,
            status="Enabled",
            priority=1,
            # An (empty) filter selects the V2 schema, which delete-marker replication needs.
            filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=""),
            delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(
                status="Enabled"),
            source_selection_criteria=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
                # Two-way replication: metadata/tag/ACL changes made to a replica flow
                # back too (S3 skips replica modifications unless told otherwise).
                replica_modifications=(
                    aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaReplicaModificationsArgs(
                        status="Enabled")),
                sse_kms_encrypted_objects=(
                    aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                        status="Enabled"))),
            destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
                bucket=replica.bucket.arn,
                storage_class="STANDARD",
                encryption_configuration=(
                    aws.s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                        replica_kms_key_id=replica.kms_key.arn)),
                replication_time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeArgs(
                    status="Enabled",
                    time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeTimeArgs(
                        minutes=RTC_MINUTES)),
                metrics=aws.s3.BucketReplicationConfigRuleDestinationMetricsArgs(
                    status="Enabled",
                    event_threshold=(
                        aws.s3.BucketReplicationConfigRuleDestinationMetricsEventThresholdArgs(
                            minutes=RTC_MINUTES)))),
        )
        return aws.s3.BucketReplicationConfig(
            f"{name}-replication",
            bucket=source.bucket.id,
            role=role.arn,
            rules=[rule],
            # S3 rejects the configuration unless BOTH buckets are versioned, and the
            # role must carry its policy before the first object is replicated.
            opts=pulumi.ResourceOptions.merge(config_opts, pulumi.ResourceOptions(
                depends_on=[source.versioning, replica.versioning, policy])))


def _noncurrent_days(args: VersionedBucketArgs) -> int:
    days = args.noncurrent_version_days
    if days is None:
        days = int(tier_defaults("aws", args.tier)["artifacts"]["noncurrentVersionDays"])
    if not 1 <= days <= 3650:
        raise ValueError(f"noncurrent_version_days must be 1..3650 (got {days})")
    return days


def _deny_insecure_transport(bucket_arn: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }],
    })


def _replication_policy(source_arn: str, replica_arn: str, source_key: str,
                        replica_key: str) -> str:
    """Least privilege for S3 replication of SSE-KMS objects between two buckets."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow",
             "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
             "Resource": [source_arn]},
            {"Effect": "Allow",
             "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl",
                        "s3:GetObjectVersionTagging"],
             "Resource": [f"{source_arn}/*"]},
            {"Effect": "Allow",
             "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
             "Resource": [f"{replica_arn}/*"]},
            {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [source_key]},
            {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
             "Resource": [replica_key]},
        ],
    })
