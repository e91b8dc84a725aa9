"""Alarm thresholds derived from the recovery targets: change a target, the alarm follows.

Nothing here is a free-standing number. A replication-lag alarm fires at
`rpo_alarm_fraction` of the RPO it protects; an outage (a failed health check,
an unavailable orchestrator) must be noticed within `detection_fraction` of the
RTO, which fixes how many one-minute periods an alarm may wait. The fractions
are per-tier knobs in `hastack/config/tiers.py` (`alerts.*`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# CloudWatch standard-resolution period, and the one the RDS/Route 53 metrics publish at.
PERIOD_SECONDS = 60
# S3 Replication Time Control replicates 99.99 % of objects within 15 minutes; that
# is what S3 promises, so an artifact "RPO" below it cannot be alarmed on honestly.
S3_RTC_SECONDS = 15 * 60


@dataclass(frozen=True)
class Target:
    rto_seconds: int
    rpo_seconds: int


@dataclass(frozen=True)
class Tuning:
    rpo_alarm_fraction: float = 0.8
    detection_fraction: float = 0.5
    load_balancer_errors_per_minute: int = 50
    pod_restarts_per_hour: int = 6
    workflow_failure_ratio: float = 0.5
    pdb_blocked_minutes: int = 120


@dataclass(frozen=True)
class Thresholds:
    """What every alarm compares against, in the unit of its metric."""

    # AWS/RDS AuroraGlobalDBRPOLag (ms); None for a single-region stack.
    global_rpo_lag_ms: float | None
    # AWS/RDS AuroraReplicaLag (ms) and AWS/ElastiCache ReplicationLag (s), in-region.
    replica_lag_ms: float
    cache_lag_seconds: float
    # Cloud SQL replica_lag (s) across regions; None for a single region.
    cross_region_lag_seconds: float | None
    # One-minute periods an outage alarm waits before firing (>= 1).
    outage_periods: int
    # Seconds an in-cluster availability alert waits (its `for:`).
    outage_for_seconds: int
    s3_replication_latency_seconds: float
    tuning: Tuning

    @classmethod
    def from_targets(cls, zone: Target, region: Target | None, tuning: Tuning) -> Thresholds:
        fraction = tuning.rpo_alarm_fraction
        detect_in = min(zone.rto_seconds, region.rto_seconds if region else zone.rto_seconds)
        # Region-level outages are judged against the region RTO (the failover that
        # follows must fit in it); without a second region, against the zone RTO.
        outage_budget = (region.rto_seconds if region else zone.rto_seconds)
        periods = max(1, math.floor(outage_budget * tuning.detection_fraction / PERIOD_SECONDS))
        return cls(
            global_rpo_lag_ms=(region.rpo_seconds * 1000 * fraction) if region else None,
            # A zone failure promotes an in-region replica: its lag is what a zone
            # failover loses (Aurora storage is shared, the cache's is not).
            replica_lag_ms=max(zone.rpo_seconds * 1000 * fraction, 100.0),
            cache_lag_seconds=max(zone.rpo_seconds * fraction, 0.1),
            cross_region_lag_seconds=(region.rpo_seconds * fraction) if region else None,
            outage_periods=min(periods, 10),
            outage_for_seconds=max(60, math.floor(detect_in * tuning.detection_fraction)),
            s3_replication_latency_seconds=float(S3_RTC_SECONDS),
            tuning=tuning,
        )
