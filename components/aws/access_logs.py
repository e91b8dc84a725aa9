"""S3 server access logs: a dedicated, locked-down log bucket per region.

S3 delivers access logs only to a bucket in the source bucket's region and
account, as the `logging.s3.amazonaws.com` service principal. The log bucket:

* is granted to that principal in its bucket policy (`s3:PutObject` under the
  log prefix, only for the given source buckets and this account: the
  `aws:SourceArn` / `aws:SourceAccount` conditions), not through ACLs, because
  Object Ownership is `BucketOwnerEnforced` (ACLs are disabled);
* uses SSE-S3 (AES256) default encryption, which server access log delivery
  supports; no CMK here;
* blocks all public access, denies non-TLS requests, is versioned (a deleted or
  overwritten log stays recoverable for the noncurrent window) and expires logs
  after the retention period;
* never logs to itself (S3 would write a log record for each log delivery).

Pulumi docs for `aws.s3.BucketLogging` ("Grant permission by using bucket
policy") and the S3 User Guide, "Permissions for server access log delivery".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.base import Protection, stateful_options

LOG_PREFIX = "s3-access/"
# Deleted/overwritten log objects stay recoverable this long.
NONCURRENT_DAYS = 30


@dataclass(frozen=True)
class AccessLogBucket:
    bucket: aws.s3.Bucket
    versioning: aws.s3.BucketVersioning


def access_log_bucket(prefix: str, *, account_id: str,
                      source_bucket_arns: Sequence[pulumi.Input[str]], retention_days: int,
                      protection: Protection, tags: dict[str, str],
                      opts: pulumi.ResourceOptions) -> AccessLogBucket:
    """The log bucket `<prefix>-access-logs`, writable only by S3 log delivery."""
    name = f"{prefix}-access-logs"
    bucket = aws.s3.Bucket(name, tags={**tags, "hastack:purpose": "s3-access-logs"},
                           opts=stateful_options(protection, opts))
    public = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access", bucket=bucket.id,
        block_public_acls=True, block_public_policy=True,
        ignore_public_acls=True, restrict_public_buckets=True, opts=opts)
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership", bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=opts)
    versioning = aws.s3.BucketVersioning(
        f"{name}-versioning", bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
            status="Enabled"),
        opts=opts)
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption", bucket=bucket.id,
        rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
            apply_server_side_encryption_by_default=(
                aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256")))],
        opts=opts)
    aws.s3.BucketPolicy(
        f"{name}-policy", bucket=bucket.id,
        policy=pulumi.Output.all(bucket.arn, *source_bucket_arns).apply(
            lambda arns: log_bucket_policy(arns[0], arns[1:], account_id)),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[public])))
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle", bucket=bucket.id,
        rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="expire-access-logs",
            status="Enabled",
            filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
            expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                days=retention_days),
            noncurrent_version_expiration=(
                aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=NONCURRENT_DAYS)),
            abort_incomplete_multipart_upload=(
                aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=1)))],
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[versioning])))
    return AccessLogBucket(bucket=bucket, versioning=versioning)


def enable_access_logging(resource_name: str, *, source: aws.s3.Bucket,
                          target: AccessLogBucket, opts: pulumi.ResourceOptions
                          ) -> aws.s3.BucketLogging:
    """Server access logging of `source` into `target`, partitioned by event date."""
    return aws.s3.BucketLogging(
        resource_name,
        bucket=source.id,
        target_bucket=target.bucket.id,
        target_prefix=LOG_PREFIX,
        target_object_key_format=aws.s3.BucketLoggingTargetObjectKeyFormatArgs(
            partitioned_prefix=aws.s3.BucketLoggingTargetObjectKeyFormatPartitionedPrefixArgs(
                partition_date_source="EventTime")),
        opts=opts)


def log_bucket_policy(log_bucket_arn: str, source_arns: Sequence[str], account_id: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [log_bucket_arn, f"{log_bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "S3ServerAccessLogDelivery",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{log_bucket_arn}/{LOG_PREFIX}*",
                "Condition": {
                    "ArnLike": {"aws:SourceArn": sorted(source_arns)},
                    "StringEquals": {"aws:SourceAccount": account_id},
                },
            },
        ],
    }, sort_keys=True)
