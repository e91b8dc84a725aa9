"""The GCP node drill: cordon one node of the system pool and drain it through the Kubernetes API.

GKE has no drain operation (its API resizes, upgrades or rolls back node pools), so
this is what `kubectl drain` does, on the REST API: PATCH the node unschedulable;
list its pods; POST a policy/v1 Eviction for each pod that is neither a DaemonSet's
nor a mirror pod (the API server refuses an eviction a PodDisruptionBudget forbids
with 429: retried after a poll, as kubectl does); poll until none is left. The
Kubernetes API keeps no event history of a drain, so the phases are timed by this
client's clock and say so (`source` ... (poll)).
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from hastack.drill.clock import Clock, iso, timed
from hastack.kube import KubeApi

POOL_LABEL = "cloud.google.com/gke-nodepool"


def _evictable(pod: dict[str, Any]) -> bool:
    meta = pod.get("metadata", {})
    if "kubernetes.io/config.mirror" in (meta.get("annotations") or {}):
        return False
    owners = meta.get("ownerReferences") or []
    done = pod.get("status", {}).get("phase") in ("Succeeded", "Failed")
    return not done and not any(o.get("kind") == "DaemonSet" for o in owners)


def _pods_on(api: KubeApi, node: str) -> list[dict[str, Any]]:
    selector = urllib.parse.quote(f"spec.nodeName={node}")
    status, listed = api.request("GET", f"/api/v1/pods?fieldSelector={selector}")
    if status != 200:
        raise RuntimeError(f"listing the pods of {node}: HTTP {status} {listed}")
    return [p for p in listed.get("items", []) if _evictable(p)]


def drain_one_node(api: KubeApi, pool: str, *, clock: Clock) -> dict[str, Any]:
    selector = urllib.parse.quote(f"{POOL_LABEL}={pool}")
    status, nodes = api.request("GET", f"/api/v1/nodes?labelSelector={selector}")
    names = sorted(n["metadata"]["name"] for n in nodes.get("items", []))
    if status != 200 or not names:
        raise RuntimeError(f"no node of pool {pool} (HTTP {status})")
    node = names[0]
    cordoned = clock.now()
    status, _ = api.request("PATCH", f"/api/v1/nodes/{node}", {"spec": {"unschedulable": True}},
                         "application/strategic-merge-patch+json")
    if status != 200:
        raise RuntimeError(f"cordoning {node}: HTTP {status}")
    evicted: set[str] = set()
    drained = None
    for _ in range(clock.max_polls):
        pods = _pods_on(api, node)
        if not pods:
            drained = clock.now()
            break
        for pod in pods:
            meta = pod["metadata"]
            eviction = {"apiVersion": "policy/v1", "kind": "Eviction",
                        "metadata": {"name": meta["name"], "namespace": meta["namespace"]}}
            code, _ = api.request("POST", f"/api/v1/namespaces/{meta['namespace']}/pods/"
                                       f"{meta['name']}/eviction", eviction)
            if code in (200, 201):
                evicted.add(f"{meta['namespace']}/{meta['name']}")
        clock.sleep(clock.poll_seconds)
    phases = [timed("cordon", "kubernetes:nodes (poll)", cordoned, cordoned, node=node),
              timed("drain", "kubernetes:pods/eviction (poll)", cordoned, drained,
                    node=node, evicted=sorted(evicted))]
    return {"phases": phases, "terms": [phases[1]],
            "status": "completed" if drained else "unfinished", "node": node,
            "uncordon": f"kubectl uncordon {node}", "at": iso(cordoned)}
