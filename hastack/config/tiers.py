"""Tier defaults: the one place that says what dev, staging and prod mean.

Each tier is written in the same shape as the `hastack:` keys of a stack file, so
this module doubles as documentation: a stack file only lists what differs from
its tier. Values a stack file sets are deep-merged over these before validation.

The profiles are layered the way terraform-google-modules' safer-cluster layers a
hardened profile over a base: `BASE` holds what every tier gets (multi-AZ, TLS,
encryption, private endpoints), and each tier adds or tightens.

Cloud-specific sizes (instance types, machine types) live in `CLOUD_SIZES`,
because "small" means a different SKU on each cloud.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hastack.config.versions import DEFAULT_KUBERNETES, DEFAULT_POSTGRESQL

# What every tier gets. Dev is cheap, but it is still multi-AZ.
BASE: dict[str, Any] = {
    "orchestrator": "prefect",
    "zoneCount": 2,
    "network": {
        "primaryCidr": "10.10.0.0/16",
        "secondaryCidr": "10.20.0.0/16",
        "natGateways": "per-zone",
        "flowLogRetentionDays": 30,
    },
    "kubernetes": {
        "version": DEFAULT_KUBERNETES,
        "nodesMin": 2,
        "nodesMax": 4,
        # Private API endpoints everywhere; see `deploy` for how the workloads stacks
        # reach them.
        "apiAccess": "private",
        "apiAllowlist": [],
        "logRetentionDays": 30,
        "ignoreScalingChanges": False,
        "adminRoleArns": [],
        # GPU capacity: one switch. Instance/machine types are per cloud (CLOUD_SIZES).
        "gpu": {"enabled": False, "gpusPerNode": 1, "maxNodes": 2},
    },
    "database": {
        "enabled": True,
        "engineVersion": DEFAULT_POSTGRESQL,
        "instancesPerRegion": 2,
        "secondaryInstances": 1,
        "backupRetentionDays": 7,
        "databaseName": "workflows",
        "masterUsername": "hastack_admin",
    },
    "cache": {
        "enabled": True,
        "engine": "redis",
        "engineVersion": "7.1",
        "nodesPerRegion": 2,
        "snapshotRetentionDays": 1,
    },
    "artifacts": {
        "enabled": True,
        "noncurrentVersionDays": 30,
        "replicate": True,
    },
    "workflows": {
        "enabled": True,
        "serverReplicas": 2,
        "workerReplicas": 2,
        "workerMaxReplicas": 4,
        "controllerReplicas": 2,
        "workPool": "kubernetes-pool",
    },
    "dns": {
        "hostname": "workflows",
        "healthCheckPath": "/api/health",
    },
    # Recovery targets, checked against the modeled figures by `hastack assess` and the
    # `recovery-targets-met` policy (README, "Resilience assessment"). Durable state
    # loses nothing in a zone (Aurora/Cloud SQL HA, S3/GCS are multi-zone): RPO 0.
    "recovery": {
        "zoneFailure": {"rtoSeconds": 300, "rpoSeconds": 0},
    },
    # Private API endpoints need a deploy path: "external" (bring a runner that can
    # reach the API: a VPN, a runner in the VPC; on GKE any runner, through the
    # DNS-based endpoint) or, on AWS, "codebuild" (a CodeBuild-hosted GitHub Actions
    # runner in each region's VPC, built by the infrastructure stack).
    "deploy": {"runner": "external"},
    # Receivers and alarm sensitivity. Thresholds are not numbers here: they derive
    # from `recovery` (components/observability/thresholds.py), so changing a target
    # moves its alarm. These are the knobs that turn a target into a threshold.
    "alerts": {
        "emails": [],
        "httpsEndpoints": [],
        "rpoAlarmFraction": 0.8,
        "detectionFraction": 0.5,
        "loadBalancerErrorsPerMinute": 50,
        "podRestartsPerHour": 6,
        "workflowFailureRatio": 0.5,
        "pdbBlockedMinutes": 120,
    },
    # The in-cluster metrics stack. Dev: one replica, short retention (cheap).
    "monitoring": {
        "enabled": True,
        "prometheusReplicas": 1,
        "alertmanagerReplicas": 1,
        "retentionDays": 3,
        "storageGi": 10,
    },
    # FIS experiment templates per region (`hastack drill`): staging and prod rehearse.
    "drills": {"enabled": True},
    "protectStatefulResources": False,
    "deletionProtection": False,
    "tags": {},
}

# Per tier: only what differs from BASE.
TIER_OVERRIDES: dict[str, dict[str, Any]] = {
    "dev": {
        # One NAT gateway for the whole VPC: the only HA shortcut dev takes, and the
        # plan says so. Losing its AZ loses egress for the other AZ, not the data.
        "network": {"natGateways": "single"},
        "database": {"instancesPerRegion": 2, "secondaryInstances": 0},
        "artifacts": {"noncurrentVersionDays": 7, "replicate": False},
        # No drill templates (log group, key) unless the stack file asks for them.
        "drills": {"enabled": False},
    },
    "staging": {
        "zoneCount": 3,
        "network": {"flowLogRetentionDays": 90},
        "kubernetes": {"nodesMin": 2, "nodesMax": 6, "logRetentionDays": 90},
        "database": {"backupRetentionDays": 7, "secondaryInstances": 1},
        "cache": {"snapshotRetentionDays": 3},
        "recovery": {
            "zoneFailure": {"rtoSeconds": 120, "rpoSeconds": 0},
            # RPO: objects replicate within 15 min (S3 RTC, GCS turbo replication).
            "regionFailure": {"rtoSeconds": 900, "rpoSeconds": 900},
        },
        "alerts": {"loadBalancerErrorsPerMinute": 20, "workflowFailureRatio": 0.3,
                   "pdbBlockedMinutes": 60},
        "monitoring": {"prometheusReplicas": 2, "alertmanagerReplicas": 2,
                       "retentionDays": 7, "storageGi": 50},
        "deletionProtection": True,
    },
    "prod": {
        "zoneCount": 3,
        "network": {"flowLogRetentionDays": 365},
        "kubernetes": {"nodesMin": 3, "nodesMax": 12, "logRetentionDays": 365},
        "database": {
            "instancesPerRegion": 3,
            "secondaryInstances": 2,
            "backupRetentionDays": 14,
        },
        "cache": {"nodesPerRegion": 3, "snapshotRetentionDays": 7},
        "artifacts": {"noncurrentVersionDays": 90},
        "workflows": {"serverReplicas": 3, "workerReplicas": 3, "workerMaxReplicas": 10},
        "recovery": {
            # Modeled 70 s: Aurora's writer failover is "typically < 60 s", plus its 5 s
            # DNS TTL and client reconnect. Cloud SQL HA (~60 s trigger) models 80 s.
            "zoneFailure": {"rtoSeconds": 90, "rpoSeconds": 0},
            # Modeled ~485 s: a person starts the failover (300 s assumed) while
            # DNS waits for the warm standby; objects bound the RPO (15 min).
            "regionFailure": {"rtoSeconds": 600, "rpoSeconds": 900},
        },
        # Prod pages early: half the RPO, a quarter of the RTO to notice an outage.
        "alerts": {"rpoAlarmFraction": 0.5, "detectionFraction": 0.25,
                   "loadBalancerErrorsPerMinute": 10, "podRestartsPerHour": 3,
                   "workflowFailureRatio": 0.2,
                   "pdbBlockedMinutes": 30},
        "monitoring": {"prometheusReplicas": 2, "alertmanagerReplicas": 2,
                       "retentionDays": 15, "storageGi": 100},
        "protectStatefulResources": True,
        "deletionProtection": True,
    },
}

# Instance sizes per cloud and tier. Aurora global databases need memory-optimised
# (r-class) instances, so only single-region dev may use burstable t4g.
CLOUD_SIZES: dict[str, dict[str, dict[str, Any]]] = {
    "aws": {
        "dev": {
            "kubernetes": {"nodeInstanceType": "m6i.large",
                           "gpu": {"instanceType": "g6.xlarge"}},
            "database": {"instanceClass": "db.t4g.medium"},
            "cache": {"nodeType": "cache.t4g.small"},
        },
        "staging": {
            "kubernetes": {"nodeInstanceType": "m6i.xlarge",
                           "gpu": {"instanceType": "g6.xlarge"}},
            "database": {"instanceClass": "db.r6g.large"},
            "cache": {"nodeType": "cache.r7g.large"},
        },
        "prod": {
            "kubernetes": {"nodeInstanceType": "m6i.2xlarge",
                           "gpu": {"instanceType": "g6.xlarge"}},
            "database": {"instanceClass": "db.r6g.xlarge"},
            "cache": {"nodeType": "cache.r7g.large"},
        },
    },
    "gcp": {
        "dev": {
            "kubernetes": {"nodeInstanceType": "e2-standard-4",
                           "gpu": {"instanceType": "g2-standard-4",
                                   "acceleratorType": "nvidia-l4"}},
            "database": {"instanceClass": "db-custom-2-7680", "edition": "ENTERPRISE"},
            "cache": {"nodeType": "1"},
        },
        "staging": {
            "kubernetes": {"nodeInstanceType": "n2-standard-4",
                           "gpu": {"instanceType": "g2-standard-4",
                                   "acceleratorType": "nvidia-l4"}},
            "database": {"instanceClass": "db-custom-4-15360", "edition": "ENTERPRISE"},
            "cache": {"nodeType": "5"},
        },
        "prod": {
            "kubernetes": {"nodeInstanceType": "n2-standard-8",
                           "gpu": {"instanceType": "g2-standard-4",
                                   "acceleratorType": "nvidia-l4"}},
            # Enterprise Plus: Advanced DR (switchover both ways, replica failover that
            # re-attaches the old primary) and the 99.99 % SLA; 8 vCPUs as before.
            "database": {"instanceClass": "db-perf-optimized-N-8",
                         "edition": "ENTERPRISE_PLUS"},
            "cache": {"nodeType": "5"},
        },
    },
}

TIERS = ("dev", "staging", "prod")
CLOUDS = ("aws", "gcp")


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return `base` with `override` merged in; nested dicts merge, anything else replaces."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def tier_defaults(cloud: str, tier: str) -> dict[str, Any]:
    """The full default configuration of a tier on a cloud, in stack-file shape."""
    layered = deep_merge(BASE, TIER_OVERRIDES[tier])
    return deep_merge(layered, CLOUD_SIZES[cloud][tier])


# --- The tier profile: defaults plus floors, stated once -------------------------------
#
# A floor is the tier's promise: a stack file may raise the value, never go below it.
# The config rules (model.validate_semantics), the components' own checks (aurora.py,
# redis.py, eks.py, gke.py, k8s/sizing.py) and the policy pack's per-tier settings
# (policies/hastack_policies/*, hence policies/config/<tier>.json) all read these
# numbers, so a floor cannot be 2 in one file and 3 in another.


@dataclass(frozen=True)
class Floor:
    minimum: int
    # Why the floor exists, in the words of the error message ("prod needs >= 3: ...").
    reason: str
    # Only when the stack has regions.secondary (the secondary cluster's size).
    multi_region_only: bool = False


@dataclass(frozen=True)
class TierProfile:
    tier: str
    floors: Mapping[str, Floor]
    # Stateful resources protected (Pulumi protect + retainOnDelete) and the services'
    # deletion protection on: enforced, a stack file cannot turn them off.
    protection_enforced: bool
    # Pods spread over nodes with required (not preferred) anti-affinity.
    spread_required: bool

    def floor(self, key: str) -> int:
        return self.floors[key].minimum


_BASE_FLOORS: dict[str, Floor] = {
    "zoneCount": Floor(2, "every tier spans at least two zones"),
    "kubernetes.nodesMin": Floor(2, "at least 2 nodes so that the cluster spans zones"),
    "database.instancesPerRegion": Floor(
        2, "a writer and a reader in another zone to fail over to"),
    "database.secondaryInstances": Floor(
        1, "the secondary region needs an instance to take over", multi_region_only=True),
    "database.backupRetentionDays": Floor(7, "a week of point-in-time recovery"),
    "cache.nodesPerRegion": Floor(2, "a primary plus a replica in another zone for failover"),
    "cache.snapshotRetentionDays": Floor(1, "at least one daily snapshot"),
    "workflows.serverReplicas": Floor(2, "two API replicas survive a node or zone loss"),
    "workflows.workerReplicas": Floor(2, "two workers survive a node or zone loss"),
    "workflows.controllerReplicas": Floor(2, "two controllers elect a leader"),
    "monitoring.prometheusReplicas": Floor(1, "a cluster without Prometheus alerts nobody"),
    "monitoring.alertmanagerReplicas": Floor(1, "a Prometheus without Alertmanager pages "
                                                "nobody"),
}

PROFILES: dict[str, TierProfile] = {
    "dev": TierProfile("dev", _BASE_FLOORS, protection_enforced=False, spread_required=False),
    "staging": TierProfile("staging", {
        **_BASE_FLOORS,
        "cache.snapshotRetentionDays": Floor(3, "staging keeps three days of snapshots"),
    }, protection_enforced=False, spread_required=True),
    "prod": TierProfile("prod", {
        **_BASE_FLOORS,
        "zoneCount": Floor(3, "prod spreads over at least 3 zones"),
        "database.secondaryInstances": Floor(
            2, "the secondary region takes over with a writer and a reader",
            multi_region_only=True),
        "database.backupRetentionDays": Floor(14, "two weeks of point-in-time recovery"),
        "cache.nodesPerRegion": Floor(
            3, "a primary plus two replicas, so a failover still leaves a replica"),
        "cache.snapshotRetentionDays": Floor(7, "a week of snapshots"),
        "workflows.serverReplicas": Floor(
            3, "a rolling update during a zone outage still leaves two serving"),
        "monitoring.prometheusReplicas": Floor(
            2, "two Prometheus replicas so a node loss keeps alerting"),
        "monitoring.alertmanagerReplicas": Floor(
            2, "two Alertmanager replicas gossip and deduplicate"),
    }, protection_enforced=True, spread_required=True),
}


def profile(tier: str) -> TierProfile:
    """The profile of `tier` (dev, staging or prod)."""
    return PROFILES[tier]


def floor(tier: str, key: str) -> int:
    """The tier's minimum for a stack key such as "cache.nodesPerRegion"."""
    return PROFILES[tier].floor(key)
