"""Cluster add-ons: controllers run HA, and what needs a controller has one in its cluster.

Add-on charts ship no values.schema.json, so their HA settings are read from the
values a Release receives, with each chart's documented defaults (the charts'
values.yaml): the replica key, and whether and when the chart renders a PDB.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulumi_policy import PolicyResource

from hastack_policies.catalogue import (
    HA,
    HIGH,
    Report,
    StackSubject,
    Subject,
    own,
    resource_rule,
    setting,
    stack_rule,
)
from hastack_policies.kubernetes import DEFERRED_VALUES, chart_name
from hastack_policies.tokens import HELM_RELEASE
from hastack_policies.values import as_int, is_unknown, peek, truthy, value

LOAD_BALANCER_CONTROLLER = "aws-load-balancer-controller"
TARGET_GROUP_BINDING_GROUP = "kubernetes:elbv2.k8s.aws/"


def _replicas(values: Any, key: str, default: int) -> int:
    if truthy(value(values, "autoscaling", "enabled", default=False)):
        return as_int(value(values, "autoscaling", "minReplicas", default=1), 1)
    return as_int(value(values, key, default=default), default)


def _lbc(values: Any) -> tuple[int, bool]:
    replicas = _replicas(values, "replicaCount", 2)
    # The chart renders its PDB only when the map is non-empty AND replicas > 1.
    return replicas, bool(value(values, "podDisruptionBudget", default={})) and replicas > 1


def _karpenter(values: Any) -> tuple[int, bool]:
    # The chart's PDB always renders (no switch).
    return as_int(value(values, "replicas", default=2), 2), True


def _metrics_server(values: Any) -> tuple[int, bool]:
    return (as_int(value(values, "replicas", default=1), 1),
            truthy(value(values, "podDisruptionBudget", "enabled", default=False)))


def _cluster_autoscaler(values: Any) -> tuple[int, bool]:
    # The default PDB ({maxUnavailable: 1}) always renders.
    return as_int(value(values, "replicaCount", default=1), 1), True


# chart -> (replicas, renders a PDB) from its values
CONTROLLERS: dict[str, Callable[[Any], tuple[int, bool]]] = {
    LOAD_BALANCER_CONTROLLER: _lbc,
    "karpenter": _karpenter,
    "metrics-server": _metrics_server,
    "cluster-autoscaler": _cluster_autoscaler,
}


@resource_rule(
    name="addon-controllers-ha",
    description="Cluster add-on controllers (load balancer controller, Karpenter, "
                "metrics-server, cluster-autoscaler) run >= 2 replicas with a PDB.",
    severity=HIGH, levels=HA,
    anchors=(own("HA-K8S-4"),),
    types=(HELM_RELEASE,),
    remediation="Set the chart's replica count to >= 2 and its PodDisruptionBudget "
                "(see components/addons/).",
    settings={"minReplicas": setting("integer", 2, "Fewest replicas of an add-on controller")},
)
def addon_controllers_ha(subject: Subject, report: Report) -> None:
    chart = chart_name(subject.props)
    if chart not in CONTROLLERS:
        return
    if is_unknown(peek(subject.props, "values")):
        subject.defer(DEFERRED_VALUES)
    replicas, pdb = CONTROLLERS[chart](value(subject.props, "values", default={}))
    if replicas < subject.config["minReplicas"]:
        report(f"{chart} runs {replicas} replica(s) (< {subject.config['minReplicas']}): while "
               "it restarts, nothing reconciles and its webhooks do not answer.")
    if not pdb:
        report(f"{chart} renders no PodDisruptionBudget: a node drain may evict every replica.")


def is_target_group_binding(kind: str) -> bool:
    # Any served version of the CRD (v1alpha1, v1beta1).
    return kind.startswith(TARGET_GROUP_BINDING_GROUP) and kind.endswith(":TargetGroupBinding")


def _cluster_of(resource: PolicyResource) -> str:
    """The Kubernetes provider (one per cluster) a resource is sent to."""
    provider = resource.provider
    return provider.urn if provider is not None else ""


@stack_rule(
    name="target-group-binding-served",
    description="Every TargetGroupBinding is served by an AWS Load Balancer Controller "
                "Release installed in the same cluster.",
    severity=HIGH, levels=HA,
    anchors=(own("HA-K8S-5"),),
    remediation="Install components/addons/aws_load_balancer_controller.py in that cluster "
                "(it is in components/addons/catalog.py).",
)
def target_group_binding_served(stack: StackSubject, report: Report) -> None:
    served = {_cluster_of(r) for r in stack.resources
              if r.resource_type == HELM_RELEASE
              and chart_name(r.props) == LOAD_BALANCER_CONTROLLER}
    for resource in stack.resources:
        if is_target_group_binding(resource.resource_type) and (
                _cluster_of(resource) not in served):
            report("no aws-load-balancer-controller Release in this cluster: the pods are "
                   "never registered with the target group, which stays unhealthy.",
                   resource.urn)
