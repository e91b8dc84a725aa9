"""Conventions every hastack component shares.

* Each component is a `pulumi.ComponentResource` with a `hastack:<cloud>:<Name>`
  type token, typed `*Args` dataclass, tier-aware defaults and `register_outputs`.
* Stateful resources (databases, caches, buckets, keys, secrets) take their
  resource options from `stateful_options`, so "prod protects its data" is decided
  in one place: `protect` + `retain_on_delete` in prod, never in dev.
* Names are `<platform name>-<region>-<role>`; tags/labels always include the
  stack's tier and the component that owns the resource.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi

Tier = Literal["dev", "staging", "prod"]


@dataclass(frozen=True)
class Protection:
    """How hard a component guards its stateful resources."""

    # Pulumi `protect`: `pulumi destroy` and replacements refuse to delete.
    protect: bool
    # Pulumi `retainOnDelete`: removing the resource from the program leaves it in the cloud.
    retain_on_delete: bool
    # The service's own deletion protection (RDS, Cloud SQL, GKE, ...).
    deletion_protection: bool

    @staticmethod
    def requested(protect_stateful_resources: bool, deletion_protection: bool) -> Protection:
        """What a stack file asks for (`protectStatefulResources`, `deletionProtection`):
        honoured on every tier and cloud; the config refuses prod without both."""
        return Protection(protect=protect_stateful_resources,
                          retain_on_delete=protect_stateful_resources,
                          deletion_protection=deletion_protection)

    @staticmethod
    def for_tier(tier: Tier, deletion_protection: bool | None = None) -> Protection:
        strict = tier == "prod"
        return Protection(
            protect=strict,
            retain_on_delete=strict,
            deletion_protection=strict if deletion_protection is None else deletion_protection,
        )


@dataclass(frozen=True)
class ApiAccess:
    """Who may reach a cluster's Kubernetes API.

    `ApiAccess()` is private: EKS only from inside the VPC, GKE only through its
    IAM-authenticated DNS endpoint. `ApiAccess.only_from(...)` adds the public
    endpoint for exactly these CIDRs; the whole internet is never one of them.
    """

    allowlist: tuple[str, ...] = ()

    @classmethod
    def only_from(cls, *cidrs: str) -> ApiAccess:
        import ipaddress

        if not cidrs:
            raise ValueError("an allowlist names at least one operator/runner CIDR")
        for cidr in cidrs:
            if ipaddress.ip_network(cidr, strict=True).prefixlen == 0:
                raise ValueError(f"an allowlist names operator CIDRs, never {cidr}")
        return cls(tuple(cidrs))

    @property
    def private(self) -> bool:
        return not self.allowlist


def stateful_options(
    protection: Protection,
    opts: pulumi.ResourceOptions | None = None,
    *,
    ignore_changes: Sequence[str] | None = None,
    depends_on: Sequence[pulumi.Resource] | None = None,
) -> pulumi.ResourceOptions:
    """Resource options for a stateful resource under `protection`."""
    extra = pulumi.ResourceOptions(
        protect=protection.protect,
        retain_on_delete=protection.retain_on_delete,
        ignore_changes=list(ignore_changes) if ignore_changes else None,
        depends_on=list(depends_on) if depends_on else None,
    )
    return pulumi.ResourceOptions.merge(opts, extra)


def child_options(parent: pulumi.Resource, provider: pulumi.ProviderResource | None = None,
                  **kwargs: object) -> pulumi.ResourceOptions:
    """Options for a component's child: parented, and pinned to the region's provider."""
    return pulumi.ResourceOptions(parent=parent, provider=provider, **kwargs)  # type: ignore[arg-type]


def rotation_keepers(label: str | None) -> dict[str, str] | None:
    """`keepers` of a generated credential: a new label replaces it (a rotation).

    None keeps the credential of the first deployment (no keepers: adding them later
    is itself the first rotation).
    """
    return {"rotation": label} if label else None


def standard_tags(tier: Tier, component: str, extra: Mapping[str, str] | None = None
                  ) -> dict[str, str]:
    """Tags on every AWS resource (GCP labels use `standard_labels`)."""
    return {"hastack:tier": tier, "hastack:component": component, **(extra or {})}


def standard_labels(tier: Tier, component: str, extra: Mapping[str, str] | None = None
                    ) -> dict[str, str]:
    """GCP labels: lower-case keys and values, no colons."""
    labels = {"hastack-tier": tier, "hastack-component": component.lower()}
    labels.update({k.lower().replace(":", "-"): v.lower() for k, v in (extra or {}).items()})
    return labels
