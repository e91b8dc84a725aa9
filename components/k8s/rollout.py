"""Can every Deployment's rolling update make progress on the nodes it may use?

The deadlock this guards against: a Deployment with *required* hostname
anti-affinity and the default strategy (maxSurge 25% rounded up = 1,
maxUnavailable 25% rounded down = 0 for fewer than 4 replicas) on exactly
`replicas` nodes. The surge pod has no node without a sibling, no old pod may go
first, Helm waits out its timeout and rolls back. It progresses when at least one
of these holds:

* the anti-affinity is preferred, or the spread is a topology spread constraint
  (a maxSkew-1 spread always has a place for one more pod);
* maxUnavailable >= 1: an old pod goes first and frees its node;
* there are at least `replicas + maxSurge` nodes the pods may use;
* an autoscaler adds a node for a Pending pod, and the pod may run on such a node.

The chart models below read, from the values a Release receives, what each chart
renders into its Deployments (replicas, strategy, affinity), with the chart
defaults the charts' values.yaml and templates document.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

HOST_KEY = "kubernetes.io/hostname"
DEFAULT_SURGE = DEFAULT_UNAVAILABLE = "25%"


@dataclass(frozen=True)
class RolloutShape:
    """One Deployment as a rolling update sees it."""

    workload: str
    # Worst case: the HPA maximum when the chart renders an HPA.
    replicas: int
    max_surge: int
    max_unavailable: int
    required_host_anti_affinity: bool
    # False for pods that must not run on autoscaler-made nodes (Karpenter itself).
    may_use_autoscaled_nodes: bool = True


@dataclass(frozen=True)
class Capacity:
    """The nodes a cluster always has, and whether more appear for Pending pods."""

    min_nodes: int
    autoscaler: bool


def _amount(raw: Any, replicas: int, round_up: bool) -> int:
    if isinstance(raw, str) and raw.endswith("%"):
        exact = int(raw[:-1]) * replicas / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(raw)


def shape(workload: str, replicas: int, rolling: Mapping[str, Any] | None,
          affinity: Mapping[str, Any] | None, *, may_use_autoscaled_nodes: bool = True
          ) -> RolloutShape:
    """A Deployment from its replicas, `strategy.rollingUpdate` and `affinity`."""
    rolling = rolling or {}
    surge = rolling.get("maxSurge", DEFAULT_SURGE)
    unavailable = rolling.get("maxUnavailable", DEFAULT_UNAVAILABLE)
    return RolloutShape(
        workload, replicas, _amount(surge, replicas, round_up=True),
        _amount(unavailable, replicas, round_up=False),
        required_on_hostname(affinity), may_use_autoscaled_nodes)


def required_on_hostname(affinity: Mapping[str, Any] | None) -> bool:
    terms = ((affinity or {}).get("podAntiAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution") or []
    return any(term.get("topologyKey") == HOST_KEY for term in terms)


def blocked(rollout: RolloutShape, capacity: Capacity) -> str | None:
    """Why this rolling update cannot finish, or None when it can."""
    if rollout.replicas == 0 or not rollout.required_host_anti_affinity:
        return None
    grows = capacity.autoscaler and rollout.may_use_autoscaled_nodes
    if rollout.replicas > capacity.min_nodes and not grows:
        return (f"{rollout.workload}: {rollout.replicas} replicas need one node each "
                f"(required hostname anti-affinity) but only {capacity.min_nodes} are "
                "guaranteed and no autoscaler adds nodes for them")
    if rollout.max_unavailable >= 1 or grows:
        return None
    if capacity.min_nodes >= rollout.replicas + rollout.max_surge:
        return None
    return (f"{rollout.workload}: a rolling update needs {rollout.replicas} + "
            f"{rollout.max_surge} (maxSurge) nodes with required hostname anti-affinity and "
            f"maxUnavailable 0, but only {capacity.min_nodes} are guaranteed and no "
            "autoscaler adds one: the surge pod stays Pending")


# --- chart models ------------------------------------------------------------------------


def _get(values: Mapping[str, Any], *path: str, default: Any = None) -> Any:
    node: Any = values
    for step in path:
        if not isinstance(node, Mapping) or step not in node:
            return default
        node = node[step]
    return node


def _replicas(values: Mapping[str, Any], section: tuple[str, ...], key: str, default: int
              ) -> int:
    if _get(values, *section, "autoscaling", "enabled", default=False):
        return int(_get(values, *section, "autoscaling", "maxReplicas", default=1))
    return int(_get(values, *section, key, default=default))


def _prefect_server(release: str, values: Mapping[str, Any]) -> list[RolloutShape]:
    found = [shape(f"{release}/server", _replicas(values, ("server",), "replicaCount", 1),
                   _get(values, "server", "updateStrategy", "rollingUpdate"),
                   _get(values, "server", "affinity"))]
    if _get(values, "backgroundServices", "runAsSeparateDeployment", default=False):
        # The chart has no strategy key for background services: Kubernetes defaults.
        found.append(shape(f"{release}/background-services",
                           int(_get(values, "backgroundServices", "replicaCount", default=1)),
                           None, _get(values, "backgroundServices", "affinity")))
    return found


def _prefect_worker(release: str, values: Mapping[str, Any]) -> list[RolloutShape]:
    # No strategy key in the chart: Kubernetes defaults.
    return [shape(f"{release}/worker", _replicas(values, ("worker",), "replicaCount", 1),
                  None, _get(values, "worker", "affinity"))]


def _argo(release: str, values: Mapping[str, Any]) -> list[RolloutShape]:
    parts = ["controller"] + (["server"] if _get(values, "server", "enabled", default=True)
                              else [])
    return [shape(f"{release}/{part}", _replicas(values, (part,), "replicas", 1), None,
                  _get(values, part, "affinity")) for part in parts]


def _load_balancer_controller(release: str, values: Mapping[str, Any]) -> list[RolloutShape]:
    # configureDefaultAffinity (default true) is *preferred* hostname anti-affinity.
    return [shape(release, _replicas(values, (), "replicaCount", 2),
                  _get(values, "updateStrategy", "rollingUpdate"), _get(values, "affinity"))]


def _metrics_server(release: str, values: Mapping[str, Any]) -> list[RolloutShape]:
    return [shape(release, int(_get(values, "replicas", default=1)),
                  _get(values, "updateStrategy", "rollingUpdate"), _get(values, "affinity"))]


_KARPENTER_DEFAULT_AFFINITY = {"podAntiAffinity": {
    "requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": HOST_KEY}]}}


def _karpenter(release: str, values: Mapping[str, Any]) -> list[RolloutShape]:
    # Chart defaults: required hostname anti-affinity (maps merge, so it stays unless
    # replaced), strategy maxUnavailable 1, and never on Karpenter's own nodes.
    affinity = _get(values, "affinity", default=_KARPENTER_DEFAULT_AFFINITY)
    if "podAntiAffinity" not in affinity:
        affinity = {**affinity, **_KARPENTER_DEFAULT_AFFINITY}
    rolling = _get(values, "strategy", "rollingUpdate", default={"maxUnavailable": 1})
    return [shape(release, int(_get(values, "replicas", default=2)), rolling, affinity,
                  may_use_autoscaled_nodes=False)]


def _kube_prometheus_stack(release: str, values: Mapping[str, Any]) -> list[RolloutShape]:
    # The chart's Deployments: the operator (hard-coded 1 replica), kube-state-metrics
    # and Grafana (1 each, chart defaults). Prometheus and Alertmanager are
    # StatefulSets the operator rolls one pod at a time behind their PDBs.
    return [shape(f"{release}-operator", 1, None, None),
            shape(f"{release}-kube-state-metrics", 1, None, None),
            shape(f"{release}-grafana", 1, None, None)]


def _prefect_exporter(release: str, values: Mapping[str, Any]) -> list[RolloutShape]:
    return [shape(release, int(_get(values, "replicaCount", default=1)), None,
                  _get(values, "affinity"))]


CHART_MODELS = {
    "kube-prometheus-stack": _kube_prometheus_stack,
    "prometheus-prefect-exporter": _prefect_exporter,
    "prefect-server": _prefect_server,
    "prefect-worker": _prefect_worker,
    "argo-workflows": _argo,
    "aws-load-balancer-controller": _load_balancer_controller,
    "metrics-server": _metrics_server,
    "karpenter": _karpenter,
}
AUTOSCALER_CHARTS = frozenset({"karpenter", "cluster-autoscaler"})


def chart_name(chart: str) -> str:
    return chart.rstrip("/").rsplit("/", 1)[-1]


def release_shapes(chart: str, release: str, values: Mapping[str, Any]) -> list[RolloutShape]:
    """The Deployments a Release renders; KeyError for a chart nobody modelled."""
    return CHART_MODELS[chart_name(chart)](release, values)


def plan_blockers(resources: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Per region of a plan (its JSON `resources`): every rolling update that cannot finish.

    Capacity is the managed node groups' (EKS) or node pools' (GKE) minimum; the
    autoscaler is a Karpenter/cluster-autoscaler Release in that region, or GKE node
    pool autoscaling.
    """
    resources = list(resources)
    min_nodes: dict[str, int] = {}
    autoscaled: set[str] = set()
    for resource in resources:
        region, inputs = str(resource.get("region")), resource.get("inputs") or {}
        if resource["type"] == "aws:eks/nodeGroup:NodeGroup":
            min_nodes[region] = min_nodes.get(region, 0) + int(
                inputs["scalingConfig"]["minSize"])
        elif resource["type"] == "gcp:container/nodePool:NodePool":
            scaling = inputs.get("autoscaling") or {}
            if not (inputs.get("nodeConfig") or {}).get("taints"):
                min_nodes[region] = min_nodes.get(region, 0) + int(
                    scaling.get("totalMinNodeCount", inputs.get("initialNodeCount", 0)))
            if scaling:
                autoscaled.add(region)
        elif (resource["type"] == "kubernetes:helm.sh/v3:Release"
              and chart_name(str(inputs.get("chart", ""))) in AUTOSCALER_CHARTS):
            autoscaled.add(region)
    problems: dict[str, list[str]] = {}
    for resource in resources:
        if resource["type"] != "kubernetes:helm.sh/v3:Release":
            continue
        region, inputs = str(resource.get("region")), resource["inputs"]
        capacity = Capacity(min_nodes.get(region, 0), region in autoscaled)
        for rollout in release_shapes(str(inputs["chart"]), str(inputs["name"]),
                                      inputs.get("values") or {}):
            reason = blocked(rollout, capacity)
            if reason:
                problems.setdefault(region, []).append(reason)
    return problems
