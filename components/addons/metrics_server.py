"""metrics-server: the resource metrics API (`metrics.k8s.io`) that HPAs scale on.

HA as the project's own high-availability manifest does it: two replicas with
required hostname anti-affinity (no leader election: each replica serves the API on
its own), a PDB, and a rolling update that takes one old pod down before starting a
new one (maxSurge 0), so the required anti-affinity can never leave the new pod
Pending on a two-node cluster. Zones are a preferred spread on top.

It makes no AWS calls, so it has no cloud identity. The HPAs that use it are
rendered by the orchestrator charts themselves (see components/k8s/prefect.py).
"""

from __future__ import annotations

from typing import Any

from components.addons.base import AddOn, ClusterContext, pod_labels, zone_spread
from components.k8s.charts import METRICS_SERVER
from components.k8s.placement import HOST_KEY

NAME = "metrics-server"
NAMESPACE = "kube-system"
RELEASE = "metrics-server"
REPLICAS = 2


def values(_ctx: ClusterContext) -> dict[str, Any]:
    labels = pod_labels(NAME, RELEASE)
    return {
        "replicas": REPLICAS,
        "podDisruptionBudget": {"enabled": True, "minAvailable": 1,
                                # A crash-looping replica must not block node drains.
                                "unhealthyPodEvictionPolicy": "AlwaysAllow"},
        "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": labels}, "topologyKey": HOST_KEY}]}},
        "topologySpreadConstraints": zone_spread(labels),
        "updateStrategy": {"type": "RollingUpdate",
                           "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}},
    }


ADDON = AddOn(
    name=NAME,
    chart=METRICS_SERVER,
    namespace=NAMESPACE,
    release_name=RELEASE,
    values=values,
    # Its Service is created through the load balancer controller's fail-closed webhook.
    after=("aws-load-balancer-controller",),
    clouds=frozenset({"aws"}),
)
