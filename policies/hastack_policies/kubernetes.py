"""Kubernetes and Helm: pinned charts, HA chart values, disruption budgets, pod hygiene.

Helm values are often computed from other resources (a database host, a bucket
name); in a first preview the whole `values` input can then be unknown. Rules that
read values defer such a release (reported as not-applicable with the reason) and
`pulumi up` judges it once the values are known.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource

from hastack_policies.catalogue import (
    HA,
    HA_COSTLY,
    HIGH,
    MEDIUM,
    OPERATIONS,
    SECURITY,
    Report,
    StackSubject,
    Subject,
    floor_setting,
    own,
    resource_rule,
    stack_rule,
)
from hastack_policies.graph import StackGraph
from hastack_policies.tokens import DEPLOYMENT, HELM_CHART_V4, HELM_RELEASE, PDB, STATEFUL_SET
from hastack_policies.values import as_int, is_set, is_unknown, items, peek, truthy, value

EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$")
PREFECT_SERVER_CHART = "prefect-server"
ARGO_WORKFLOWS_CHART = "argo-workflows"
DEFERRED_VALUES = ("values are computed from other resources' outputs; checked again at "
                   "`pulumi up`")


def chart_name(props: Any) -> str:
    """'oci://ghcr.io/x/prefect-server' or 'prefect/prefect-server' -> 'prefect-server'."""
    chart = peek(props, "chart")
    return chart.rstrip("/").rsplit("/", 1)[-1] if isinstance(chart, str) else ""


def _known_values(subject: Subject) -> Any:
    if is_unknown(peek(subject.props, "values")):
        subject.defer(DEFERRED_VALUES)
    return value(subject.props, "values", default={})


@resource_rule(
    name="helm-chart-version-pinned",
    description="Helm releases pin an exact chart version (no range, no 'latest').",
    severity=HIGH, levels=SECURITY,
    anchors=(own("SEC-K8S-1"),),
    types=(HELM_RELEASE, HELM_CHART_V4),
    remediation="Set version to an exact chart version (components/k8s/charts.py).",
)
def helm_chart_version_pinned(subject: Subject, report: Report) -> None:
    version = value(subject.props, "version")
    if not version:
        report("version is not set: every `pulumi up` may install a different chart.")
    elif not EXACT_VERSION.match(str(version)):
        report(f"version {version!r} is a range or tag, not an exact version.")


def prefect_server_replicas(values: Any) -> int:
    if truthy(value(values, "server", "autoscaling", "enabled", default=False)):
        return as_int(value(values, "server", "autoscaling", "minReplicas", default=1), 1)
    return as_int(value(values, "server", "replicaCount", default=1), 1)


@resource_rule(
    name="prefect-server-ha-values",
    description="The Prefect server runs >= 2 replicas with background services split out "
                "and Redis as the message broker.",
    severity=HIGH, levels=HA_COSTLY,
    anchors=(own("HA-K8S-1"),),
    types=(HELM_RELEASE,),
    remediation="Set server.replicaCount >= 2, backgroundServices.runAsSeparateDeployment="
                "true and redis.enabled=true (or backgroundServices.messaging.redis.host).",
    settings={"minReplicas": floor_setting("workflows.serverReplicas",
                                           "Fewest Prefect server replicas")},
)
def prefect_server_ha_values(subject: Subject, report: Report) -> None:
    if chart_name(subject.props) != PREFECT_SERVER_CHART:
        return
    values = _known_values(subject)
    replicas = prefect_server_replicas(values)
    if replicas == 0:
        return  # a warm standby (secondary region): nothing serves, so nothing to spread
    if replicas < subject.config["minReplicas"]:
        report(f"server.replicaCount is {replicas} (< {subject.config['minReplicas']}).")
    # Several API replicas each running the scheduler and other loops would race.
    if not truthy(value(values, "backgroundServices", "runAsSeparateDeployment",
                        default=False)):
        report("backgroundServices.runAsSeparateDeployment is not true.")
    redis = truthy(value(values, "redis", "enabled", default=False)) or is_set(
        values, "backgroundServices", "messaging", "redis", "host")
    if not redis:
        report("no Redis: neither redis.enabled nor backgroundServices.messaging.redis.host "
               "is set, so replicas cannot share events.")


@resource_rule(
    name="argo-workflows-ha-values",
    description="The Argo Workflows controller and server run >= 2 replicas with PDBs.",
    severity=HIGH, levels=HA_COSTLY,
    anchors=(own("HA-K8S-2"),),
    types=(HELM_RELEASE,),
    remediation="Set controller.replicas and server.replicas >= 2 and "
                "controller.pdb.enabled / server.pdb.enabled true.",
    settings={"minReplicas": floor_setting("workflows.controllerReplicas",
                                           "Fewest controller and server replicas")},
)
def argo_workflows_ha_values(subject: Subject, report: Report) -> None:
    if chart_name(subject.props) != ARGO_WORKFLOWS_CHART:
        return
    values = _known_values(subject)
    if as_int(value(values, "controller", "replicas", default=1), 1) == 0:
        return  # a warm standby: the controller waits for promotion, nothing to spread
    parts = ["controller"]
    if value(values, "server", "enabled", default=True) is not False:
        parts.append("server")
    for part in parts:
        replicas = as_int(value(values, part, "replicas", default=1), 1)
        if replicas < subject.config["minReplicas"]:
            report(f"{part}.replicas is {replicas} (< {subject.config['minReplicas']}).")
        if not truthy(value(values, part, "pdb", "enabled", default=False)):
            report(f"{part}.pdb.enabled is not true.")


# --- disruption budgets --------------------------------------------------------------

def _namespace_of(resource: PolicyResource, *path: str) -> str | None:
    """A namespace identity: its literal name, or the Namespace resource it came from."""
    raw = peek(resource.props, *path)
    if isinstance(raw, str) and raw and not is_unknown(raw):
        return raw
    for dep in StackGraph.referenced(resource, path[0]):
        if dep.resource_type == "kubernetes:core/v1:Namespace":
            name = peek(dep.props, "metadata", "name")
            return name if isinstance(name, str) and not is_unknown(name) else dep.urn
    return None


class Workload:
    def __init__(self, resource: PolicyResource, labels: Mapping[str, Any], replicas: int,
                 namespace: str | None) -> None:
        self.resource, self.labels, self.replicas, self.namespace = (
            resource, labels, replicas, namespace)


def _workloads(graph: StackGraph) -> list[Workload]:
    found = []
    for resource in graph.of_type(DEPLOYMENT, STATEFUL_SET):
        replicas = as_int(peek(resource.props, "spec", "replicas"), 1)
        labels = peek(resource.props, "spec", "template", "metadata", "labels")
        if replicas >= 2 and isinstance(labels, Mapping):
            found.append(Workload(resource, dict(labels), replicas,
                                  _namespace_of(resource, "metadata", "namespace")))
    for release in graph.of_type(HELM_RELEASE):
        values = peek(release.props, "values")
        if chart_name(release.props) != PREFECT_SERVER_CHART or is_unknown(values):
            continue
        replicas = prefect_server_replicas(values)
        name = peek(release.props, "name")
        if replicas >= 2 and isinstance(name, str) and not is_unknown(name):
            labels = {
                # What the chart's selector carries (bitnami common.labels.matchLabels).
                "app.kubernetes.io/name": peek(values, "nameOverride") or PREFECT_SERVER_CHART,
                "app.kubernetes.io/instance": name,
                "app.kubernetes.io/component": "server",
            }
            found.append(Workload(release, labels, replicas, _namespace_of(release, "namespace")))
    return found


class _BudgetIndex:
    """Budgets by one of their selector's labels, each selector and namespace read once.

    A budget selects a workload when every label of its selector is on the workload and
    their namespaces agree (or one is not known). A workload meets only the budgets that
    share a label with it, so the rule stays linear in the stack rather than budgets x
    workloads; `selecting` returns them in the budgets' order.
    """

    def __init__(self, budgets: list[PolicyResource]) -> None:
        self._budgets: list[tuple[PolicyResource, Mapping[str, Any], str | None]] = []
        self._by_label: dict[tuple[str, Any], list[int]] = {}
        self._unindexed: list[int] = []
        for pdb in budgets:
            selector = peek(pdb.props, "spec", "selector", "matchLabels")
            if not isinstance(selector, Mapping) or not selector:
                continue  # selects nothing
            position = len(self._budgets)
            self._budgets.append((pdb, selector, _namespace_of(pdb, "metadata", "namespace")))
            key = min(selector, key=str)
            try:
                self._by_label.setdefault((key, selector[key]), []).append(position)
            except TypeError:  # an unhashable label value: compared the slow way
                self._unindexed.append(position)

    def selecting(self, workload: Workload) -> Iterator[PolicyResource]:
        positions = set(self._unindexed)
        for label in workload.labels.items():
            try:
                positions.update(self._by_label.get(label, ()))
            except TypeError:
                continue
        for position in sorted(positions):
            pdb, selector, namespace = self._budgets[position]
            if (all(workload.labels.get(key) == wanted for key, wanted in selector.items())
                    and (namespace is None or workload.namespace is None
                         or namespace == workload.namespace)):
                yield pdb


def _allows_disruption(pdb: PolicyResource, replicas: int) -> bool:
    max_unavailable = peek(pdb.props, "spec", "maxUnavailable")
    min_available = peek(pdb.props, "spec", "minAvailable")
    if max_unavailable is not None:
        return _amount(max_unavailable, replicas) >= 1
    if min_available is not None:
        return _amount(min_available, replicas) < replicas
    return False


def _amount(raw: Any, replicas: int) -> int:
    if isinstance(raw, str) and raw.endswith("%"):
        # Kubernetes rounds maxUnavailable percentages up as well as minAvailable ones.
        percent = as_int(raw[:-1])
        return -(-percent * replicas // 100)
    return as_int(raw)


@stack_rule(
    name="k8s-pdb-coverage",
    description="Every multi-replica workload has a PodDisruptionBudget that selects it "
                "and still allows one pod to be evicted.",
    severity=HIGH, levels=HA,
    anchors=(own("HA-K8S-3"),),
    remediation="Add a policy/v1 PodDisruptionBudget in the workload's namespace with "
                "matchLabels from its pod template and maxUnavailable: 1.",
)
def k8s_pdb_coverage(stack: StackSubject, report: Report) -> None:
    graph = StackGraph(stack.resources)
    budgets = _BudgetIndex(graph.of_type(PDB))
    for workload in _workloads(graph):
        selected = False
        for pdb in budgets.selecting(workload):
            selected = True
            if _allows_disruption(pdb, workload.replicas):
                break
        else:
            if not selected:
                report(f"{workload.replicas} replicas but no PodDisruptionBudget selects "
                       "them; a node drain can take them all at once.", workload.resource.urn)
            else:
                report("its PodDisruptionBudget allows no eviction, which blocks node "
                       "drains and upgrades.", workload.resource.urn)


@resource_rule(
    name="k8s-resources-and-probes",
    description="Platform-defined Deployments set CPU/memory requests, a memory limit and "
                "readiness and liveness probes.",
    severity=MEDIUM, levels=OPERATIONS,
    anchors=(own("OPS-K8S-1"),),
    types=(DEPLOYMENT, STATEFUL_SET),
    remediation="Give every container resources.requests.{cpu,memory}, "
                "resources.limits.memory, readinessProbe and livenessProbe.",
)
def k8s_resources_and_probes(subject: Subject, report: Report) -> None:
    spec = peek(subject.props, "spec")
    if is_unknown(spec):
        subject.defer("the pod spec is computed from other resources' outputs")
    containers = items(subject.props, "spec", "template", "spec", "containers")
    for container in containers:
        name = value(container, "name", default="?")
        missing = [path for path, present in (
            ("resources.requests.cpu", is_set(container, "resources", "requests", "cpu")),
            ("resources.requests.memory", is_set(container, "resources", "requests", "memory")),
            ("resources.limits.memory", is_set(container, "resources", "limits", "memory")),
            ("readinessProbe", is_set(container, "readinessProbe")),
            ("livenessProbe", is_set(container, "livenessProbe")),
        ) if not present]
        if missing:
            report(f"container {name} lacks {', '.join(missing)}.")
