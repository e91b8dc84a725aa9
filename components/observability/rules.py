"""The platform's Prometheus alert rules, as data: one module, one PrometheusRule per cluster.

Rules are rendered per cluster because a cluster's role is known when it is
deployed: the active region is paged when its orchestrator is unavailable, the
standby region when it is *not ready to take over* (its deployments short of their
spec, too few Ready nodes). A failover changes `hastack:activeRegion`, the next
`pulumi up` re-renders both clusters' rules. `hastack:region_role:info` records
the role as a series so dashboards and ad-hoc queries can join on it.

Every alert here is exercised by `promtool test rules` in
tests/observability/test_rules_promtool.py (a firing and a quiet case each), and
every metric it names is in `components/observability/metrics.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from components.observability.thresholds import Tuning

Role = Literal["primary", "standby"]
Orchestrator = Literal["prefect", "argo"]

# Object names the orchestrator charts render (components/k8s/argo.py, prefect.py
# set fullnameOverride, so these are fixed).
ARGO_NAMESPACE, PREFECT_NAMESPACE = "argo", "prefect"
ARGO_CONTROLLER = "argo-workflows-workflow-controller"
ARGO_SERVER = "argo-workflows-server"
PREFECT_SERVER = "prefect-server"
# A standby cluster must keep at least this many Ready nodes to take over.
STANDBY_MIN_READY_NODES = 2


@dataclass(frozen=True)
class RuleContext:
    region: str
    role: Role
    orchestrator: Orchestrator
    tuning: Tuning
    # Seconds an availability alert waits (derived from the RTO, see thresholds.py).
    outage_for_seconds: int = 60


def _duration(seconds: int) -> str:
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"


def _alert(name: str, expr: str, for_: str, severity: str, summary: str,
           ctx: RuleContext) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity, "region": ctx.region, "role": ctx.role},
        "annotations": {"summary": summary},
    }


def _workflow_rules(ctx: RuleContext) -> list[dict[str, Any]]:
    if ctx.role == "standby":
        # A standby runs no workflows (its controller/API/workers are at zero);
        # what matters there is whether it could take over (`_standby_rules`).
        return []
    ratio = ctx.tuning.workflow_failure_ratio
    outage = _duration(ctx.outage_for_seconds)
    if ctx.orchestrator == "argo":
        failed = 'sum(increase(argo_workflows_total_count{phase=~"Failed|Error"}[1h]))'
        finished = ('sum(increase(argo_workflows_total_count'
                    '{phase=~"Succeeded|Failed|Error"}[1h]))')
        return [
            _alert("HastackWorkflowFailureRate",
                   f"{failed} / clamp_min({finished}, 1) > {ratio} and {failed} >= 3",
                   "10m", "warning",
                   f"More than {ratio:.0%} of Argo workflows finished in the last hour failed.",
                   ctx),
            _alert("HastackWorkflowControllerUnavailable",
                   "(sum(argo_workflows_is_leader) or vector(0)) < 1",
                   outage, "critical",
                   "No Argo workflow controller holds the leader lease: "
                   "workflows are not being run.", ctx),
            _alert("HastackWorkflowServerUnavailable",
                   f'kube_deployment_status_replicas_available{{namespace="{ARGO_NAMESPACE}",'
                   f'deployment="{ARGO_SERVER}"}} < 1',
                   outage, "critical",
                   "The Argo server has no available replica: UI and API are down.", ctx),
        ]
    done = 'state_name=~"Completed|Failed|Crashed"'
    failed = 'sum(prefect_info_flow_runs{state_name=~"Failed|Crashed"})'
    return [
        _alert("HastackWorkflowFailureRate",
               f"{failed} / clamp_min(sum(prefect_info_flow_runs{{{done}}}), 1) > {ratio}"
               f" and {failed} >= 3",
               "10m", "warning",
               f"More than {ratio:.0%} of recent Prefect flow runs failed or crashed.", ctx),
        _alert("HastackPrefectFlowRunsCrashed",
               'sum(prefect_info_flow_runs{state_name="Crashed"}) > 0',
               "5m", "warning",
               "Prefect flow runs crashed (infrastructure, not code, ended them).", ctx),
        _alert("HastackPrefectFlowRunsLate",
               "max by (work_queue_name) (prefect_work_queues_late_runs_count) > 0",
               "15m", "warning",
               "Prefect flow runs are late: no worker is picking up work queue "
               "{{ $labels.work_queue_name }}.", ctx),
        _alert("HastackWorkflowServerUnavailable",
               f'kube_deployment_status_replicas_available{{namespace="{PREFECT_NAMESPACE}",'
               f'deployment="{PREFECT_SERVER}"}} < 1'
               f' or absent(kube_deployment_status_replicas_available{{'
               f'namespace="{PREFECT_NAMESPACE}",deployment="{PREFECT_SERVER}"}})',
               outage, "critical",
               "The Prefect API has no available replica: flow runs cannot be scheduled.", ctx),
    ]


def _standby_rules(ctx: RuleContext) -> list[dict[str, Any]]:
    if ctx.role != "standby":
        return []
    namespace = ARGO_NAMESPACE if ctx.orchestrator == "argo" else PREFECT_NAMESPACE
    selector = f'namespace="{namespace}"'
    return [_alert(
        "HastackStandbyNotReady",
        f"(kube_deployment_status_replicas_available{{{selector}}}"
        f" < kube_deployment_spec_replicas{{{selector}}})"
        f' or (sum(kube_node_status_condition{{condition="Ready",status="true"}})'
        f" < {STANDBY_MIN_READY_NODES})",
        "15m", "critical",
        "The standby region could not take over: a deployment is short of its replicas "
        f"or fewer than {STANDBY_MIN_READY_NODES} nodes are Ready.", ctx)]


def _cluster_rules(ctx: RuleContext) -> list[dict[str, Any]]:
    restarts = ctx.tuning.pod_restarts_per_hour
    return [
        _alert("HastackPodRestartLoop",
               f"increase(kube_pod_container_status_restarts_total[1h]) > {restarts}",
               "5m", "warning",
               "{{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) "
               f"restarted more than {restarts} times in an hour.", ctx),
        _alert("HastackPdbBlocksDisruptions",
               "kube_poddisruptionbudget_status_pod_disruptions_allowed == 0"
               " and kube_poddisruptionbudget_status_expected_pods > 0",
               f"{ctx.tuning.pdb_blocked_minutes}m", "warning",
               "PodDisruptionBudget {{ $labels.namespace }}/{{ $labels.poddisruptionbudget }} "
               "allows no disruption: node drains and upgrades are blocked.", ctx),
        _alert("HastackNodePressure",
               'kube_node_status_condition{condition=~"MemoryPressure|DiskPressure|PIDPressure",'
               'status="true"} == 1',
               "10m", "warning",
               "Node {{ $labels.node }} reports {{ $labels.condition }}.", ctx),
    ]


def rule_groups(ctx: RuleContext) -> list[dict[str, Any]]:
    """The `spec.groups` of this cluster's PrometheusRule (also a promtool rules file)."""
    return [
        {"name": "hastack.role",
         "rules": [{"record": "hastack:region_role:info", "expr": "vector(1)",
                    "labels": {"region": ctx.region, "role": ctx.role}}]},
        {"name": "hastack.workflows", "rules": [*_workflow_rules(ctx), *_standby_rules(ctx)]},
        {"name": "hastack.cluster", "rules": _cluster_rules(ctx)},
    ]


def alert_names(ctx: RuleContext) -> list[str]:
    return [rule["alert"] for group in rule_groups(ctx) for rule in group["rules"]
            if "alert" in rule]
