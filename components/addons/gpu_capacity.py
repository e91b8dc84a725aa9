"""GPU capacity for model steps: a tainted Karpenter NodePool that scales to zero.

Off unless the stack file says `kubernetes.gpu.enabled: true` (one switch, see
hastack/config). Nothing runs there by accident: every node carries the taint
`nvidia.com/gpu=present:NoSchedule`, so only pods that tolerate it (and request
`nvidia.com/gpu`) land on it. With no such pod pending, the pool has no nodes:
Karpenter NodePools have no minimum, and `WhenEmpty` consolidation removes a GPU
node a few minutes after its last GPU pod ends.

Why Bottlerocket for these nodes: Karpenter's `bottlerocket` alias resolves the
`aws-k8s-<version>-nvidia` variant for GPU instance types, and that variant ships
the NVIDIA driver *and* the Kubernetes device plugin on the host. The EKS AL2023
NVIDIA AMIs have the driver and container toolkit but need the device plugin
DaemonSet installed; without a device plugin Karpenter never sees the node as
initialised. So no device-plugin chart is needed on AWS. (GKE installs the driver
itself: components/gcp/gke.py.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.addons.base import AddOn, ClusterContext
from components.addons.karpenter import (
    CAPACITY_LABEL,
    ebs,
    node_class,
    node_class_spec,
    node_pool,
    settings_of,
)

NAME = "gpu-capacity"
POOL = "gpu"
SETTINGS_KEY = "gpu"
GPU_RESOURCE = "nvidia.com/gpu"
# The key and value GKE uses on its GPU nodes too, so one toleration fits both clouds.
TAINT = {"key": GPU_RESOURCE, "value": "present", "effect": "NoSchedule"}


@dataclass(frozen=True)
class GpuCapacity:
    """The stack file's `kubernetes.gpu` switch, as an add-on sees it."""

    enabled: bool
    instance_type: str
    gpus_per_node: int
    max_nodes: int


def gpu_of(ctx: ClusterContext) -> GpuCapacity | None:
    found = ctx.settings.get(SETTINGS_KEY)
    return found if isinstance(found, GpuCapacity) and found.enabled else None


def pool_spec(gpu: GpuCapacity) -> dict[str, Any]:
    return {
        "template": {
            "metadata": {"labels": {CAPACITY_LABEL: POOL}},
            "spec": {
                "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass",
                                 "name": POOL},
                "taints": [TAINT],
                "requirements": [
                    {"key": "node.kubernetes.io/instance-type", "operator": "In",
                     "values": [gpu.instance_type]},
                    {"key": "karpenter.sh/capacity-type", "operator": "In",
                     "values": ["on-demand"]},
                ],
                "expireAfter": "720h",
            },
        },
        # The cost ceiling: never more GPUs than max_nodes full nodes.
        "limits": {GPU_RESOURCE: str(gpu.max_nodes * gpu.gpus_per_node)},
        # Scale to zero: an empty GPU node goes after 5 minutes, a busy one is left alone.
        "disruption": {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "5m"},
    }


def extras(ctx: ClusterContext, prefix: str, _release: k8s.helm.v3.Release | None,
           opts: pulumi.ResourceOptions) -> None:
    gpu = gpu_of(ctx)
    if gpu is None:
        return
    labels = {"app.kubernetes.io/managed-by": "pulumi", "hastack.io/tier": ctx.tier}
    # Bottlerocket: a small OS volume and a data volume big enough for CUDA images.
    devices = [ebs("/dev/xvda", 4), ebs("/dev/xvdb", 100)]
    node_class(f"{prefix}-class", POOL,
               node_class_spec(settings_of(ctx), "bottlerocket@latest", devices), labels, opts)
    node_pool(f"{prefix}-pool", POOL, pool_spec(gpu), labels, opts)


ADDON = AddOn(
    name=NAME,
    chart=None,
    namespace="karpenter",
    after=("karpenter",),
    extras=extras,
    enabled=lambda ctx: gpu_of(ctx) is not None,
)
