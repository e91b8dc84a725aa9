"""Observability wired into both layers of an environment (planned as `hastack plan` does).

Infrastructure: alert topics first (ElastiCache sends its events to them), every
alarm with an action, the RPO alarms under the target. Workloads: the monitoring
add-ons before the orchestrator, rules and dashboard per cluster, the exporter only
where a Prefect API runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hastack.plan.pipeline import PlanResult

# The committed environments' plans are the session's (tests/conftest.py).

RELEASE = "kubernetes:helm.sh/v3:Release"


@pytest.fixture(scope="module")
def prod(environment_plan: Callable[[str], list[PlanResult]]) -> list[PlanResult]:
    return environment_plan("prod")


def _of(result: PlanResult, type_: str) -> list[dict[str, Any]]:
    return [r for r in result.plan["resources"] if r["type"] == type_]


def test_caches_send_their_events_to_the_regions_topic(prod: list[PlanResult]) -> None:
    groups = _of(prod[0], "aws:elasticache/replicationGroup:ReplicationGroup")
    assert len(groups) == 2
    assert all(g["inputs"].get("notificationTopicArn") for g in groups)


def test_every_alarm_has_an_action_and_rpo_alarms_sit_below_target(
        prod: list[PlanResult]) -> None:
    alarms = _of(prod[0], "aws:cloudwatch/metricAlarm:MetricAlarm")
    assert alarms and all(a["inputs"]["alarmActions"] for a in alarms)
    rpo = [a for a in alarms if a["inputs"]["metricName"] == "AuroraGlobalDBRPOLag"]
    # Both regional clusters: whichever is the secondary after a failover is watched.
    platform = next(r for r in prod[0].plan["resources"] if r["type"] == "hastack:aws:Platform")
    target = platform["inputs"]["hastackRecovery"]["targets"]["regionFailure"]["rpoSeconds"]
    assert len(rpo) == 2 and all(0 < a["inputs"]["threshold"] <= target * 1000 for a in rpo)


def test_monitoring_is_installed_before_the_orchestrator(prod: list[PlanResult]) -> None:
    for result in prod[1:]:
        releases = {r["inputs"]["name"]: r for r in _of(result, RELEASE)}
        stack = releases["kube-prometheus-stack"]
        server = releases["prefect-server"]
        assert stack["urn"] in _dependencies(result, server), result.stack


def _dependencies(result: PlanResult, resource: dict[str, Any]) -> set[str]:
    """The resource's dependencies, including those its parents wait for."""
    by_urn = {r["urn"]: r for r in result.plan["resources"]}
    found: set[str] = set()
    current: dict[str, Any] | None = resource
    while current is not None:
        found |= set(current.get("dependencies") or [])
        current = by_urn.get(current.get("parent") or "")
    return found


def test_rules_dashboard_and_exporter_per_cluster(prod: list[PlanResult]) -> None:
    roles = {}
    for result in prod[1:]:
        rules = _of(result, "kubernetes:monitoring.coreos.com/v1:PrometheusRule")
        assert len(rules) == 1 and rules[0]["inputs"]["metadata"]["labels"]["release"] == (
            "kube-prometheus-stack")
        role = rules[0]["inputs"]["spec"]["groups"][0]["rules"][0]["labels"]["role"]
        roles[result.stack] = role
        maps = [r for r in _of(result, "kubernetes:core/v1:ConfigMap")
                if r["inputs"]["metadata"]["name"] == "hastack-ha-at-a-glance"]
        assert len(maps) == 1 and maps[0]["inputs"]["metadata"]["labels"][
            "grafana_dashboard"] == "1"
        names = {r["inputs"]["name"] for r in _of(result, RELEASE)}
        # The standby's Prefect API runs at zero: no exporter there.
        assert ("prometheus-prefect-exporter" in names) == (role == "primary"), result.stack
    assert sorted(roles.values()) == ["primary", "standby"]


def test_each_regions_load_balancer_is_alarmed(prod: list[PlanResult]) -> None:
    """5xx and unhealthy hosts per region, on the dimensions of that region's own ALB
    (its ARN suffix is known at apply: the plan records where the value comes from)."""
    infra = prod[0].plan["resources"]
    balancers = {r["region"]: r["urn"] for r in infra
                 if r["type"] == "aws:lb/loadBalancer:LoadBalancer"}
    groups = {r["region"]: r["urn"] for r in infra
              if r["type"] == "aws:lb/targetGroup:TargetGroup"}
    assert set(balancers) == {"us-east-1", "us-west-2"}
    alarms = _of(prod[0], "aws:cloudwatch/metricAlarm:MetricAlarm")
    for metric in ("HTTPCode_ELB_5XX_Count", "UnHealthyHostCount"):
        found = {a["region"]: a for a in alarms if a["inputs"]["metricName"] == metric}
        assert set(found) == set(balancers), metric
        for region, alarm in found.items():
            assert alarm["inputs"]["namespace"] == "AWS/ApplicationELB"
            assert alarm["inputs"]["alarmActions"]
            sources = alarm["propertyDependencies"]["dimensions"]
            assert balancers[region] in sources
            assert (groups[region] in sources) == (metric == "UnHealthyHostCount")
