"""The HA dashboard: every panel's query names metrics the installed exporters emit."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from components.observability import dashboard
from components.observability.metrics import (
    CLOUD_MONITORING_NAMES,
    CLOUDWATCH_NAMES,
    PROMETHEUS_NAMES,
)

PROMQL_WORDS = {"sum", "by", "increase", "max", "rate", "or", "and", "on"}


def _boards() -> list[dashboard.DashboardArgs]:
    return [dashboard.DashboardArgs(cloud, orchestrator, "us-east-1", rpo, "proj")
            for cloud in ("aws", "gcp") for orchestrator in ("prefect", "argo")
            for rpo in (60, None)]


def _names(target: dict[str, Any]) -> set[str]:
    if "expr" in target:
        expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]|by \([^)]*\)|\"[^\"]*\"", "", target["expr"])
        return set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr)) - PROMQL_WORDS
    if "metricName" in target:
        return {f"{target['namespace']}:{target['metricName']}"}
    if "timeSeriesList" in target:
        return {target["timeSeriesList"]["filters"][2]}
    raise AssertionError(f"unknown query shape: {target}")


@pytest.mark.parametrize("args", _boards(), ids=lambda a: f"{a.cloud}-{a.orchestrator}-"
                         f"{a.rpo_target_seconds}")
def test_every_panel_names_known_metrics(args: dashboard.DashboardArgs) -> None:
    known = PROMETHEUS_NAMES | CLOUDWATCH_NAMES | CLOUD_MONITORING_NAMES
    board = dashboard.build(args)
    assert board["panels"], "no panels"
    for panel in board["panels"]:
        assert panel["targets"], f"{panel['title']} has no query"
        for target in panel["targets"]:
            names = _names(target)
            assert names and names <= known, f"{panel['title']}: unknown {names - known}"


def test_the_promised_panels_are_there() -> None:
    titles = [p["title"] for p in dashboard.build(_boards()[0])["panels"]]
    assert titles == ["This cluster's role", "Health check per region",
                      "Replication lag vs RPO target", "Orchestrator availability",
                      "Workflow failures", "Backlog"]


def test_rpo_line_follows_the_target_in_the_metrics_unit() -> None:
    def line(cloud: str, rpo: int) -> float:
        board = dashboard.build(dashboard.DashboardArgs(cloud, "prefect", "r", rpo, "p"))  # type: ignore[arg-type]
        panel = next(p for p in board["panels"] if p["title"].startswith("Replication"))
        return float(panel["fieldConfig"]["defaults"]["thresholds"]["steps"][-1]["value"])
    assert line("aws", 60) == 60_000 and line("aws", 120) == 120_000  # AuroraGlobalDBRPOLag: ms
    assert line("gcp", 60) == 60  # Cloud SQL replica_lag: seconds


def test_a_panel_with_an_unknown_metric_is_caught() -> None:
    assert _names({"expr": 'sum(argo_workflow_status{phase="x"})'}) - PROMETHEUS_NAMES


def test_datasources_are_the_ones_the_stack_provisions() -> None:
    from components.addons import monitoring
    from tests.addons.test_monitoring import ctx

    for cloud in ("aws", "gcp"):
        values = monitoring.kube_prometheus_stack_values(ctx(cloud=cloud))
        provisioned = {d["uid"] for d in values["grafana"]["additionalDataSources"]} | {
            "prometheus"}
        board = json.dumps(dashboard.build(dashboard.DashboardArgs(
            cloud, "prefect", "us-east-1", 60, "p")))  # type: ignore[arg-type]
        used = set(re.findall(r'"uid": "([^"]+)"', board)) - {dashboard.UID}
        assert used <= provisioned, (cloud, used - provisioned)
