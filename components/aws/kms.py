"""Customer-managed KMS keys: one way to make them, so every key rotates.

Every hastack data store (Aurora, ElastiCache, S3, EKS secrets, flow logs)
encrypts with a key of its own, in its own region. `customer_managed_key` is the
one place that decides what such a key looks like: annual rotation on, a deletion
window that leaves time to cancel a mistaken deletion (the maximum outside dev),
and the stateful resource options of the tier (prod keys are protected: losing a
key loses every byte encrypted with it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from components.base import Protection, Tier, stateful_options


def customer_managed_key(resource_name: str, *, description: str, tier: Tier,
                         protection: Protection, tags: Mapping[str, str],
                         opts: pulumi.ResourceOptions,
                         policy: pulumi.Input[str] | None = None) -> aws.kms.Key:
    """A rotating symmetric CMK with the tier's deletion window and protection."""
    return aws.kms.Key(
        resource_name,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=key_deletion_window(tier),
        policy=policy,
        tags=dict(tags),
        opts=stateful_options(protection, opts),
    )


def log_group_key_policy(partition: str, account_id: str, region: str, dns_suffix: str,
                         log_group_name: str) -> str:
    """KMS key policy letting CloudWatch Logs use the key for exactly one log group.

    The account-root statement keeps the key manageable through IAM (without it
    the key is locked out); the service statement is scoped by the encryption
    context CloudWatch Logs sends, so the key cannot encrypt any other log group.
    """
    log_group_arn = f"arn:{partition}:logs:{region}:{account_id}:log-group:{log_group_name}"
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministersKeyThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchLogsEncryptsOneLogGroup",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.{dns_suffix}"},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*",
                           "kms:GenerateDataKey*", "kms:Describe*"],
                "Resource": "*",
                "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group_arn}},
            },
        ],
    }, sort_keys=True)


def key_deletion_window(tier: Tier) -> int:
    """Days a scheduled key deletion can still be cancelled: the maximum outside dev."""
    return 7 if tier == "dev" else 30
