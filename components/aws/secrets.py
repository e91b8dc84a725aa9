"""Generated credentials in AWS Secrets Manager: CMK-encrypted, replicated, protected.

Every credential the platform generates (the Aurora master password, each Redis
AUTH token, the orchestrator's own database and API passwords) is kept as a Pulumi
secret *and* stored here, so operators and tools read it from the cloud's secret
manager rather than from Pulumi state, and so it survives the loss of a region:

* each secret is encrypted with a customer-managed key of its region whose key
  policy lets only Secrets Manager (and the data store's own service) use it
  (components/aws/kms.py);
* in a two-region environment each secret has a **Secrets Manager replica** in the
  other region under that region's key (`SecretReplicaArgs`): the replica is
  readable when the primary region is down, and `aws secretsmanager
  stop-replication-to-replica` promotes it to a standalone secret there;
* a credential that only serves one region's resource (a Redis AUTH token: the
  cache dies with its region) is tagged `hastack:replication = region-local`
  instead of being replicated (`secrets-cmk-replicated` accepts exactly that);
* protected and retained in prod, with a 30-day recovery window (7 elsewhere).

Source: Secrets Manager User Guide, "Replicate AWS Secrets Manager secrets across
Regions" (a replica is encrypted with a KMS key in its own Region).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws.kms import customer_managed_key, key_policy, scope_of
from components.base import Protection, Tier, child_options, standard_tags, stateful_options

TYPE_TOKEN = "hastack:aws:OrchestratorSecrets"
COMPONENT = "OrchestratorSecrets"
REPLICATION_TAG = "hastack:replication"
REGION_LOCAL = "region-local"


@dataclass(frozen=True)
class SecretRegion:
    """Where a secret (or its replica) lives and the key it is encrypted with there."""

    provider: pulumi.ProviderResource
    region: str
    kms_key_arn: pulumi.Input[str]


def recovery_window_days(tier: Tier) -> int:
    """Days a deleted secret can still be restored: generous in prod."""
    return 30 if tier == "prod" else 7


def stored_secret(resource_name: str, *, description: str, value: pulumi.Input[str],
                  primary: SecretRegion, replica: SecretRegion | None, tier: Tier,
                  protection: Protection, tags: Mapping[str, str],
                  parent: pulumi.Resource) -> aws.secretsmanager.Secret:
    """A secret in `primary.region` (replicated to `replica.region` if given) holding `value`.

    `replica=None` marks the secret region-local (tagged so); the Secret and its
    SecretVersion share `resource_name`.
    """
    if replica is not None and replica.region == primary.region:
        raise ValueError(f"{resource_name}: the replica region must differ from "
                         f"'{primary.region}'")
    secret_tags = dict(tags)
    if replica is None:
        secret_tags[REPLICATION_TAG] = REGION_LOCAL
    secret = aws.secretsmanager.Secret(
        resource_name,
        description=description,
        kms_key_id=primary.kms_key_arn,
        recovery_window_in_days=recovery_window_days(tier),
        replicas=None if replica is None else [aws.secretsmanager.SecretReplicaArgs(
            region=replica.region, kms_key_id=replica.kms_key_arn)],
        tags=secret_tags,
        opts=stateful_options(protection, child_options(parent, primary.provider)))
    aws.secretsmanager.SecretVersion(
        resource_name,
        secret_id=secret.id,
        # Secret in state and plan: the SDK marks secret_string secret, and so do we.
        secret_string=pulumi.Output.secret(value),
        opts=child_options(parent, primary.provider))
    return secret


@dataclass(frozen=True)
class OrchestratorSecretsArgs:
    tier: Tier
    # The environment's regions: the first holds the secret, the second its replica.
    regions: Mapping[str, pulumi.ProviderResource]
    primary_region: str
    # What to store: {"databasePassword": ..., "apiPassword": ...} (Pulumi secrets)
    # next to plain facts such as the role name.
    entries: Mapping[str, pulumi.Input[Any]]
    protection: Protection | None = None
    tags: Mapping[str, str] | None = None


class OrchestratorSecrets(pulumi.ComponentResource):
    """The orchestrator's own credentials in Secrets Manager, one key per region."""

    secret_arn: pulumi.Output[str]
    key_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: OrchestratorSecretsArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        if args.primary_region not in args.regions:
            raise ValueError(f"{name}: primary_region '{args.primary_region}' is not one of "
                             f"{sorted(args.regions)}")
        protection = args.protection or Protection.for_tier(args.tier)
        tags = standard_tags(args.tier, COMPONENT, dict(args.tags or {}))
        keys = {
            region: customer_managed_key(
                f"{name}-{region}-key",
                description=f"Orchestrator credentials of {name} in {region} (Secrets Manager)",
                tier=args.tier, protection=protection, tags=tags,
                opts=child_options(self, provider),
                # Only Secrets Manager in this region may use it on a caller's behalf.
                policy=key_policy(scope_of(self, provider, region,
                                           services=("secretsmanager",))))
            for region, provider in args.regions.items()}
        where = {region: SecretRegion(provider, region, keys[region].arn)
                 for region, provider in args.regions.items()}
        others = [region for region in args.regions if region != args.primary_region]
        secret = stored_secret(
            f"{name}-{args.primary_region}-credentials",
            description=f"Database role and API credentials of the {name} orchestrator",
            value=pulumi.Output.json_dumps(dict(args.entries)),
            primary=where[args.primary_region],
            replica=where[others[0]] if others else None,
            tier=args.tier, protection=protection, tags=tags, parent=self)
        self.secret_arn = secret.arn
        self.key_arns = {region: key.arn for region, key in keys.items()}
        self.register_outputs({"secretArn": self.secret_arn, "keyArns": self.key_arns})
