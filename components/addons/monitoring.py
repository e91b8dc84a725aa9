"""In-cluster monitoring as add-on records: kube-prometheus-stack and the Prefect exporter.

Why kube-prometheus-stack on GKE too (not Google Managed Service for Prometheus):
the same PrometheusRule objects, the same `promtool`-tested rules, the same
Alertmanager routing and the same Grafana dashboard then serve both clouds, and
every cluster keeps alerting when its cloud's control plane is unreachable. GMP
would need its own Rules CRDs and a separately managed Alertmanager config; it is
a fine choice for teams already on Cloud Monitoring, but it would fork the rules.

HA (chart 88.5.3 keys; see ../shared/charts/README.md): Prometheus and
Alertmanager run `monitoring.prometheusReplicas` / `alertmanagerReplicas` (2 in
staging and prod) with hard hostname anti-affinity, a zone spread, PDBs (only at
>= 2 replicas: a minAvailable-1 PDB over one pod blocks every drain) and
persistent volumes on the cluster's default StorageClass (no storageClassName:
the encrypted default class the cluster add-ons provide). Managed control planes
(EKS, GKE) run no controller-manager, scheduler or etcd to scrape, so those
scrapes and their default rules are off; otherwise they'd be empty targets and
permanently firing "down" alerts.

Settings arrive in `ClusterContext.settings["monitoring"]` as a `MonitoringProfile`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.addons.base import AddOn, ClusterContext, IdentityRequest
from components.k8s import charts
from components.k8s.identity import ServiceAccountRef
from components.k8s.placement import HOST_KEY, ZONE_KEY
from components.k8s.release import platform_labels
from components.observability import dashboard, rules
from components.observability.thresholds import Tuning

NAMESPACE = "monitoring"
KPS_RELEASE = "kube-prometheus-stack"
EXPORTER_RELEASE = "prometheus-prefect-exporter"
# Prometheus selects ServiceMonitors and PrometheusRules labelled with its release
# (`*SelectorNilUsesHelmValues: true`, the chart default we keep).
SELECTOR_LABELS = {"release": KPS_RELEASE}
# The Grafana sidecar's watch label (grafana.sidecar.dashboards.label/labelValue).
DASHBOARD_LABEL = ("grafana_dashboard", "1")
# `<fullname>-alertmanager`, the chart's Alertmanager service account name.
ALERTMANAGER_SA = f"{KPS_RELEASE}-alertmanager"
# The exporter image; the chart's git values say 1.1.0, the published chart 4.0.0.
EXPORTER_IMAGE_TAG = "4.0.0"
PREFECT_API_URL = "http://prefect-server.prefect.svc.cluster.local:4200/api"


@dataclass(frozen=True)
class MonitoringProfile:
    """What the composition decides for a cluster's metrics stack."""

    role: rules.Role = "primary"
    orchestrator: rules.Orchestrator = "prefect"
    prometheus_replicas: int = 1
    alertmanager_replicas: int = 1
    retention_days: int = 3
    storage_gi: int = 10
    tuning: Tuning = field(default_factory=Tuning)
    outage_for_seconds: int = 60
    rpo_target_seconds: int | None = None
    # Alertmanager forwards to these; on AWS also to this region's alert topic (SNS).
    # Pulumi secrets in a real program: webhook URLs often carry their token.
    webhook_urls: tuple[pulumi.Input[str], ...] = ()
    alert_topic_arn: pulumi.Input[str] | None = None
    alert_topic_key_arn: pulumi.Input[str] | None = None
    gcp_project: str | None = None


def profile(ctx: ClusterContext) -> MonitoringProfile:
    found = ctx.settings.get("monitoring")
    return found if isinstance(found, MonitoringProfile) else MonitoringProfile()


def _spread(app: str) -> list[dict[str, Any]]:
    # Zones preferred, not required: after a zone loss the survivors must still schedule.
    return [{"maxSkew": 1, "topologyKey": ZONE_KEY, "whenUnsatisfiable": "ScheduleAnyway",
             "labelSelector": {"matchLabels": {"app.kubernetes.io/name": app}}}]


def _pdb(replicas: int) -> dict[str, Any]:
    return {"enabled": replicas >= 2, "minAvailable": 1}


