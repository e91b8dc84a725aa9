"""Cloud Monitoring alert policies: they fire when a cluster, or a whole region, is gone.

What is watched (metric types from the Cloud SQL, Memorystore and Cloud
Monitoring metric lists; see components/observability/metrics.py):

* Cloud SQL: the cross-region replica's `database/replication/replica_lag` above
  the region RPO share (thresholds.py), the primary's `database/up` (an instance
  that stops reporting "up" is down), and failover/promotion events from the
  Admin activity audit log (a log-match condition).
* Memorystore: `replication/master/slaves/lag` (seconds) above the zone RPO share.
* The public endpoint: an HTTPS uptime check from several checker regions, and a
  policy that fires when it fails from more than one of them.

Every policy notifies the channels made from `alerts.emails` (type `email`) and
`alerts.httpsEndpoints` (type `webhook_tokenauth`, the URL carries its token).
Cloud Monitoring is global to the project, so the policies keep working when a
region is lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from components.base import Tier
from components.observability.thresholds import PERIOD_SECONDS, Thresholds

M = gcp.monitoring


@dataclass(frozen=True)
class GcpAlertingArgs:
    tier: Tier
    project: str
    thresholds: Thresholds
    emails: Sequence[str] = ()
    https_endpoints: Sequence[str] = ()
    # Cloud SQL instance names: the primary, and the cross-region replica if any.
    database_primary: pulumi.Input[str] | None = None
    database_replica: pulumi.Input[str] | None = None
    # Memorystore instance names per region.
    caches: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # The public name (`<hostname>.<domain>`) and its health path, for the uptime check.
    public_host: str | None = None
    health_check_path: str = "/api/health"
    labels: Mapping[str, str] = field(default_factory=dict)


def _seconds(value: float) -> str:
    return f"{max(int(value), 0)}s"


class GcpAlerting(pulumi.ComponentResource):
    """Notification channels, an uptime check and the alert policies of one stack."""

    channel_ids: list[pulumi.Output[str]]
    policies: list[gcp.monitoring.AlertPolicy]

    def __init__(self, name: str, args: GcpAlertingArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("hastack:gcp:Alerting", name, None, opts)
        self._name, self._args = name, args
        self._child = pulumi.ResourceOptions(parent=self)
        self.channel_ids = self._channels()
        self.policies = []
        t = args.thresholds
        outage = _seconds(t.outage_periods * PERIOD_SECONDS)
        if args.database_replica is not None and t.cross_region_lag_seconds is not None:
            self._threshold(
                "sql-replica-lag", "Cloud SQL replica behind the region RPO target",
                pulumi.Output.concat(
                    'resource.type = "cloudsql_database" AND metric.type = '
                    '"cloudsql.googleapis.com/database/replication/replica_lag" AND '
                    f'resource.labels.database_id = "{args.project}:',
                    args.database_replica, '"'),
                t.cross_region_lag_seconds, "ALIGN_MAX", "180s")
        if args.database_primary is not None:
            self._threshold(
                "sql-primary-down", "Cloud SQL primary is not up",
                pulumi.Output.concat(
                    'resource.type = "cloudsql_database" AND metric.type = '
                    '"cloudsql.googleapis.com/database/up" AND '
                    f'resource.labels.database_id = "{args.project}:',
                    args.database_primary, '"'),
                1, "ALIGN_MIN", outage, comparison="COMPARISON_LT")
            self._failover_events()
        for region, instance in sorted(args.caches.items()):
            self._threshold(
                f"redis-{region}-replication-lag", f"Memorystore replica lag in {region}",
                pulumi.Output.concat(
                    'resource.type = "redis_instance" AND metric.type = '
                    '"redis.googleapis.com/replication/master/slaves/lag" AND '
                    'resource.labels.instance_id = "projects/', args.project, "/locations/",
                    region, "/instances/", instance, '"'),
                t.cache_lag_seconds, "ALIGN_MAX", "180s")
        if args.public_host is not None:
            self._uptime(outage)
        self.register_outputs({"notificationChannels": self.channel_ids})

    def _channels(self) -> list[pulumi.Output[str]]:
        args = self._args
        ids = []
        for i, email in enumerate(args.emails):
            ids.append(M.NotificationChannel(
                f"{self._name}-email-{i}", type="email", display_name=f"hastack {email}",
                labels={"email_address": email}, user_labels=dict(args.labels),
                project=args.project, opts=self._child).name)
        for i, url in enumerate(args.https_endpoints):
            ids.append(M.NotificationChannel(
                f"{self._name}-webhook-{i}", type="webhook_tokenauth",
                # Webhook URLs often carry their token: kept secret in state.
                display_name=f"hastack webhook {i}", labels={"url": pulumi.Output.secret(url)},
                user_labels=dict(args.labels), project=args.project, opts=self._child).name)
        return ids

    def _policy(self, key: str, title: str, condition: M.AlertPolicyConditionArgs,
                strategy: M.AlertPolicyAlertStrategyArgs | None = None) -> None:
        self.policies.append(M.AlertPolicy(
            f"{self._name}-{key}", display_name=f"{self._name}: {title}", combiner="OR",
            conditions=[condition], notification_channels=self.channel_ids,
            alert_strategy=strategy, severity="CRITICAL", enabled=True,
            user_labels=dict(self._args.labels), project=self._args.project,
            documentation=M.AlertPolicyDocumentationArgs(
                content=f"{title}. See the README section 'What is watched'.",
                mime_type="text/markdown"),
            opts=self._child))

    def _threshold(self, key: str, title: str, filter_: pulumi.Input[str], threshold: float,
                   aligner: str, duration: str, comparison: str = "COMPARISON_GT") -> None:
        self._policy(key, title, M.AlertPolicyConditionArgs(
            display_name=title,
            condition_threshold=M.AlertPolicyConditionConditionThresholdArgs(
                filter=filter_, comparison=comparison, threshold_value=threshold,
                duration=duration,
                aggregations=[M.AlertPolicyConditionConditionThresholdAggregationArgs(
                    alignment_period=f"{PERIOD_SECONDS}s", per_series_aligner=aligner)])))

    def _failover_events(self) -> None:
        title = "Cloud SQL failover or replica promotion"
        self._policy("sql-failover", title, M.AlertPolicyConditionArgs(
            display_name=title,
            condition_matched_log=M.AlertPolicyConditionConditionMatchedLogArgs(
                filter=('resource.type="cloudsql_database" AND '
                        'protoPayload.methodName=("cloudsql.instances.failover" OR '
                        '"cloudsql.instances.promoteReplica")'))),
            # Log-match conditions require a notification rate limit.
            M.AlertPolicyAlertStrategyArgs(
                notification_rate_limit=M.AlertPolicyAlertStrategyNotificationRateLimitArgs(
                    period="300s"),
                auto_close="1800s"))

    def _uptime(self, outage: str) -> None:
        args = self._args
        check = M.UptimeCheckConfig(
            f"{self._name}-endpoint", display_name=f"{self._name} public endpoint",
            timeout="10s", period="60s", project=args.project,
            http_check=M.UptimeCheckConfigHttpCheckArgs(
                path=args.health_check_path, port=443, use_ssl=True, validate_ssl=True),
            monitored_resource=M.UptimeCheckConfigMonitoredResourceArgs(
                type="uptime_url", labels={"project_id": args.project,
                                           "host": args.public_host or ""}),
            opts=self._child)
        title = "Public endpoint fails its uptime check"
        self._policy("endpoint-down", title, M.AlertPolicyConditionArgs(
            display_name=title,
            condition_threshold=M.AlertPolicyConditionConditionThresholdArgs(
                filter=pulumi.Output.concat(
                    'resource.type = "uptime_url" AND metric.type = '
                    '"monitoring.googleapis.com/uptime_check/check_passed" AND '
                    'metric.labels.check_id = "', check.uptime_check_id, '"'),
                # More than one checker region failing: not one checker's bad minute.
                comparison="COMPARISON_GT", threshold_value=1, duration=outage,
                aggregations=[M.AlertPolicyConditionConditionThresholdAggregationArgs(
                    alignment_period="60s", per_series_aligner="ALIGN_NEXT_OLDER",
                    cross_series_reducer="REDUCE_COUNT_FALSE",
                    group_by_fields=["resource.label.host"])])))
