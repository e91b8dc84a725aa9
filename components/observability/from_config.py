"""The composition's one mapping from a stack's config to thresholds and monitoring profiles.

Thresholds follow `recovery` (the targets) and `alerts` (the per-tier knobs in
hastack/config/tiers.py); tests change a target and watch the alarm move.
"""

from __future__ import annotations

import pulumi

from components.addons.monitoring import MonitoringProfile
from components.observability.rules import Role
from components.observability.thresholds import Target, Thresholds, Tuning
from hastack.config.model import StackConfig


def tuning(config: StackConfig) -> Tuning:
    a = config.alerts
    return Tuning(rpo_alarm_fraction=a.rpo_alarm_fraction,
                  detection_fraction=a.detection_fraction,
                  load_balancer_errors_per_minute=a.load_balancer_errors_per_minute,
                  pod_restarts_per_hour=a.pod_restarts_per_hour,
                  workflow_failure_ratio=a.workflow_failure_ratio,
                  pdb_blocked_minutes=a.pdb_blocked_minutes)


def thresholds(config: StackConfig) -> Thresholds:
    zone = config.recovery.zone_failure
    region = config.recovery.region_failure
    return Thresholds.from_targets(
        Target(zone.rto_seconds, zone.rpo_seconds),
        Target(region.rto_seconds, region.rpo_seconds) if region else None,
        tuning(config))


def monitoring_profile(config: StackConfig, role: Role, *,
                       alert_topic_arn: pulumi.Input[str] | None = None,
                       alert_topic_key_arn: pulumi.Input[str] | None = None
                       ) -> MonitoringProfile:
    m = config.monitoring
    region = config.recovery.region_failure
    return MonitoringProfile(
        role=role, orchestrator=config.orchestrator,
        prometheus_replicas=m.prometheus_replicas, alertmanager_replicas=m.alertmanager_replicas,
        retention_days=m.retention_days, storage_gi=m.storage_gi, tuning=tuning(config),
        outage_for_seconds=thresholds(config).outage_for_seconds,
        rpo_target_seconds=region.rpo_seconds if region else None,
        webhook_urls=tuple(pulumi.Output.secret(url) for url in config.alerts.https_endpoints),
        alert_topic_arn=alert_topic_arn, alert_topic_key_arn=alert_topic_key_arn,
        gcp_project=config.gcp.project if config.gcp else None)
