"""The monitoring add-ons: values conform to the pinned charts and keep their HA promises."""

from __future__ import annotations

from typing import Any

import pytest

from components.addons import catalog, monitoring
from components.addons.base import ClusterContext, identity_requests
from components.k8s import charts
from components.k8s.conformance import ChartDataMissing, chart_data_dir, check_values, load_chart
from hastack.plan.runner import run_program


def ctx(tier: str = "prod", cloud: str = "aws", identities: dict | None = None,
        **profile: Any) -> ClusterContext:
    prof = monitoring.MonitoringProfile(**{"prometheus_replicas": 2, "alertmanager_replicas": 2,
                                           **profile})
    return ClusterContext(cloud=cloud, tier=tier, region="us-east-1",  # type: ignore[arg-type]
                          cluster_name="c", kubernetes_version="1.33", zones=["a", "b", "c"],
                          kubernetes_provider=None,  # type: ignore[arg-type]
                          settings={"monitoring": prof}, identities=identities or {})


@pytest.fixture(scope="module")
def chart_root():  # type: ignore[no-untyped-def]
    try:
        return chart_data_dir()
    except ChartDataMissing as missing:
        pytest.skip(f"LOUD SKIP: no chart data, values conformance not checked: {missing}")


@pytest.mark.parametrize("tier", ["dev", "staging", "prod"])
@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_kube_prometheus_stack_values_conform(chart_root, tier: str, cloud: str) -> None:  # type: ignore[no-untyped-def]
    values = monitoring.kube_prometheus_stack_values(
        ctx(tier, cloud, webhook_urls=("https://pager.example.com/hook",),
            alert_topic_arn="arn:aws:sns:us-east-1:123456789012:alerts"))
    assert check_values("kube-prometheus-stack", values, chart_root) == []


def test_prefect_exporter_values_conform(chart_root) -> None:  # type: ignore[no-untyped-def]
    values = monitoring.prefect_exporter_values(ctx())
    assert check_values("prometheus-prefect-exporter", values, chart_root) == []


@pytest.mark.parametrize("chart,values,bad", [
    ("kube-prometheus-stack", {"prometheus": {"prometheusSpec": {"replica": 2}}},
     "prometheus.prometheusSpec.replica"),
    ("kube-prometheus-stack", {"kubeEtcd": {"enable": False}}, "kubeEtcd.enable"),
    ("prometheus-prefect-exporter", {"image": {"tags": "4.0.0"}}, "image.tags"),
])
def test_misspelt_keys_are_caught(chart_root, chart: str, values: dict, bad: str) -> None:  # type: ignore[no-untyped-def]
    assert [v.path for v in check_values(chart, values, chart_root)] == [bad]


