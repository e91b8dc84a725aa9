"""The "HA at a glance" Grafana dashboard, built with grafana-foundation-sdk (typed builders).

Why the SDK and not hand-written JSON: panel, query and datasource shapes are
typed (a misspelt option is a Python error), and the SDK's encoder produces the
dashboard JSON Grafana imports. It is provisioned as a ConfigMap carrying the
label the kube-prometheus-stack Grafana sidecar watches (`grafana_dashboard: "1"`,
`grafana.sidecar.dashboards.{label,labelValue}` of chart 88.5.3, all namespaces).

Panels: this cluster's role (active or standby), replication lag against the RPO
target, health-check status per region, orchestrator availability, workflow
failures and backlog. Cloud-side series come from the CloudWatch (AWS) or Cloud
Monitoring (GCP) datasource, in-cluster ones from Prometheus; every metric named
is in `components/observability/metrics.py` (test-checked).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from grafana_foundation_sdk.builders import (
    cloudwatch,
    common,
    dashboard,
    googlecloudmonitoring,
    prometheus,
    stat,
    timeseries,
)
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import GraphThresholdsStyleMode
from grafana_foundation_sdk.models.dashboard import DataSourceRef, Threshold, ThresholdsMode

UID = "hastack-ha-at-a-glance"
TITLE = "HA at a glance"
PROMETHEUS = DataSourceRef(type_val="prometheus", uid="prometheus")  # the chart's default uid
CLOUDWATCH = DataSourceRef(type_val="cloudwatch", uid="cloudwatch")
CLOUD_MONITORING = DataSourceRef(type_val="stackdriver", uid="cloud-monitoring")
# Route 53 publishes health-check metrics only in us-east-1.
ROUTE53_METRICS_REGION = "us-east-1"


@dataclass(frozen=True)
class DashboardArgs:
    cloud: Literal["aws", "gcp"]
    orchestrator: Literal["prefect", "argo"]
    region: str
    # The region-failure RPO target the lag is drawn against; None for one region.
    rpo_target_seconds: int | None
    gcp_project: str | None = None


def _prom(expr: str, legend: str, ref: str = "A") -> prometheus.Dataquery:
    return (prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(ref)
            .datasource(PROMETHEUS))


def _cloudwatch(namespace: str, metric: str, dimension: str, region: str, stat_: str,
                ref: str = "A") -> cloudwatch.CloudWatchMetricsQuery:
    # "*" with match_exact off: every cluster / health check of the account appears.
    return (cloudwatch.CloudWatchMetricsQuery().namespace(namespace).metric_name(metric)
            .dimensions({dimension: "*"}).match_exact(False).region(region)
            .statistic(stat_).period("60").ref_id(ref).datasource(CLOUDWATCH))


def _monitoring(project: str, metric_type: str, aligner: str, ref: str = "A"
                ) -> googlecloudmonitoring.CloudMonitoringQuery:
    series = (googlecloudmonitoring.TimeSeriesList().project_name(project)
              .filters(["metric.type", "=", metric_type]).per_series_aligner(aligner)
              .alignment_period("60s"))
    return (googlecloudmonitoring.CloudMonitoringQuery().query_type("timeSeriesList")
            .time_series_list(series).ref_id(ref).datasource(CLOUD_MONITORING))


def _role_panel() -> stat.Panel:
    return (stat.Panel().title("This cluster's role")
            .description("hastack:region_role:info, recorded by the platform's rules at deploy "
                         "time: 'primary' serves, 'standby' waits to take over.")
            .with_target(_prom("hastack:region_role:info", "{{region}}: {{role}}"))
            .height(4).span(6))


def _lag_panel(args: DashboardArgs) -> timeseries.Panel:
    panel = (timeseries.Panel().title("Replication lag vs RPO target").unit("s").height(8)
             .span(12))
    # AuroraGlobalDBRPOLag is in milliseconds, Cloud SQL's replica_lag in seconds.
    scale = 1000 if args.cloud == "aws" else 1
    if args.rpo_target_seconds is not None:
        # The RPO target drawn as a red dashed line: lag above it loses more than promised.
        panel = (panel.description(f"Cross-region lag; the red line is the RPO target "
                                   f"({args.rpo_target_seconds} s).")
                 .thresholds(dashboard.ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps([
                     Threshold(value=None, color="green"),
                     Threshold(value=float(args.rpo_target_seconds * scale), color="red")]))
                 .thresholds_style(common.GraphThresholdsStyleConfig()
                                   .mode(GraphThresholdsStyleMode.DASHED)))
    if args.cloud == "aws":
        return (panel.unit("ms").with_target(_cloudwatch(
            "AWS/RDS", "AuroraGlobalDBRPOLag", "DBClusterIdentifier", args.region, "Maximum")))
    return panel.with_target(_monitoring(
        args.gcp_project or "", "cloudsql.googleapis.com/database/replication/replica_lag",
        "ALIGN_MAX"))


def _health_panel(args: DashboardArgs) -> stat.Panel:
    panel = (stat.Panel().title("Health check per region")
             .description("1 = the endpoint answers its health check; 0 = failing (DNS fails "
                          "over after the checks' failure threshold).").height(8).span(6))
    if args.cloud == "aws":
        return panel.with_target(_cloudwatch(
            "AWS/Route53", "HealthCheckStatus", "HealthCheckId", ROUTE53_METRICS_REGION,
            "Minimum"))
    return panel.with_target(_monitoring(
        args.gcp_project or "", "monitoring.googleapis.com/uptime_check/check_passed",
        "ALIGN_FRACTION_TRUE"))


def _availability_panel(args: DashboardArgs) -> timeseries.Panel:
    namespace = "argo" if args.orchestrator == "argo" else "prefect"
    panel = (timeseries.Panel().title("Orchestrator availability").height(8).span(12)
             .with_target(_prom(
                 f'kube_deployment_status_replicas_available{{namespace="{namespace}"}}',
                 "{{deployment}} available")))
    if args.orchestrator == "argo":
        panel = panel.with_target(_prom("sum(argo_workflows_is_leader)", "controller leader",
                                        "B"))
    return panel


def _failures_panel(args: DashboardArgs) -> timeseries.Panel:
    panel = timeseries.Panel().title("Workflow failures").height(8).span(12)
    if args.orchestrator == "argo":
        return panel.with_target(_prom(
            'sum(increase(argo_workflows_total_count{phase=~"Failed|Error"}[1h]))',
            "failed per hour"))
    return panel.with_target(_prom(
        'sum by (state_name) (prefect_info_flow_runs{state_name=~"Failed|Crashed"})',
        "{{state_name}}"))


def _backlog_panel(args: DashboardArgs) -> timeseries.Panel:
    panel = timeseries.Panel().title("Backlog").height(8).span(12)
    if args.orchestrator == "argo":
        return (panel.with_target(_prom('sum(argo_workflows_gauge{phase="Pending"})', "pending"))
                .with_target(_prom('argo_workflows_queue_depth_gauge{queue_name="workflow_queue"}',
                                   "controller queue", "B")))
    return (panel.with_target(_prom("sum(prefect_work_queues_late_runs_count)", "late runs"))
            .with_target(_prom(
                'sum(prefect_info_flow_runs{state_name=~"Scheduled|Pending|Late"})',
                "waiting runs", "B")))


def build(args: DashboardArgs) -> dict[str, Any]:
    """The dashboard model as Grafana imports it (a JSON-ready dict)."""
    board = (dashboard.Dashboard(TITLE).uid(UID).tags(["hastack", "ha"]).refresh("1m")
             .time("now-6h", "now").timezone("utc")
             .with_panel(_role_panel()).with_panel(_health_panel(args))
             .with_panel(_lag_panel(args)).with_panel(_availability_panel(args))
             .with_panel(_failures_panel(args)).with_panel(_backlog_panel(args)))
    parsed: dict[str, Any] = json.loads(json.dumps(board.build(), cls=JSONEncoder,
                                                   sort_keys=True))
    return parsed


def to_json(args: DashboardArgs) -> str:
    return json.dumps(build(args), sort_keys=True, indent=1)
