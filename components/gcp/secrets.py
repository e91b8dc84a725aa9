"""Generated credentials in GCP Secret Manager: user-managed replicas, CMEK, protected.

The GCP twin of components/aws/secrets.py. Every credential the platform generates
or receives (the Cloud SQL password, each Memorystore AUTH string, the
orchestrator's own passwords) is a Pulumi secret and a Secret Manager secret:

* **user-managed replication** over the environment's regions (not `auto`), so the
  data stays where the platform runs and each replica can carry its own key;
* **CMEK per replica**: a key in the replica's location (Secret Manager requires
  the key's location to match the replica's), usable only by the project's Secret
  Manager service agent (`SecretManagerKeys`);
* a credential that only serves one region's resource (a Memorystore AUTH string)
  has a single replica there and the label `hastack-replication: region-local`;
* protected and retained in prod (`deletionProtection` on the secret too).

`replication` cannot be changed after a secret is created (provider docs), so a
secret whose replicas or keys change is replaced; `delete_before_replace` lets the
replacement reuse its `secret_id`, and the value is written again from state.
Sources: Secret Manager docs, "Enable customer-managed encryption keys (CMEK)"
(service agent `service-<number>@gcp-sa-secretmanager.iam.gserviceaccount.com`,
key location = replica location) and "Choose a replication policy".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from components.base import Protection, Tier, child_options, stateful_options
from components.gcp.kms import RegionalKey, RegionalKeyArgs

TYPE_TOKEN = "hastack:gcp:SecretManagerKeys"
REPLICATION_LABEL = "hastack-replication"
REGION_LOCAL = "region-local"


@dataclass(frozen=True)
class SecretManagerKeysArgs:
    name: str
    tier: Tier
    project: str
    regions: Sequence[str]
    # Each region's provider: a region's key ring and key are regional resources.
    providers: Mapping[str, pulumi.ProviderResource] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    protection: Protection | None = None
    depends_on: Sequence[pulumi.Resource] = ()


class SecretManagerKeys(pulumi.ComponentResource):
    """One CMEK per region for Secret Manager, granted to its service agent only."""

    key_ids: dict[str, pulumi.Output[str]]
    grants: list[gcp.kms.CryptoKeyIAMMember]

    def __init__(self, resource_name: str, args: SecretManagerKeysArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, resource_name, None, opts)
        # The agent exists only after the API's first use: create it explicitly,
        # as the CMEK guide asks, before granting it the keys.
        agent = gcp.projects.ServiceIdentity(
            f"{resource_name}-agent", project=args.project,
            service="secretmanager.googleapis.com",
            opts=child_options(self, depends_on=list(args.depends_on) or None))
        keys = {region: RegionalKey(
            f"{resource_name}-{region}-kms",
            RegionalKeyArgs(name=args.name, location=region, purpose="secrets",
                            tier=args.tier, project=args.project, labels=args.labels,
                            encrypters=[agent.member], protection=args.protection),
            opts=child_options(self, args.providers.get(region))) for region in args.regions}
        self.key_ids = {region: key.key_id for region, key in keys.items()}
        self.grants = [grant for key in keys.values() for grant in key.grants]
        self.register_outputs({"keyIds": self.key_ids})


def stored_secret(resource_name: str, *, secret_id: str, project: str,
                  value: pulumi.Input[str], replicas: Mapping[str, pulumi.Input[str] | None],
                  protection: Protection, labels: Mapping[str, str],
                  opts: pulumi.ResourceOptions,
                  depends_on: Sequence[pulumi.Resource] = (),
                  version_name: str | None = None) -> gcp.secretmanager.Secret:
    """A secret replicated to `replicas` (location -> CMEK key id, None for Google's key).

    One location marks the secret region-local (labelled so). The SecretVersion is
    `version_name` (default `<resource_name>-version`).
    """
    if not replicas:
        raise ValueError(f"{resource_name}: a secret needs at least one replica location")
    SM = gcp.secretmanager
    secret_labels = dict(labels)
    if len(replicas) == 1:
        secret_labels[REPLICATION_LABEL] = REGION_LOCAL
    secret = SM.Secret(
        resource_name,
        secret_id=secret_id,
        project=project,
        replication=SM.SecretReplicationArgs(user_managed=SM.SecretReplicationUserManagedArgs(
            replicas=[SM.SecretReplicationUserManagedReplicaArgs(
                location=location,
                customer_managed_encryption=None if key is None else
                SM.SecretReplicationUserManagedReplicaCustomerManagedEncryptionArgs(
                    kms_key_name=key))
                for location, key in sorted(replicas.items())])),
        deletion_protection=protection.deletion_protection,
        labels=secret_labels,
        opts=stateful_options(protection, pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(delete_before_replace=True)),
            depends_on=list(depends_on) or None),
    )
    SM.SecretVersion(
        version_name or f"{resource_name}-version",
        secret=secret.id,
        secret_data=pulumi.Output.secret(value),
        opts=stateful_options(protection, opts),
    )
    return secret
