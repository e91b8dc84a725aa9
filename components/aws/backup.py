"""AWS Backup for the Aurora primary: copies in the other region, locked in prod.

Aurora's own automated backups live in the cluster's region and go when the
cluster (or the account's access to that region) goes. This component keeps a
second, independent history outside that blast radius:

* a backup vault per region, each encrypted with its own CMK (used only through
  AWS Backup and RDS in that region);
* a daily plan in the primary region for the primary regional cluster, keeping
  recovery points for `retention_days`, with a **copy action to the vault in the
  secondary region** (same retention);
* in prod, both vaults carry a **vault lock in compliance mode**: after a 3-day
  grace period nobody, the account root included, can shorten retention or
  delete a recovery point early, and the lock itself cannot be removed;
* a dedicated IAM role AWS Backup assumes (trusted by backup.amazonaws.com only),
  with AWS's service-role policy for creating backups; it is not shared with
  anything else.

Only the writer's cluster is selected (the platform passes the `activeRegion`'s):
the other cluster of a global database holds the same data. After a failover the
plan, selection and role move to the new active region (they hold no data) while
both region-keyed vaults, and every recovery point in them, stay.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.aws.kms import customer_managed_key, key_policy, scope_of
from components.base import Protection, Tier, child_options, standard_tags, stateful_options

TYPE_TOKEN = "hastack:aws:AuroraBackup"
COMPONENT = "AuroraBackup"
BACKUP_POLICY = "service-role/AWSBackupServiceRolePolicyForBackup"
# Minimum grace period AWS Backup allows before a compliance-mode lock is immutable.
LOCK_GRACE_DAYS = 3
VaultLock = Literal["compliance", "governance", "none"]


@dataclass(frozen=True)
class BackupRegion:
    provider: pulumi.ProviderResource
    region: str


@dataclass(frozen=True)
class AuroraBackupArgs:
    tier: Tier
    primary: BackupRegion
    secondary: BackupRegion
    cluster_arn: pulumi.Input[str]
    retention_days: int
    # None: compliance in prod, none elsewhere.
    vault_lock: VaultLock | None = None
    # cron in UTC; after Aurora's 03:00-04:00 backup window.
    schedule: str = "cron(0 5 * * ? *)"
    tags: Mapping[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        if self.primary.region == self.secondary.region:
            raise ValueError("AuroraBackup: secondary.region must differ from primary.region "
                             f"('{self.primary.region}'): the copy leaves the region")
        if not 1 <= self.retention_days <= 35:
            raise ValueError(f"AuroraBackup: retention_days must be 1..35 "
                             f"(got {self.retention_days})")

    @property
    def lock(self) -> VaultLock:
        if self.vault_lock is not None:
            return self.vault_lock
        return "compliance" if self.tier == "prod" else "none"


class AuroraBackup(pulumi.ComponentResource):
    vaults: dict[str, aws.backup.Vault]
    plan: aws.backup.Plan

    def __init__(self, name: str, args: AuroraBackupArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        args.validate()
        tags = standard_tags(args.tier, COMPONENT, args.tags)
        protection = Protection.for_tier(args.tier)
        self.vaults = {region.region: self._vault(name, region, args, protection, tags)
                       for region in (args.primary, args.secondary)}
        primary_opts = child_options(self, args.primary.provider)
        copy_to = self.vaults[args.secondary.region]
        lifecycle = aws.backup.PlanRuleLifecycleArgs(delete_after=args.retention_days)
        self.plan = aws.backup.Plan(
            f"{name}-plan",
            rules=[aws.backup.PlanRuleArgs(
                rule_name="daily-with-copy-to-secondary",
                target_vault_name=self.vaults[args.primary.region].name,
                schedule=args.schedule,
                start_window=60,
                completion_window=360,
                lifecycle=lifecycle,
                copy_actions=[aws.backup.PlanRuleCopyActionArgs(
                    destination_vault_arn=copy_to.arn,
                    lifecycle=aws.backup.PlanRuleCopyActionLifecycleArgs(
                        delete_after=args.retention_days))],
            )],
            tags=tags, opts=primary_opts)
        role = aws.iam.Role(
            f"{name}-role",
            description=f"AWS Backup for {name} (backups and cross-region copies)",
            assume_role_policy=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow",
                               "Principal": {"Service": "backup.amazonaws.com"},
                               "Action": "sts:AssumeRole"}],
            }, sort_keys=True),
            tags=tags, opts=primary_opts)
        partition = aws.get_partition(opts=pulumi.InvokeOptions(
            parent=self, provider=args.primary.provider)).partition
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-role", role=role.name,
            policy_arn=f"arn:{partition}:iam::aws:policy/{BACKUP_POLICY}", opts=primary_opts)
        aws.backup.Selection(
            f"{name}-selection",
            name=f"{name}-primary-cluster"[:50],
            plan_id=self.plan.id,
            iam_role_arn=role.arn,
            resources=[args.cluster_arn],
            # AWS Backup validates the role when the selection is created.
            opts=pulumi.ResourceOptions.merge(primary_opts,
                                              pulumi.ResourceOptions(depends_on=[attachment])))
        self.register_outputs({
            "vaultArns": {region: vault.arn for region, vault in self.vaults.items()},
            "planId": self.plan.id,
        })

    def _vault(self, name: str, region: BackupRegion, args: AuroraBackupArgs,
               protection: Protection, tags: dict[str, str]) -> aws.backup.Vault:
        prefix = f"{name}-{region.region}"
        opts = child_options(self, region.provider)
        # Recovery points are encrypted by AWS Backup (and, for RDS snapshots, by RDS)
        # with the vault's key: nobody else may use it.
        key = customer_managed_key(
            f"{prefix}-vault-key",
            description=f"Recovery points in the {prefix} backup vault",
            tier=args.tier, protection=protection, tags=tags, opts=opts,
            policy=key_policy(scope_of(self, region.provider, region.region,
                                       services=("backup", "rds"))))
        vault = aws.backup.Vault(
            f"{prefix}-vault",
            name=f"{prefix}-vault",
            kms_key_arn=key.arn,
            # Never delete recovery points with the vault: they are the point.
            force_destroy=False,
            tags=tags, opts=stateful_options(protection, opts))
        lock = args.lock
        if lock != "none":
            aws.backup.VaultLockConfiguration(
                f"{prefix}-vault-lock",
                backup_vault_name=vault.name,
                min_retention_days=args.retention_days,
                # Omitted: governance mode (removable by privileged principals).
                changeable_for_days=LOCK_GRACE_DAYS if lock == "compliance" else None,
                opts=stateful_options(protection, opts))
        return vault
