"""Which orchestrator Deployments a failover scales, read from the workloads plans.

The orchestrator charts are installed in both regions; the standby's values scale
what writes to zero (components/k8s/prefect.py and argo.py `_standby_overrides`).
The Deployment names follow the charts' templates with our `fullnameOverride`:
prefect-server and prefect-worker render `<fullname>`; argo-workflows renders
`<fullname>-workflow-controller` and `<fullname>-server`. The replica counts are the
ones the active region's plan renders (the tier floors of components/k8s/sizing.py
plus the stack's requests), except for the Prefect API, see `PREFECT_BRIDGE_REPLICAS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RELEASE = "kubernetes:helm.sh/v3:Release"
# On a GCP standby the Prefect API runs its background services in-process (the chart
# renders no background-services Deployment there), with in-memory messaging: one
# such pod is the chart's supported shape, several would each run the schedulers
# without a shared broker. One pod serves until `pulumi up` of the workloads stack
# renders the active shape (separate background services, Redis messaging, the
# API replica floor).
PREFECT_BRIDGE_REPLICAS = 1


def _releases(plan: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """chart name -> the release's inputs."""
    return {str(r["inputs"].get("chart")): r["inputs"] for r in plan.get("resources", [])
            if r.get("type") == RELEASE}


def _fullname(release: Mapping[str, Any]) -> str:
    return str((release.get("values") or {}).get("fullnameOverride") or release["name"])


def _get(values: Mapping[str, Any], *path: str) -> Any:
    node: Any = values
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def _count(values: Mapping[str, Any], section: str, key: str) -> int:
    """What the active plan runs: the HPA's floor when autoscaling, else the count."""
    if _get(values, section, "autoscaling", "enabled"):
        return int(_get(values, section, "autoscaling", "minReplicas") or 1)
    return int(_get(values, section, key) or 0)


def orchestrator_deployments(active_plan: Mapping[str, Any],
                             replicas_from: Mapping[str, Any] | None = None,
                             ) -> list[dict[str, Any]]:
    """[{namespace, name, replicas}] of the orchestrator in `active_plan`'s cluster.

    `replicas_from` is the plan whose counts to use (the currently active region's);
    by default `active_plan`'s own. Zero replicas everywhere = stop every writer.
    """
    counts = _releases(replicas_from or active_plan)
    found: list[dict[str, Any]] = []
    for chart, release in sorted(_releases(active_plan).items()):
        namespace, fullname = str(release.get("namespace")), _fullname(release)
        values = (counts.get(chart) or release).get("values") or {}
        if chart == "prefect-server":
            found.append({"namespace": namespace, "name": fullname,
                          "replicas": PREFECT_BRIDGE_REPLICAS})
        elif chart == "prefect-worker":
            found.append({"namespace": namespace, "name": fullname,
                          "replicas": _count(values, "worker", "replicaCount")})
        elif chart == "argo-workflows":
            found += [{"namespace": namespace, "name": f"{fullname}-workflow-controller",
                       "replicas": _count(values, "controller", "replicas")},
                      {"namespace": namespace, "name": f"{fullname}-server",
                       "replicas": _count(values, "server", "replicas")}]
    return found
