"""Alarm guardrails: prod data stores are watched, every alarm tells someone, RPO alarms fit.

* `alarm-has-action`: a CloudWatch alarm without an enabled action changes colour
  in a console nobody watches.
* `data-stores-alarmed`: in prod every Aurora cluster has an `AuroraReplicaLag`
  alarm and every ElastiCache replication group `ReplicationLag` alarms, each with
  an action (so a lagging replica is known before a failover loses data).
* `rpo-alarm-within-target`: the `AuroraGlobalDBRPOLag` alarm's threshold is at or
  below the region RPO target (an alarm above the target fires only after the
  promise is already broken), and a global database has one.
"""

from __future__ import annotations

from typing import Any

from hastack_policies.catalogue import (
    HIGH,
    PROD_ONLY,
    Report,
    StackSubject,
    Subject,
    own,
    resource_rule,
    setting,
    stack_rule,
)
from hastack_policies.recovery_document import recovery_value
from hastack_policies.tokens import (
    ALERT_POLICY,
    CLOUD_SQL_INSTANCE,
    ELASTICACHE_REPLICATION_GROUP,
    MEMORYSTORE_INSTANCE,
    METRIC_ALARM,
    RDS_CLUSTER,
    RDS_GLOBAL_CLUSTER,
)
from hastack_policies.values import _unwrap, is_unknown, peek, value


def _has_action(props: Any) -> bool:
    if value(props, "conditions") is not None:  # a Cloud Monitoring alert policy
        return bool(value(props, "notificationChannels")) and value(
            props, "enabled") is not False
    actions = value(props, "alarmActions")
    enabled = value(props, "actionsEnabled")
    return bool(actions) and enabled is not False


@resource_rule(
    name="alarm-has-action",
    description="Every CloudWatch alarm and Cloud Monitoring alert policy notifies someone.",
    severity=HIGH, levels=PROD_ONLY, anchors=(own("HA-OBS-1"),),
    types=(METRIC_ALARM, ALERT_POLICY),
    remediation="Give the alarm alarmActions (the region's alert topic) with actionsEnabled "
                "true, or the alert policy notificationChannels (alerts.emails / "
                "alerts.httpsEndpoints).",
)
def alarm_has_action(subject: Subject, report: Report) -> None:
    if not _has_action(subject.props):
        report(f"{subject.name} has no enabled action: nobody is told when it fires.")


def _policy_filters(stack: StackSubject) -> list[str]:
    """The condition filters of the alert policies that notify someone."""
    filters = []
    for policy in (r for r in stack.resources if r.resource_type == ALERT_POLICY):
        if not _has_action(policy.props):
            continue
        conditions = _unwrap(peek(policy.props, "conditions"))
        for i in range(len(conditions) if isinstance(conditions, list) else 0):
            # Unknown until apply (an uptime check's id): not a data store's filter.
            found = peek(policy.props, "conditions", i, "conditionThreshold", "filter")
            if isinstance(found, str) and not is_unknown(found):
                filters.append(found)
    return filters


def _alarms(stack: StackSubject, metric: str) -> list[Any]:
    return [r for r in stack.resources if r.resource_type == METRIC_ALARM
            and value(r.props, "metricName") == metric]


@stack_rule(
    name="data-stores-alarmed",
    description="In prod every database and cache has a lag alarm with an action.",
    severity=HIGH, levels=PROD_ONLY, anchors=(own("HA-OBS-2"),),
    remediation="Build the platform's Alarms component (components/aws/alarms.py) for "
                "every region's database and cache.",
)
def data_stores_alarmed(stack: StackSubject, report: Report) -> None:
    replica_lag = [a for a in _alarms(stack, "AuroraReplicaLag") if _has_action(a.props)]
    for cluster in (r for r in stack.resources if r.resource_type == RDS_CLUSTER):
        # The components set identifiers literally, so this is decidable at first preview.
        ident = value(cluster.props, "clusterIdentifier")
        if not any(value(a.props, "dimensions", default={}).get("DBClusterIdentifier") == ident
                   for a in replica_lag):
            report(f"{cluster.name}: no AuroraReplicaLag alarm with an action.", cluster.urn)
    cache_lag = [a for a in _alarms(stack, "ReplicationLag") if _has_action(a.props)]
    for group in (r for r in stack.resources if r.resource_type == ELASTICACHE_REPLICATION_GROUP):
        group_id = str(value(group.props, "replicationGroupId") or group.name)
        if not any(str(value(a.props, "dimensions", default={}).get("CacheClusterId", ""))
                   .startswith(f"{group_id}-") for a in cache_lag):
            report(f"{group.name}: no ReplicationLag alarm with an action.", group.urn)
    filters = _policy_filters(stack)
    for kind, metric in ((CLOUD_SQL_INSTANCE, "cloudsql.googleapis.com/database/"),
                         (MEMORYSTORE_INSTANCE, "redis.googleapis.com/replication/")):
        for instance in (r for r in stack.resources if r.resource_type == kind):
            name = str(value(instance.props, "name") or instance.name)
            if not any(metric in f and name in f for f in filters):
                report(f"{instance.name}: no lag/health alert policy with a notification "
                       "channel.", instance.urn)


@stack_rule(
    name="rpo-alarm-within-target",
    description="A global database's RPO-lag alarm fires at or below the region RPO target.",
    severity=HIGH, levels=PROD_ONLY, anchors=(own("HA-OBS-3"),),
    remediation="Derive the AuroraGlobalDBRPOLag threshold from recovery.regionFailure."
                "rpoSeconds (components/observability/thresholds.py), fraction <= 1.",
    settings={"rpoTargetSeconds": setting(
        "integer", 60, "The region-failure RPO target when the stack states none "
        "(its platform's hastackRecovery.targets.regionFailure.rpoSeconds wins)",
        staging=300, prod=60)},
)
def rpo_alarm_within_target(stack: StackSubject, report: Report) -> None:
    if not any(r.resource_type == RDS_GLOBAL_CLUSTER for r in stack.resources):
        return
    target_ms = _rpo_target_seconds(stack) * 1000
    alarms = _alarms(stack, "AuroraGlobalDBRPOLag")
    if not alarms:
        report("The global database has no AuroraGlobalDBRPOLag alarm: replication falling "
               "behind the RPO goes unnoticed.")
    for alarm in alarms:
        threshold = value(alarm.props, "threshold")
        if threshold is None or is_unknown(threshold):
            continue
        if float(threshold) > target_ms:
            report(f"{alarm.name}: threshold {threshold} ms is above the RPO target "
                   f"{target_ms} ms.", alarm.urn)


def _rpo_target_seconds(stack: StackSubject) -> int:
    """The stack's own region RPO target (what the alarm derives from), else the setting."""
    rpo = recovery_value(stack.resources, "targets", "regionFailure", "rpoSeconds")
    if isinstance(rpo, (int, float)) and not isinstance(rpo, bool):
        return int(rpo)
    return int(stack.config["rpoTargetSeconds"])
