"""Every alert rule fires on synthetic series that break its promise and stays quiet otherwise.

Run through the real `promtool test rules`; a case list per alert, and a test that
no alert of any rendered rule set is left without both a firing and a quiet case.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.observability import rules
from components.observability.metrics import PROMETHEUS_NAMES
from components.observability.rules import RuleContext
from components.observability.thresholds import Tuning
from tests.observability.promtool import check_rules, run_rule_tests

REGION = "us-east-1"
TUNING = Tuning()  # 6 restarts/h, failure ratio 0.5, PDB 120 min


def ctx(orchestrator: str, role: str) -> RuleContext:
    return RuleContext(region=REGION, role=role, orchestrator=orchestrator,  # type: ignore[arg-type]
                       tuning=TUNING, outage_for_seconds=60)


def fired(alert: str, role: str, summary: str, **labels: str) -> dict[str, Any]:
    return {"exp_labels": {**labels, "severity": _severity(alert), "region": REGION,
                           "role": role},
            "exp_annotations": {"summary": summary}}


def _severity(alert: str) -> str:
    for group in rules.rule_groups(ctx("argo", "primary")) + rules.rule_groups(
            ctx("prefect", "standby")) + rules.rule_groups(ctx("prefect", "primary")):
        for rule in group["rules"]:
            if rule.get("alert") == alert:
                return str(rule["labels"]["severity"])
    raise KeyError(alert)


def case(alert: str, series: dict[str, str], at: str, expected: list[dict[str, Any]]
         ) -> dict[str, Any]:
    return {"interval": "1m",
            "input_series": [{"series": s, "values": v} for s, v in series.items()],
            "alert_rule_test": [{"eval_time": at, "alertname": alert, "exp_alerts": expected}]}


ARGO_SERVER = 'namespace="argo",deployment="argo-workflows-server"'
PREFECT_SERVER = 'namespace="prefect",deployment="prefect-server"'
SERVER_DOWN_ARGO = "The Argo server has no available replica: UI and API are down."
SERVER_DOWN_PREFECT = ("The Prefect API has no available replica: flow runs cannot be "
                       "scheduled.")
RESTARTS = 'namespace="prefect",pod="api-0",container="api"'
PDB = 'namespace="prefect",poddisruptionbudget="prefect-server"'
NODE_READY = 'kube_node_status_condition{node="%s",condition="Ready",status="true"}'

# (orchestrator, role) -> alert -> [(description, case)]; every case names its verdict.
CASES: dict[tuple[str, str], list[tuple[str, str, dict[str, Any]]]] = {
    ("argo", "primary"): [
        ("HastackWorkflowFailureRate", "fires", case(
            "HastackWorkflowFailureRate",
            {'argo_workflows_total_count{phase="Failed",namespace="argo"}': "0+2x120",
             'argo_workflows_total_count{phase="Succeeded",namespace="argo"}': "0+1x120"},
            "90m", [fired("HastackWorkflowFailureRate", "primary",
                          "More than 50% of Argo workflows finished in the last hour failed.")])),
        ("HastackWorkflowFailureRate", "quiet", case(
            "HastackWorkflowFailureRate",
            {'argo_workflows_total_count{phase="Failed",namespace="argo"}': "0+1x120",
             'argo_workflows_total_count{phase="Succeeded",namespace="argo"}': "0+9x120"},
            "90m", [])),
        ("HastackWorkflowControllerUnavailable", "fires", case(
            "HastackWorkflowControllerUnavailable",
            {'argo_workflows_is_leader{pod="c-0"}': "0x10", 'argo_workflows_is_leader{pod="c-1"}':
             "0x10"},
            "5m", [fired("HastackWorkflowControllerUnavailable", "primary",
                         "No Argo workflow controller holds the leader lease: workflows are not "
                         "being run.")])),
        # No controller metrics at all (every pod gone) is an outage too.
        ("HastackWorkflowControllerUnavailable", "fires", case(
            "HastackWorkflowControllerUnavailable", {"up{job=\"other\"}": "1x10"},
            "5m", [fired("HastackWorkflowControllerUnavailable", "primary",
                         "No Argo workflow controller holds the leader lease: workflows are not "
                         "being run.")])),
        ("HastackWorkflowControllerUnavailable", "quiet", case(
            "HastackWorkflowControllerUnavailable",
            {'argo_workflows_is_leader{pod="c-0"}': "1x10", 'argo_workflows_is_leader{pod="c-1"}':
             "0x10"}, "5m", [])),
        ("HastackWorkflowServerUnavailable", "fires", case(
            "HastackWorkflowServerUnavailable",
            {f"kube_deployment_status_replicas_available{{{ARGO_SERVER}}}": "0x10"},
            "5m", [fired("HastackWorkflowServerUnavailable", "primary", SERVER_DOWN_ARGO,
                         namespace="argo", deployment="argo-workflows-server")])),
        ("HastackWorkflowServerUnavailable", "quiet", case(
            "HastackWorkflowServerUnavailable",
            {f"kube_deployment_status_replicas_available{{{ARGO_SERVER}}}": "2x10"}, "5m", [])),
    ],
    ("argo", "standby"): [
        ("HastackStandbyNotReady", "fires", case(
            "HastackStandbyNotReady",
            {f"kube_deployment_spec_replicas{{{ARGO_SERVER}}}": "1x30",
             f"kube_deployment_status_replicas_available{{{ARGO_SERVER}}}": "0x30",
             NODE_READY % "n1": "1x30", NODE_READY % "n2": "1x30"},
            "20m", [fired("HastackStandbyNotReady", "standby",
                          "The standby region could not take over: a deployment is short of its "
                          "replicas or fewer than 2 nodes are Ready.",
                          namespace="argo", deployment="argo-workflows-server")])),
        ("HastackStandbyNotReady", "fires", case(
            "HastackStandbyNotReady",
            {f"kube_deployment_spec_replicas{{{ARGO_SERVER}}}": "1x30",
             f"kube_deployment_status_replicas_available{{{ARGO_SERVER}}}": "1x30",
             NODE_READY % "n1": "1x30", NODE_READY % "n2": "0x30"},
            "20m", [fired("HastackStandbyNotReady", "standby",
                          "The standby region could not take over: a deployment is short of its "
                          "replicas or fewer than 2 nodes are Ready.")])),
        ("HastackStandbyNotReady", "quiet", case(
            "HastackStandbyNotReady",
            {f"kube_deployment_spec_replicas{{{ARGO_SERVER}}}": "1x30",
             f"kube_deployment_status_replicas_available{{{ARGO_SERVER}}}": "1x30",
             NODE_READY % "n1": "1x30", NODE_READY % "n2": "1x30"}, "20m", [])),
        # The controller is scaled to zero on a standby: that is its normal state.
        ("HastackStandbyNotReady", "quiet", case(
            "HastackStandbyNotReady",
            {'kube_deployment_spec_replicas{namespace="argo",deployment="argo-workflows-'
             'workflow-controller"}': "0x30",
             'kube_deployment_status_replicas_available{namespace="argo",deployment="argo-'
             'workflows-workflow-controller"}': "0x30",
             NODE_READY % "n1": "1x30", NODE_READY % "n2": "1x30"}, "20m", [])),
    ],
    ("prefect", "primary"): [
        ("HastackWorkflowFailureRate", "fires", case(
            "HastackWorkflowFailureRate",
            {'prefect_info_flow_runs{state_name="Failed",flow_name="etl"}': "5x20",
             'prefect_info_flow_runs{state_name="Completed",flow_name="etl"}': "1x20"},
            "15m", [fired("HastackWorkflowFailureRate", "primary",
                          "More than 50% of recent Prefect flow runs failed or crashed.")])),
        ("HastackWorkflowFailureRate", "quiet", case(
            "HastackWorkflowFailureRate",
            {'prefect_info_flow_runs{state_name="Failed",flow_name="etl"}': "1x20",
             'prefect_info_flow_runs{state_name="Completed",flow_name="etl"}': "10x20"},
            "15m", [])),
        ("HastackPrefectFlowRunsCrashed", "fires", case(
            "HastackPrefectFlowRunsCrashed",
            {'prefect_info_flow_runs{state_name="Crashed",flow_name="etl"}': "1x10"},
            "10m", [fired("HastackPrefectFlowRunsCrashed", "primary",
                          "Prefect flow runs crashed (infrastructure, not code, ended them).")])),
        ("HastackPrefectFlowRunsCrashed", "quiet", case(
            "HastackPrefectFlowRunsCrashed",
            {'prefect_info_flow_runs{state_name="Crashed",flow_name="etl"}': "0x10",
             'prefect_info_flow_runs{state_name="Completed",flow_name="etl"}': "4x10"},
            "10m", [])),
        ("HastackPrefectFlowRunsLate", "fires", case(
            "HastackPrefectFlowRunsLate",
            {'prefect_work_queues_late_runs_count{work_queue_name="default",'
             'work_pool_name="kubernetes-pool"}': "2x30"},
            "20m", [fired("HastackPrefectFlowRunsLate", "primary",
                          "Prefect flow runs are late: no worker is picking up work queue "
                          "default.", work_queue_name="default")])),
        ("HastackPrefectFlowRunsLate", "quiet", case(
            "HastackPrefectFlowRunsLate",
            {'prefect_work_queues_late_runs_count{work_queue_name="default",'
             'work_pool_name="kubernetes-pool"}': "0x30"}, "20m", [])),
        ("HastackWorkflowServerUnavailable", "fires", case(
            "HastackWorkflowServerUnavailable",
            {f"kube_deployment_status_replicas_available{{{PREFECT_SERVER}}}": "0x10"},
            "5m", [fired("HastackWorkflowServerUnavailable", "primary", SERVER_DOWN_PREFECT,
                         namespace="prefect", deployment="prefect-server")])),
        # The Deployment is gone altogether (release deleted, namespace lost).
        ("HastackWorkflowServerUnavailable", "fires", case(
            "HastackWorkflowServerUnavailable", {'up{job="kube-state-metrics"}': "1x10"},
            "5m", [fired("HastackWorkflowServerUnavailable", "primary", SERVER_DOWN_PREFECT,
                         namespace="prefect", deployment="prefect-server")])),
        ("HastackWorkflowServerUnavailable", "quiet", case(
            "HastackWorkflowServerUnavailable",
            {f"kube_deployment_status_replicas_available{{{PREFECT_SERVER}}}": "3x10"},
            "5m", [])),
        ("HastackPodRestartLoop", "fires", case(
            "HastackPodRestartLoop",
            {f"kube_pod_container_status_restarts_total{{{RESTARTS}}}": "0+1x70"},
            "65m", [fired("HastackPodRestartLoop", "primary",
                          "prefect/api-0 (api) restarted more than 6 times in an hour.",
                          namespace="prefect", pod="api-0", container="api")])),
        ("HastackPodRestartLoop", "quiet", case(
            "HastackPodRestartLoop",
            {f"kube_pod_container_status_restarts_total{{{RESTARTS}}}": "3+0x70"}, "65m", [])),
        ("HastackPdbBlocksDisruptions", "fires", case(
            "HastackPdbBlocksDisruptions",
            {f"kube_poddisruptionbudget_status_pod_disruptions_allowed{{{PDB}}}": "0x150",
             f"kube_poddisruptionbudget_status_expected_pods{{{PDB}}}": "3x150"},
            "130m", [fired("HastackPdbBlocksDisruptions", "primary",
                           "PodDisruptionBudget prefect/prefect-server allows no disruption: "
                           "node drains and upgrades are blocked.",
                           namespace="prefect", poddisruptionbudget="prefect-server")])),
        # A standby's PDB over zero pods allows nothing and blocks nothing.
        ("HastackPdbBlocksDisruptions", "quiet", case(
            "HastackPdbBlocksDisruptions",
            {f"kube_poddisruptionbudget_status_pod_disruptions_allowed{{{PDB}}}": "0x150",
             f"kube_poddisruptionbudget_status_expected_pods{{{PDB}}}": "0x150"}, "130m", [])),
        # Blocked, but not for long yet.
        ("HastackPdbBlocksDisruptions", "quiet", case(
            "HastackPdbBlocksDisruptions",
            {f"kube_poddisruptionbudget_status_pod_disruptions_allowed{{{PDB}}}": "1x60 0x89",
             f"kube_poddisruptionbudget_status_expected_pods{{{PDB}}}": "3x150"}, "130m", [])),
        ("HastackNodePressure", "fires", case(
            "HastackNodePressure",
            {'kube_node_status_condition{node="n1",condition="MemoryPressure",status="true"}':
             "1x20"},
            "15m", [fired("HastackNodePressure", "primary", "Node n1 reports MemoryPressure.",
                          node="n1", condition="MemoryPressure", status="true")])),
        ("HastackNodePressure", "quiet", case(
            "HastackNodePressure",
            {'kube_node_status_condition{node="n1",condition="MemoryPressure",status="true"}':
             "0x20",
             'kube_node_status_condition{node="n1",condition="MemoryPressure",status="false"}':
             "1x20"}, "15m", [])),
    ],
    ("prefect", "standby"): [
        ("HastackStandbyNotReady", "fires", case(
            "HastackStandbyNotReady",
            {'kube_deployment_spec_replicas{namespace="prefect",deployment="prefect-worker"}':
             "2x30",
             'kube_deployment_status_replicas_available{namespace="prefect",'
             'deployment="prefect-worker"}': "1x30",
             NODE_READY % "n1": "1x30", NODE_READY % "n2": "1x30"},
            "20m", [fired("HastackStandbyNotReady", "standby",
                          "The standby region could not take over: a deployment is short of its "
                          "replicas or fewer than 2 nodes are Ready.",
                          namespace="prefect", deployment="prefect-worker")])),
        # Prefect's standby runs every deployment at zero: ready means "nothing missing".
        ("HastackStandbyNotReady", "quiet", case(
            "HastackStandbyNotReady",
            {f"kube_deployment_spec_replicas{{{PREFECT_SERVER}}}": "0x30",
             f"kube_deployment_status_replicas_available{{{PREFECT_SERVER}}}": "0x30",
             NODE_READY % "n1": "1x30", NODE_READY % "n2": "1x30"}, "20m", [])),
    ],
}


@pytest.mark.parametrize("key", sorted(CASES), ids=lambda k: f"{k[0]}-{k[1]}")
def test_promtool_rule_cases(key: tuple[str, str], tmp_path: Path) -> None:
    groups = rules.rule_groups(ctx(*key))
    result = run_rule_tests(tmp_path, groups, [c for _, _, c in CASES[key]])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("key", sorted(CASES), ids=lambda k: f"{k[0]}-{k[1]}")
def test_every_alert_has_a_firing_and_a_quiet_case(key: tuple[str, str]) -> None:
    # Cluster-wide rules are the same in every rule set; their cases live once, in prefect-primary.
    shared = {"HastackPodRestartLoop", "HastackPdbBlocksDisruptions", "HastackNodePressure"}
    covered = {(alert, verdict) for alert, verdict, _ in CASES[key]}
    covered |= {(alert, verdict) for alert, verdict, _ in CASES[("prefect", "primary")]
                if alert in shared}
    for alert in rules.alert_names(ctx(*key)):
        assert (alert, "fires") in covered, f"{key}: {alert} has no firing case"
        assert (alert, "quiet") in covered, f"{key}: {alert} has no quiet case"


def test_recording_rule_states_the_role(tmp_path: Path) -> None:
    groups = rules.rule_groups(ctx("prefect", "standby"))
    test = {"interval": "1m", "input_series": [],
            "promql_expr_test": [{"expr": "hastack:region_role:info", "eval_time": "1m",
                                  "exp_samples": [{"labels": 'hastack:region_role:info'
                                                   f'{{region="{REGION}",role="standby"}}',
                                                   "value": 1}]}]}
    result = run_rule_tests(tmp_path, groups, [test])
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_broken_case_makes_promtool_fail(tmp_path: Path) -> None:
    """The harness can fail: a firing case claimed to be quiet is reported."""
    alert, _, firing = CASES[("prefect", "primary")][0]
    broken = {**firing, "alert_rule_test": [
        {**firing["alert_rule_test"][0], "exp_alerts": []}]}
    result = run_rule_tests(tmp_path, rules.rule_groups(ctx("prefect", "primary")), [broken])
    assert result.returncode != 0 and alert in result.stdout + result.stderr


@pytest.mark.parametrize("key", sorted(CASES), ids=lambda k: f"{k[0]}-{k[1]}")
def test_rules_pass_promtool_check(key: tuple[str, str], tmp_path: Path) -> None:
    result = check_rules(tmp_path, rules.rule_groups(ctx(*key)))
    assert result.returncode == 0, result.stdout + result.stderr


def test_standby_is_not_paged_for_its_scaled_down_orchestrator() -> None:
    for orchestrator in ("argo", "prefect"):
        standby = rules.alert_names(ctx(orchestrator, "standby"))
        assert "HastackWorkflowServerUnavailable" not in standby
        assert "HastackWorkflowControllerUnavailable" not in standby
        assert "HastackStandbyNotReady" in standby
        assert "HastackStandbyNotReady" not in rules.alert_names(ctx(orchestrator, "primary"))


def test_rules_name_only_metrics_the_exporters_emit() -> None:
    import re

    known = PROMETHEUS_NAMES | {"vector", "sum", "max", "increase", "clamp_min", "absent", "or",
                                "and", "by", "on"}
    for key in CASES:
        for group in rules.rule_groups(ctx(*key)):
            for rule in group["rules"]:
                expr = re.sub(r'"[^"]*"', '""', rule["expr"])
                expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]|by \([^)]*\)", "", expr)
                names = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr))
                assert names <= known, f"{rule.get('alert')}: unknown {names - known}"
