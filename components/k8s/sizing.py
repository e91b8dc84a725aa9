"""Replica counts and container resources per tier.

Replica floors are HA decisions, not capacity ones: two API replicas survive a
node or zone loss, and prod runs three so a rolling update during a zone outage
still leaves two serving. Requested counts above the floor are honoured.
"""

from __future__ import annotations

from typing import Any, Literal

from components.base import Tier
from hastack.config.tiers import floor

Workload = Literal["api", "background", "worker", "controller"]

# The tier profile's floors (hastack/config/tiers.py); background services have no
# stack key and share the API's zone-loss argument at two replicas.
_FLOOR_KEYS: dict[Workload, str] = {"api": "workflows.serverReplicas",
                                    "worker": "workflows.workerReplicas",
                                    "controller": "workflows.controllerReplicas"}
_BACKGROUND_FLOOR = 2

# (cpu request, memory request, cpu limit, memory limit). Memory limit == request
# in prod so the scheduler's view matches what the kernel enforces (no OOM surprises
# under node pressure); CPU is left burstable.
_PROFILES: dict[Tier, dict[Workload, tuple[str, str, str, str]]] = {
    "dev": {
        "api": ("250m", "512Mi", "1", "1Gi"),
        "background": ("100m", "256Mi", "500m", "512Mi"),
        "worker": ("100m", "256Mi", "500m", "512Mi"),
        "controller": ("100m", "256Mi", "500m", "512Mi"),
    },
    "staging": {
        "api": ("500m", "1Gi", "2", "2Gi"),
        "background": ("250m", "512Mi", "1", "1Gi"),
        "worker": ("250m", "512Mi", "1", "1Gi"),
        "controller": ("250m", "512Mi", "1", "1Gi"),
    },
    "prod": {
        "api": ("1", "2Gi", "2", "2Gi"),
        "background": ("500m", "1Gi", "1", "1Gi"),
        "worker": ("500m", "1Gi", "1", "1Gi"),
        "controller": ("500m", "1Gi", "2", "1Gi"),
    },
}


def replicas(tier: Tier, workload: Workload, requested: int = 0) -> int:
    """The replica count: the request, but never below the tier's HA floor."""
    key = _FLOOR_KEYS.get(workload)
    return max(requested, floor(tier, key) if key else _BACKGROUND_FLOOR)


def resources(tier: Tier, workload: Workload) -> dict[str, Any]:
    """A Kubernetes `resources` block (strings only: the Prefect schemas require them)."""
    cpu_req, mem_req, cpu_lim, mem_lim = _PROFILES[tier][workload]
    return {"requests": {"cpu": cpu_req, "memory": mem_req},
            "limits": {"cpu": cpu_lim, "memory": mem_lim}}
