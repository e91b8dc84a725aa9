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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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


# Managing the key, never using it: the AWS key-administrator actions without
# kms:CreateGrant (which would let any IAM principal grant itself Decrypt). The
# account keeps kms:PutKeyPolicy through IAM, so the key can never be locked out.
# https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion", "kms:Delete*", "kms:Describe*", "kms:Disable*", "kms:Enable*",
    "kms:Get*", "kms:List*", "kms:Put*", "kms:Revoke*", "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:Update*",
)
# What a service does with a key on a principal's behalf (the statement AWS-managed
# keys such as aws/rds use, scoped with kms:ViaService and kms:CallerAccount).
USE_ACTIONS = ("kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt",
               "kms:GenerateDataKey*", "kms:ListGrants", "kms:ReEncrypt*")
_LOGS_ACTIONS = ("kms:Decrypt*", "kms:Describe*", "kms:Encrypt*", "kms:GenerateDataKey*",
                 "kms:ReEncrypt*")


@dataclass(frozen=True)
class KeyScope:
    """Who may use one key: services in its region, log groups, exact IAM roles."""

    partition: str
    account_id: str
    region: str
    dns_suffix: str = "amazonaws.com"
    # Services that use the key for account principals (kms:ViaService), e.g. "rds".
    services: Sequence[str] = ()
    # CloudWatch Logs log groups (names) the logs service principal may encrypt.
    log_groups: Sequence[str] = ()
    # IAM role ARNs that call KMS directly (e.g. the EKS control plane role).
    role_arns: Sequence[str] = ()


def key_policy(scope: KeyScope) -> str:
    """A key policy tighter than the default "account root may do anything".

    * the account administers the key through IAM (never locked out), but
    * cryptographic use is allowed only through the named services in the key's
      region (kms:ViaService), to CloudWatch Logs for the named log groups
      (encryption context), and to the named roles: an IAM policy granting
      kms:Decrypt on "*" no longer decrypts this key's data outside those paths.
    https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
    """
    root = f"arn:{scope.partition}:iam::{scope.account_id}:root"
    statements: list[dict[str, object]] = [{
        "Sid": "AccountAdministersKeyThroughIam",
        "Effect": "Allow",
        "Principal": {"AWS": root},
        "Action": list(ADMIN_ACTIONS),
        "Resource": "*",
    }]
    if scope.services:
        statements.append({
            "Sid": "UseThroughServices",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": list(USE_ACTIONS),
            "Resource": "*",
            "Condition": {"StringEquals": {
                "kms:CallerAccount": scope.account_id,
                "kms:ViaService": sorted(f"{service}.{scope.region}.{scope.dns_suffix}"
                                         for service in scope.services),
            }},
        })
    if scope.role_arns:
        statements.append({
            "Sid": "UseByRoles",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": list(USE_ACTIONS),
            "Resource": "*",
            # A condition rather than the role as Principal: KMS rejects a policy naming
            # a role IAM has not propagated yet, and a recreated role would be orphaned.
            "Condition": {"ArnEquals": {"aws:PrincipalArn": sorted(scope.role_arns)}},
        })
    if scope.log_groups:
        arns = sorted(f"arn:{scope.partition}:logs:{scope.region}:{scope.account_id}"
                      f":log-group:{name}" for name in scope.log_groups)
        statements.append({
            "Sid": "CloudWatchLogsEncryptsItsLogGroups",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{scope.region}.{scope.dns_suffix}"},
            "Action": list(_LOGS_ACTIONS),
            "Resource": "*",
            # The context CloudWatch Logs sends names the log group: no other group
            # can use the key. https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
            "Condition": {"ArnEquals": {
                "kms:EncryptionContext:aws:logs:arn": arns[0] if len(arns) == 1 else arns}},
        })
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def log_group_key_policy(partition: str, account_id: str, region: str, dns_suffix: str,
                         log_group_name: str) -> str:
    """Key policy letting CloudWatch Logs use the key for exactly one log group."""
    return key_policy(KeyScope(partition, account_id, region, dns_suffix,
                               log_groups=(log_group_name,)))


def scope_of(resource: pulumi.Resource, provider: pulumi.ProviderResource | None,
             region: str, **uses: Sequence[str]) -> KeyScope:
    """A `KeyScope` for the account and partition the provider deploys to."""
    invoke = pulumi.InvokeOptions(parent=resource, provider=provider)
    partition = aws.get_partition(opts=invoke)
    account = aws.get_caller_identity(opts=invoke).account_id
    return KeyScope(partition.partition, account, region, partition.dns_suffix, **uses)


def key_deletion_window(tier: Tier) -> int:
    """Days a scheduled key deletion can still be cancelled: the maximum outside dev."""
    return 7 if tier == "dev" else 30