def _volume(size_gi: int) -> dict[str, Any]:
    return {"volumeClaimTemplate": {"spec": {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": f"{size_gi}Gi"}}}}}


def alertmanager_config(ctx: ClusterContext, prof: MonitoringProfile) -> dict[str, Any]:
    receiver: dict[str, Any] = {"name": "platform"}
    if prof.webhook_urls:
        # The composition passes the URLs as Pulumi secrets (they often carry a token).
        receiver["webhook_configs"] = [{"url": url, "send_resolved": True}
                                       for url in prof.webhook_urls]
    # Only with an identity allowed to publish (the IRSA role the infrastructure
    # layer creates from `identity_requests`); without it SNS would refuse every alert.
    if (ctx.cloud == "aws" and prof.alert_topic_arn is not None
            and "kube-prometheus-stack" in ctx.identities):
        # The region's SNS topic: e-mail subscribers get in-cluster alerts too.
        receiver["sns_configs"] = [{"topic_arn": prof.alert_topic_arn, "send_resolved": True,
                                    "sigv4": {"region": ctx.region}}]
    return {
        "global": {"resolve_timeout": "5m"},
        "route": {"receiver": "platform", "group_by": ["alertname", "region", "namespace"],
                  "group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h",
                  # The chart's always-firing Watchdog proves the pipeline; it pages no one.
                  "routes": [{"receiver": "null",
                              "matchers": ['alertname = "Watchdog"']}]},
        "receivers": [{"name": "null"}, receiver],
    }


def kube_prometheus_stack_values(ctx: ClusterContext) -> dict[str, Any]:
    prof = profile(ctx)
    hard = "soft" if ctx.tier == "dev" else "hard"
    identity = ctx.identities.get("kube-prometheus-stack")
    values: dict[str, Any] = {
        "fullnameOverride": KPS_RELEASE,
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeEtcd": {"enabled": False},
        "defaultRules": {"rules": {"kubeControllerManager": False, "kubeSchedulerAlerting": False,
                                   "kubeSchedulerRecording": False, "etcd": False}},
        "prometheus": {
            "podDisruptionBudget": _pdb(prof.prometheus_replicas),
            "prometheusSpec": {
                "replicas": prof.prometheus_replicas,
                "podAntiAffinity": hard,
                "podAntiAffinityTopologyKey": HOST_KEY,
                "topologySpreadConstraints": _spread("prometheus"),
                "retention": f"{prof.retention_days}d",
                # Leave headroom on the volume: Prometheus stops ingesting when it is full.
                "retentionSize": f"{int(prof.storage_gi * 0.85)}GB",
                "storageSpec": _volume(prof.storage_gi),
                "externalLabels": {"region": ctx.region, "role": prof.role},
                "priorityClassName": "system-cluster-critical",
            },
        },
        "alertmanager": {
            "podDisruptionBudget": _pdb(prof.alertmanager_replicas),
            "alertmanagerSpec": {
                "replicas": prof.alertmanager_replicas,
                "podAntiAffinity": hard,
                "podAntiAffinityTopologyKey": HOST_KEY,
                "topologySpreadConstraints": _spread("alertmanager"),
                "storage": _volume(5),
                "priorityClassName": "system-cluster-critical",
            },
            "config": alertmanager_config(ctx, prof),
        },
        "grafana": {
            "sidecar": {"dashboards": {"enabled": True, "label": DASHBOARD_LABEL[0],
                                       "labelValue": DASHBOARD_LABEL[1]}},
            "additionalDataSources": _cloud_datasources(ctx, prof),
        },
    }
    if identity is not None:
        values["alertmanager"]["serviceAccount"] = {
            "annotations": {"eks.amazonaws.com/role-arn": identity}}
    return values


def _cloud_datasources(ctx: ClusterContext, prof: MonitoringProfile) -> list[dict[str, Any]]:
    if ctx.cloud == "aws":
        return [{"name": "CloudWatch", "uid": dashboard.CLOUDWATCH.uid, "type": "cloudwatch",
                 "jsonData": {"authType": "default", "defaultRegion": ctx.region}}]
    return [{"name": "Cloud Monitoring", "uid": dashboard.CLOUD_MONITORING.uid,
             "type": "stackdriver",
             "jsonData": {"authenticationType": "gce", "defaultProject": prof.gcp_project or ""}}]


def _alertmanager_identity(ctx: ClusterContext) -> IdentityRequest | None:
    prof = profile(ctx)
    if prof.alert_topic_arn is None:
        return None  # nothing to publish to: webhooks need no cloud identity
    statements: list[dict[str, Any]] = []
    if prof.alert_topic_arn is not None:
        statements.append({"Effect": "Allow", "Action": "sns:Publish",
                           "Resource": prof.alert_topic_arn})
    if prof.alert_topic_key_arn is not None:
        # Publishing to a CMK-encrypted topic needs the key's data-key operations.
        statements.append({"Effect": "Allow", "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                           "Resource": prof.alert_topic_key_arn})
    policy = (pulumi.Output.from_input(statements).apply(
        lambda s: json.dumps({"Version": "2012-10-17", "Statement": s}, sort_keys=True))
        if statements else None)
    return IdentityRequest(service_accounts=(ServiceAccountRef(NAMESPACE, ALERTMANAGER_SA),),
                           aws_policy_json=policy)  # type: ignore[arg-type]


def prometheus_rule(ctx: ClusterContext, opts: pulumi.ResourceOptions, prefix: str
                    ) -> k8s.apiextensions.CustomResource:
    prof = profile(ctx)
    rule_ctx = rules.RuleContext(region=ctx.region, role=prof.role,
                                 orchestrator=prof.orchestrator, tuning=prof.tuning,
                                 outage_for_seconds=prof.outage_for_seconds)
    return k8s.apiextensions.CustomResource(
        f"{prefix}-hastack-rules", api_version="monitoring.coreos.com/v1", kind="PrometheusRule",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name="hastack-platform", namespace=NAMESPACE,
            labels={**platform_labels(ctx.tier, "monitoring", ctx.labels), **SELECTOR_LABELS}),
        spec={"groups": rules.rule_groups(rule_ctx)}, opts=opts)


def dashboard_config_map(ctx: ClusterContext, opts: pulumi.ResourceOptions, prefix: str
                         ) -> k8s.core.v1.ConfigMap:
    prof = profile(ctx)
    args = dashboard.DashboardArgs(cloud=ctx.cloud, orchestrator=prof.orchestrator,
                                   region=ctx.region, rpo_target_seconds=prof.rpo_target_seconds,
                                   gcp_project=prof.gcp_project)
    return k8s.core.v1.ConfigMap(
        f"{prefix}-ha-dashboard",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name="hastack-ha-at-a-glance", namespace=NAMESPACE,
            labels={**platform_labels(ctx.tier, "monitoring", ctx.labels),
                    DASHBOARD_LABEL[0]: DASHBOARD_LABEL[1]}),
        data={"hastack-ha-at-a-glance.json": dashboard.to_json(args)}, opts=opts)


def _kps_extras(ctx: ClusterContext, prefix: str, release: k8s.helm.v3.Release | None,
                opts: pulumi.ResourceOptions) -> None:
    prometheus_rule(ctx, opts, prefix)
    dashboard_config_map(ctx, opts, prefix)


def prefect_exporter_values(ctx: ClusterContext) -> dict[str, Any]:
    return {
        "image": {"tag": EXPORTER_IMAGE_TAG},
        "prefectApiUrl": PREFECT_API_URL,
        # One replica on purpose: each replica polls the API on its own (more load,
        # duplicate series); a restart loses nothing but a scrape or two.
        "replicaCount": 1,
        "livenessProbe": True,
        "readinessProbe": True,
        "serviceMonitor": {"enabled": True, "additionalLabels": dict(SELECTOR_LABELS)},
    }


def _exporter_wanted(ctx: ClusterContext) -> bool:
    prof = profile(ctx)
    # The standby's Prefect API runs zero replicas: an exporter there only errors.
    return prof.orchestrator == "prefect" and prof.role == "primary"


KUBE_PROMETHEUS_STACK = AddOn(
    name="kube-prometheus-stack", chart=charts.KUBE_PROMETHEUS_STACK, namespace=NAMESPACE,
    values=kube_prometheus_stack_values, release_name=KPS_RELEASE,
    # AWS: Alertmanager's IRSA role may publish to its region's alert topic (the
    # infrastructure stack creates the topics before it asks for identities).
    clouds=frozenset({"aws", "gcp"}), extras=_kps_extras,
    identity=_alertmanager_identity, identity_clouds=frozenset({"aws"}),
    enabled=lambda ctx: ctx.settings.get("monitoringEnabled", True) is not False)

PROMETHEUS_PREFECT_EXPORTER = AddOn(
    name="prometheus-prefect-exporter", chart=charts.PROMETHEUS_PREFECT_EXPORTER,
    namespace=NAMESPACE, values=prefect_exporter_values, release_name=EXPORTER_RELEASE,
    clouds=frozenset({"aws", "gcp"}), after=("kube-prometheus-stack",),
    # It lives in the monitoring namespace the stack's record creates.
    create_namespace=False,
    enabled=lambda ctx: (ctx.settings.get("monitoringEnabled", True) is not False
                         and _exporter_wanted(ctx)))
