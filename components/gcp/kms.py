"""A customer-managed encryption key in one location, usable by named service agents.

Why one key ring and key per consumer and location (not one shared key):

* CMEK keys must live in the same location as the data they protect (a Cloud SQL
  instance in us-east1 needs a key in us-east1), so a two-region platform needs a
  key per region anyway.
* A key per service keeps grants narrow: the Cloud SQL agent can use the database
  key and nothing else, and disabling one key takes one service down, not all.
* Key rings and keys cannot be deleted in Cloud KMS (only key *versions* are
  destroyed, after a scheduled delay), so names are stable and the resources are
  protected and retained in prod like the data they guard.

The key rotates automatically (`rotation_period`); older versions stay enabled so
existing data remains readable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from components.base import Protection, Tier, child_options, standard_labels, stateful_options

TYPE_TOKEN = "hastack:gcp:RegionalKey"
ENCRYPTER_ROLE = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
# 90 days: the rotation period most compliance baselines (CIS GCP 1.10) ask for.
DEFAULT_ROTATION_SECONDS = 90 * 24 * 3600
_KMS_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,63}$")


@dataclass(frozen=True)
class RegionalKeyArgs:
    name: str
    # A region ("us-east1") or a KMS multi-region ("us") for multi-location data.
    location: str
    # What the key protects ("gke", "cloudsql", ...); part of the names.
    purpose: str
    tier: Tier
    project: str
    # IAM members (service agents) allowed to encrypt/decrypt with the key.
    encrypters: Sequence[pulumi.Input[str]] = ()
    rotation_seconds: int = DEFAULT_ROTATION_SECONDS
    labels: Mapping[str, str] = field(default_factory=dict)
    protection: Protection | None = None

    def validate(self) -> None:
        ring = f"{self.name}-{self.location}-{self.purpose}"
        if not _KMS_NAME.match(ring):
            raise ValueError(f"RegionalKey: key ring name '{ring}' must match "
                             f"[a-zA-Z0-9_-]{{1,63}}")
        if not 86400 <= self.rotation_seconds <= 100 * 365 * 86400:
            raise ValueError("RegionalKey: rotation_seconds must be at least one day")


class RegionalKey(pulumi.ComponentResource):
    """Key ring + rotating symmetric key + encrypter grants for service agents."""

    key_id: pulumi.Output[str]
    grants: list[gcp.kms.CryptoKeyIAMMember]

    def __init__(self, resource_name: str, args: RegionalKeyArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        args.validate()
        super().__init__(TYPE_TOKEN, resource_name, None, opts)
        protection = args.protection or Protection.for_tier(args.tier)
        base = f"{args.name}-{args.location}-{args.purpose}"
        ring = gcp.kms.KeyRing(
            f"{resource_name}-ring",
            name=base,
            location=args.location,
            project=args.project,
            opts=stateful_options(protection, child_options(self)),
        )
        key = gcp.kms.CryptoKey(
            f"{resource_name}-key",
            name=f"{args.purpose}-cmek",
            key_ring=ring.id,
            purpose="ENCRYPT_DECRYPT",
            rotation_period=f"{args.rotation_seconds}s",
            labels=standard_labels(args.tier, "RegionalKey", args.labels),
            opts=stateful_options(protection, child_options(self)),
        )
        self.key_id = key.id
        self.grants = [
            gcp.kms.CryptoKeyIAMMember(
                f"{resource_name}-encrypter-{index}",
                crypto_key_id=key.id,
                role=ENCRYPTER_ROLE,
                member=member,
                opts=child_options(self),
            )
            for index, member in enumerate(args.encrypters)
        ]
        self.register_outputs({"keyId": self.key_id})
