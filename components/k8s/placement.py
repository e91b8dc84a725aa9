"""Where orchestrator pods may run: spread over zones first, then over nodes.

Why zones are only *preferred*: when a zone is lost its nodes stay registered
for a while, and a hard zone constraint would then refuse to reschedule the
evicted replicas into the surviving zones, which is exactly when we need them.
Nodes are a hard constraint outside dev so two replicas never share a node
(one node failure must not take out a quorum). A rolling update must still find
room for its new pod: either the Deployment replaces before it adds (maxSurge 0,
maxUnavailable 1) or an autoscaler adds a node for it; components/k8s/rollout.py
checks every Deployment of a plan for one of the two.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.base import Tier
from hastack.config.tiers import profile

ZONE_KEY = "topology.kubernetes.io/zone"
HOST_KEY = "kubernetes.io/hostname"


def _hard_on_nodes(tier: Tier) -> bool:
    # Dev clusters are small; a hard rule there would leave replicas Pending
    # (the tier profile's `spread_required`, hastack/config/tiers.py).
    return profile(tier).spread_required


def topology_spread(tier: Tier) -> list[dict[str, Any]]:
    """`topologySpreadConstraints` without `labelSelector`.

    The argo-workflows chart fills in each deployment's own selector labels when
    `labelSelector` is absent (templates/*/…-deployment.yaml), which is more
    robust than repeating the chart's labels here.
    """
    return [
        {"maxSkew": 1, "topologyKey": ZONE_KEY, "whenUnsatisfiable": "ScheduleAnyway"},
        {"maxSkew": 1, "topologyKey": HOST_KEY,
         "whenUnsatisfiable": "DoNotSchedule" if _hard_on_nodes(tier) else "ScheduleAnyway"},
    ]


def anti_affinity(match_labels: Mapping[str, str], tier: Tier, *,
                  hard_on_nodes: bool | None = None) -> dict[str, Any]:
    """Pod anti-affinity for charts that expose `affinity` but no topology spread.

    The prefect-server and prefect-worker charts have no `topologySpreadConstraints`
    value (their schemas forbid unknown keys), so zone spreading is expressed as
    preferred anti-affinity on the zone and node separation as required (or, in dev,
    preferred) anti-affinity on the hostname.
    """
    hard = _hard_on_nodes(tier) if hard_on_nodes is None else hard_on_nodes
    selector = {"matchLabels": dict(match_labels)}
    zone_term = {"weight": 100,
                 "podAffinityTerm": {"labelSelector": selector, "topologyKey": ZONE_KEY}}
    host_term = {"labelSelector": selector, "topologyKey": HOST_KEY}
    if hard:
        return {"podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [zone_term],
            "requiredDuringSchedulingIgnoredDuringExecution": [host_term],
        }}
    return {"podAntiAffinity": {
        "preferredDuringSchedulingIgnoredDuringExecution": [
            zone_term, {"weight": 50, "podAffinityTerm": host_term}],
    }}


# How long pods stay bound to a node that stopped reporting. Kubernetes adds 300 s
# (DefaultTolerationSeconds) to every pod without its own value, so a pod that is
# alone on a dead node is re-created only after node grace (50 s) + 300 s. 30 s keeps
# a brief kubelet hiccup from evicting pods while bounding that wait.
EVICTION_TOLERATION_SECONDS = 30
_NODE_PROBLEM_TAINTS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")


def eviction_tolerations(seconds: int = EVICTION_TOLERATION_SECONDS) -> list[dict[str, Any]]:
    """Pod `tolerations` that shorten the not-ready/unreachable NoExecute grace."""
    return [{"key": key, "operator": "Exists", "effect": "NoExecute",
             "tolerationSeconds": seconds} for key in _NODE_PROBLEM_TAINTS]
