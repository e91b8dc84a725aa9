"""Every metric name an alert rule or a dashboard panel may use, with where it comes from.

One list, so that a rule or a panel naming a metric no installed exporter emits
fails a test instead of silently showing "No data" (or, worse, never firing).
Sources were read at the pinned versions:

* Argo Workflows v4.0.6 `docs/metrics.md`; the controller exports through the
  OpenTelemetry Prometheus exporter with namespace `argo_workflows`, without
  counter suffixes or units (`util/telemetry/exporter_prometheus.go`), so the
  documented `total_count` is scraped as `argo_workflows_total_count`.
* prometheus-prefect-exporter `metrics/metrics.py` (PrefectHQ, main of 2026-07,
  the code the 4.0.0 image of chart 2026.8.7141024 is built from).
* kube-state-metrics `docs/metrics/**` (the kube-prometheus-stack 88.5.3
  dependency `kube-state-metrics` 8.4.0).
* Prometheus itself: `up` is written for every scrape target.
* hastack's own recording rules (components/observability/rules.py).
* CloudWatch (AWS/RDS, AWS/Route53, AWS/ElastiCache, AWS/S3, AWS/ApplicationELB)
  and Cloud Monitoring metric types, for the cloud-side alarms and panels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["prometheus", "cloudwatch", "cloud-monitoring"]


@dataclass(frozen=True)
class Metric:
    name: str
    kind: Kind
    source: str
    labels: tuple[str, ...] = ()


ARGO = "argo-workflows v4.0.6 docs/metrics.md"
PREFECT = "prometheus-prefect-exporter metrics/metrics.py"
KSM = "kube-state-metrics docs/metrics"
HASTACK = "hastack recording rule (components/observability/rules.py)"

PROMETHEUS_METRICS: tuple[Metric, ...] = (
    Metric("up", "prometheus", "Prometheus: one sample per scrape target", ("job",)),
    # Argo Workflows controller
    Metric("argo_workflows_total_count", "prometheus", ARGO, ("phase", "namespace")),
    Metric("argo_workflows_gauge", "prometheus", ARGO, ("phase",)),
    Metric("argo_workflows_is_leader", "prometheus", ARGO),
    Metric("argo_workflows_queue_depth_gauge", "prometheus", ARGO, ("queue_name",)),
    Metric("argo_workflows_error_count", "prometheus", ARGO, ("cause",)),
    # Prefect, through prometheus-prefect-exporter
    Metric("prefect_info_flow_runs", "prometheus", PREFECT,
           ("deployment_name", "flow_name", "state_name", "work_queue_name")),
    Metric("prefect_deployment_failed_flow_runs", "prometheus", PREFECT,
           ("deployment_name", "flow_name", "last_failed_run_id", "state_name")),
    Metric("prefect_work_queues_late_runs_count", "prometheus", PREFECT,
           ("work_queue_name", "work_pool_name")),
    Metric("prefect_flow_runs_total", "prometheus", PREFECT),
    Metric("prefect_info_work_pools", "prometheus", PREFECT, ("work_pool_name", "status")),
    # kube-state-metrics
    Metric("kube_pod_container_status_restarts_total", "prometheus", KSM,
           ("namespace", "pod", "container")),
    Metric("kube_poddisruptionbudget_status_pod_disruptions_allowed", "prometheus", KSM,
           ("namespace", "poddisruptionbudget")),
    Metric("kube_poddisruptionbudget_status_expected_pods", "prometheus", KSM,
           ("namespace", "poddisruptionbudget")),
    Metric("kube_deployment_status_replicas_available", "prometheus", KSM,
           ("namespace", "deployment")),
    Metric("kube_deployment_spec_replicas", "prometheus", KSM, ("namespace", "deployment")),
    Metric("kube_node_status_condition", "prometheus", KSM, ("node", "condition", "status")),
    # hastack recording rule: which role this cluster plays, as deployed.
    Metric("hastack:region_role:info", "prometheus", HASTACK, ("region", "role")),
)

CLOUDWATCH_METRICS: tuple[Metric, ...] = (
    Metric("AWS/RDS:AuroraGlobalDBRPOLag", "cloudwatch",
           "Aurora user guide, Aurora global database metrics (milliseconds)",
           ("DBClusterIdentifier",)),
    Metric("AWS/RDS:AuroraReplicaLag", "cloudwatch",
           "Aurora user guide, instance-level metrics (milliseconds)",
           ("DBClusterIdentifier",)),
    Metric("AWS/Route53:HealthCheckStatus", "cloudwatch",
           "Route 53 developer guide, health check metrics (us-east-1 only)",
           ("HealthCheckId",)),
    Metric("AWS/ElastiCache:ReplicationLag", "cloudwatch",
           "ElastiCache user guide, Redis host-level metrics (seconds)", ("CacheClusterId",)),
    Metric("AWS/S3:ReplicationLatency", "cloudwatch",
           "S3 user guide, replication metrics (seconds; RTC)",
           ("SourceBucket", "DestinationBucket", "RuleId")),
    Metric("AWS/S3:OperationsFailedReplication", "cloudwatch",
           "S3 user guide, replication metrics (count)",
           ("SourceBucket", "DestinationBucket", "RuleId")),
    Metric("AWS/ApplicationELB:HTTPCode_ELB_5XX_Count", "cloudwatch",
           "ELB user guide, ALB metrics", ("LoadBalancer",)),
    Metric("AWS/ApplicationELB:HTTPCode_Target_5XX_Count", "cloudwatch",
           "ELB user guide, ALB metrics", ("LoadBalancer",)),
    Metric("AWS/ApplicationELB:UnHealthyHostCount", "cloudwatch",
           "ELB user guide, ALB metrics", ("TargetGroup", "LoadBalancer")),
)

CLOUD_MONITORING_METRICS: tuple[Metric, ...] = (
    Metric("cloudsql.googleapis.com/database/replication/replica_lag", "cloud-monitoring",
           "Cloud SQL metrics list (seconds)"),
    Metric("cloudsql.googleapis.com/database/up", "cloud-monitoring",
           "Cloud SQL metrics list (1 = up)"),
    Metric("monitoring.googleapis.com/uptime_check/check_passed", "cloud-monitoring",
           "Cloud Monitoring uptime-check metrics"),
    Metric("redis.googleapis.com/replication/master/slaves/lag", "cloud-monitoring",
           "Memorystore for Redis monitoring metrics (seconds the replica is behind)"),
)

ALL_METRICS: tuple[Metric, ...] = (
    *PROMETHEUS_METRICS, *CLOUDWATCH_METRICS, *CLOUD_MONITORING_METRICS)
PROMETHEUS_NAMES = frozenset(m.name for m in PROMETHEUS_METRICS)
CLOUDWATCH_NAMES = frozenset(m.name for m in CLOUDWATCH_METRICS)
CLOUD_MONITORING_NAMES = frozenset(m.name for m in CLOUD_MONITORING_METRICS)