def test_prod_is_ha_with_pdbs_zone_spread_and_volumes() -> None:
    values = monitoring.kube_prometheus_stack_values(ctx("prod"))
    for section, spec_key in (("prometheus", "prometheusSpec"),
                              ("alertmanager", "alertmanagerSpec")):
        spec = values[section][spec_key]
        assert spec["replicas"] >= 2 and spec["podAntiAffinity"] == "hard"
        assert values[section]["podDisruptionBudget"] == {"enabled": True, "minAvailable": 1}
        assert spec["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"
    storage = values["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]["spec"]
    # The default StorageClass (encrypted, provided per cluster): no class named here.
    assert "storageClassName" not in storage


def test_single_replica_gets_no_pdb_that_would_block_drains() -> None:
    values = monitoring.kube_prometheus_stack_values(
        ctx("dev", prometheus_replicas=1, alertmanager_replicas=1))
    assert values["prometheus"]["podDisruptionBudget"]["enabled"] is False
    assert values["alertmanager"]["podDisruptionBudget"]["enabled"] is False


def test_retention_follows_the_profile() -> None:
    spec = monitoring.kube_prometheus_stack_values(
        ctx(retention_days=15, storage_gi=100))["prometheus"]["prometheusSpec"]
    assert spec["retention"] == "15d" and spec["retentionSize"] == "85GB"
    assert spec["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"] == {
        "requests": {"storage": "100Gi"}}


def test_managed_control_plane_scrapes_and_rules_are_off(chart_root) -> None:  # type: ignore[no-untyped-def]
    values = monitoring.kube_prometheus_stack_values(ctx())
    defaults = load_chart(charts.KUBE_PROMETHEUS_STACK, chart_root).defaults
    for key in ("kubeControllerManager", "kubeScheduler", "kubeEtcd"):
        assert defaults[key]["enabled"] is True and values[key]["enabled"] is False
    for rule in ("kubeControllerManager", "kubeSchedulerAlerting", "etcd"):
        assert defaults["defaultRules"]["rules"][rule] is True
        assert values["defaultRules"]["rules"][rule] is False


def test_selector_and_sidecar_labels_match_the_chart(chart_root) -> None:  # type: ignore[no-untyped-def]
    defaults = load_chart(charts.KUBE_PROMETHEUS_STACK, chart_root).defaults
    sidecar = defaults["grafana"]["sidecar"]["dashboards"]
    assert (sidecar["label"], str(sidecar["labelValue"])) == monitoring.DASHBOARD_LABEL
    assert defaults["prometheus"]["prometheusSpec"]["ruleSelectorNilUsesHelmValues"] is True
    assert defaults["prometheus"]["prometheusSpec"]["serviceMonitorSelectorNilUsesHelmValues"]
    assert monitoring.SELECTOR_LABELS == {"release": monitoring.KPS_RELEASE}
    exporter = monitoring.prefect_exporter_values(ctx())
    assert exporter["serviceMonitor"]["additionalLabels"] == monitoring.SELECTOR_LABELS


def test_exporter_image_tag_is_explicit_and_not_the_git_default(chart_root) -> None:  # type: ignore[no-untyped-def]
    defaults = load_chart(charts.PROMETHEUS_PREFECT_EXPORTER, chart_root).defaults
    tag = monitoring.prefect_exporter_values(ctx())["image"]["tag"]
    # Git's values say 1.1.0; the published 2026.8.7141024 is stamped 4.0.0 (its appVersion).
    assert tag == "4.0.0" and defaults["image"]["tag"] == "1.1.0"


def test_exporter_only_where_a_prefect_api_runs() -> None:
    exporter = monitoring.PROMETHEUS_PREFECT_EXPORTER
    assert exporter.enabled(ctx(role="primary", orchestrator="prefect"))
    assert not exporter.enabled(ctx(role="standby", orchestrator="prefect"))
    assert not exporter.enabled(ctx(role="primary", orchestrator="argo"))


def test_catalog_lists_the_monitoring_records() -> None:
    names = [a.name for a in catalog.ADDONS]
    assert "kube-prometheus-stack" in names and "prometheus-prefect-exporter" in names


def test_alertmanager_routes_to_webhooks_and_the_region_topic() -> None:
    config = monitoring.alertmanager_config(
        ctx(identities={"kube-prometheus-stack": "arn:aws:iam::1:role/am"}),
        monitoring.MonitoringProfile(webhook_urls=("https://a.example.com/x",),
                                            alert_topic_arn="arn:aws:sns:us-east-1:1:t"))
    platform = next(r for r in config["receivers"] if r["name"] == "platform")
    assert platform["webhook_configs"][0]["url"] == "https://a.example.com/x"
    assert platform["sns_configs"][0]["topic_arn"] == "arn:aws:sns:us-east-1:1:t"
    assert config["route"]["receiver"] == "platform"


def test_alertmanager_identity_follows_the_alert_topic() -> None:
    # No topic (or GCP): no identity, so none is created without permissions.
    assert "kube-prometheus-stack" not in identity_requests(catalog.ADDONS, ctx())
    topic, key = "arn:aws:sns:us-east-1:1:t", "arn:aws:kms:us-east-1:1:key/k"
    assert "kube-prometheus-stack" not in identity_requests(
        catalog.ADDONS, ctx(cloud="gcp", alert_topic_arn=topic))
    found: dict[str, Any] = {}

    def program() -> None:
        # The policy is an Output: built inside a (mock) program, like the stack does.
        found.update(identity_requests(catalog.ADDONS, ctx(alert_topic_arn=topic,
                                                           alert_topic_key_arn=key)))

    run_program(program, project="hastack", stack="test", config={})
    request = found["kube-prometheus-stack"]
    assert [a.irsa_subject for a in request.service_accounts] == [
        "system:serviceaccount:monitoring:kube-prometheus-stack-alertmanager"]
    assert request.aws_policy_json is not None


def test_alertmanager_may_publish_to_its_regions_topic_only() -> None:
    import json

    from tests.addons.conftest import golden

    plan = golden("prod")
    policies = [r for r in plan["resources"] if r["type"] == "aws:iam/rolePolicy:RolePolicy"
                and r["name"].endswith("addon-identities-kube-prometheus-stack")]
    assert len(policies) == 2
    for policy in policies:
        region = policy["region"]
        statements = json.loads(policy["inputs"]["policy"])["Statement"]
        publish = [s for s in statements if s["Action"] == "sns:Publish"]
        assert len(publish) == 1 and f":sns:{region}:" in publish[0]["Resource"]
        (use,) = [s for s in statements if s["Action"] != "sns:Publish"]
        assert sorted(use["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
        assert f":kms:{region}:" in use["Resource"] and "*" not in use["Resource"]


def test_the_sns_receiver_turns_on_with_the_identity() -> None:
    config = monitoring.alertmanager_config(
        ctx(identities={"kube-prometheus-stack": "arn:aws:iam::1:role/am"}),
        monitoring.MonitoringProfile(alert_topic_arn="arn:aws:sns:us-east-1:1:t"))
    platform = next(r for r in config["receivers"] if r["name"] == "platform")
    assert platform["sns_configs"][0]["topic_arn"] == "arn:aws:sns:us-east-1:1:t"


def test_no_sns_receiver_without_an_identity_to_publish_with() -> None:
    config = monitoring.alertmanager_config(
        ctx(), monitoring.MonitoringProfile(alert_topic_arn="arn:aws:sns:us-east-1:1:t"))
    platform = next(r for r in config["receivers"] if r["name"] == "platform")
    assert "sns_configs" not in platform


def test_dashboard_prometheus_datasource_is_the_charts_default(chart_root) -> None:  # type: ignore[no-untyped-def]
    from components.observability import dashboard

    defaults = load_chart(charts.KUBE_PROMETHEUS_STACK, chart_root).defaults
    assert defaults["grafana"]["sidecar"]["datasources"]["uid"] == dashboard.PROMETHEUS.uid
