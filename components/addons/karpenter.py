"""Karpenter: node autoscaling that launches right-sized EC2 capacity for Pending pods.

Why Karpenter rather than cluster-autoscaler: it reacts to Pending pods directly
(no node-group template guessing, no ASG per instance type), chooses among many
instance types per pod batch, drains nodes before spot/maintenance interruptions
through its SQS queue, and consolidates empty or under-used nodes. That is what
makes "capacity guaranteed by the autoscaler" true for rolling updates whose pods
need a new node (components/k8s/rollout.py), and what lets the GPU pool scale to
zero (gpu_capacity.py).

Placement: the controller runs on the managed node group, never on nodes it
launched: the chart's default affinity (`karpenter.sh/nodepool DoesNotExist`,
required hostname anti-affinity) and zone spread are kept as they are; the chart
default of two replicas, a PDB and maxUnavailable 1 is already HA. The managed
node group's minimum (>= 2) therefore always has room for both replicas.

The cloud side (queue, node role, access entry, controller policies) is
infrastructure: components/aws/karpenter.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.addons.base import (
    AddOn,
    AddOnError,
    ClusterContext,
    IdentityRequest,
    irsa_annotations,
)
from components.base import Tier
from components.k8s.charts import KARPENTER
from components.k8s.identity import ServiceAccountRef

NAME = "karpenter"
NAMESPACE = "karpenter"
RELEASE = "karpenter"
SERVICE_ACCOUNT = ServiceAccountRef(NAMESPACE, "karpenter")
SETTINGS_KEY = "karpenter"
NODE_CLASS_API = "karpenter.k8s.aws/v1"
NODE_POOL_API = "karpenter.sh/v1"
GENERAL_POOL = "general"
CAPACITY_LABEL = "hastack.io/capacity"

# Ceiling on the vCPUs each cluster's general pool may add, per tier: a runaway
# Deployment can cost money only up to here.
CPU_LIMIT: dict[Tier, int] = {"dev": 32, "staging": 128, "prod": 512}


@dataclass(frozen=True)
class KarpenterSettings:
    """What the workloads stack learns from the infrastructure stack for Karpenter."""

    interruption_queue: pulumi.Input[str]
    # The node role's *name*: EC2NodeClass.spec.role takes a name, not an ARN.
    node_role_name: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    security_group_ids: Sequence[pulumi.Input[str]]
    tags: Mapping[str, str] = field(default_factory=dict)


def settings_of(ctx: ClusterContext) -> KarpenterSettings:
    found = ctx.settings.get(SETTINGS_KEY)
    if not isinstance(found, KarpenterSettings):
        raise AddOnError(f"add-on '{NAME}' needs ClusterContext.settings['{SETTINGS_KEY}'] "
                         "(a KarpenterSettings from the infrastructure stack's outputs)")
    return found


def identity(_ctx: ClusterContext) -> IdentityRequest:
    # The policies need the queue and node role ARNs, so the infrastructure side
    # (KarpenterInfra) makes them and attaches them to this role.
    return IdentityRequest(service_accounts=(SERVICE_ACCOUNT,))


def values(ctx: ClusterContext) -> dict[str, Any]:
    karpenter = settings_of(ctx)
    return {
        "settings": {
            "clusterName": ctx.cluster_name,
            "interruptionQueue": karpenter.interruption_queue,
            # The cluster runs with zonal shift (components/aws/eks.py) outside dev.
            "enableZonalShift": ctx.tier != "dev",
        },
        "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT.name,
                           "annotations": irsa_annotations(ctx, NAME)},
        "replicas": 2,
        "controller": {
            # IMDS is out of reach at hop limit 1: say the region instead.
            "env": [{"name": "AWS_REGION", "value": ctx.region}],
            # The getting-started guide's sizing; memory limit == request.
            "resources": {"requests": {"cpu": "1", "memory": "1Gi"},
                          "limits": {"cpu": "1", "memory": "1Gi"}},
        },
    }


def _metadata_options() -> dict[str, Any]:
    # Same as the managed nodes: IMDSv2 only, pods one hop away cannot reach it.
    return {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1,
            "httpProtocolIPv6": "disabled"}


def node_class_spec(karpenter: KarpenterSettings, ami_alias: str,
                    block_devices: list[dict[str, Any]]) -> dict[str, Any]:
    """An EC2NodeClass spec: our subnets and security group by ID (no discovery tags)."""
    subnets = pulumi.Output.from_input(karpenter.subnet_ids).apply(
        lambda ids: [{"id": subnet} for subnet in ids])
    return {
        "role": karpenter.node_role_name,
        "amiSelectorTerms": [{"alias": ami_alias}],
        "subnetSelectorTerms": subnets,
        "securityGroupSelectorTerms": [{"id": sg} for sg in karpenter.security_group_ids],
        "metadataOptions": _metadata_options(),
        "blockDeviceMappings": block_devices,
        "tags": dict(karpenter.tags),
    }


def ebs(device: str, gib: int) -> dict[str, Any]:
    return {"deviceName": device, "ebs": {"volumeSize": f"{gib}Gi", "volumeType": "gp3",
                                          "encrypted": True, "deleteOnTermination": True}}


def node_class(resource_name: str, name: str, spec: Mapping[str, Any], labels: Mapping[str, str],
               opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    return k8s.apiextensions.CustomResource(
        resource_name, api_version=NODE_CLASS_API, kind="EC2NodeClass",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, labels=dict(labels)),
        spec=dict(spec), opts=opts)


def node_pool(resource_name: str, name: str, spec: Mapping[str, Any], labels: Mapping[str, str],
              opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    return k8s.apiextensions.CustomResource(
        resource_name, api_version=NODE_POOL_API, kind="NodePool",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, labels=dict(labels)),
        spec=dict(spec), opts=opts)


def general_pool_spec(tier: Tier, zones: Sequence[str]) -> dict[str, Any]:
    """On-demand c/m/r capacity for everything that has no other home."""
    return {
        "template": {
            "metadata": {"labels": {CAPACITY_LABEL: GENERAL_POOL}},
            "spec": {
                "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass",
                                 "name": GENERAL_POOL},
                "requirements": [
                    {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
                    {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                    {"key": "karpenter.sh/capacity-type", "operator": "In",
                     "values": ["on-demand"]},
                    {"key": "karpenter.k8s.aws/instance-category", "operator": "In",
                     "values": ["c", "m", "r"]},
                    {"key": "karpenter.k8s.aws/instance-generation", "operator": "Gt",
                     "values": ["4"]},
                    # Only the platform's zones (pinned as AZ IDs in the stack file, which
                    # Karpenter matches through its zone-id label): where its subnets are.
                    {"key": "topology.k8s.aws/zone-id", "operator": "In",
                     "values": list(zones)},
                ],
                # Nodes are replaced monthly so they pick up patched AMIs.
                "expireAfter": "720h",
            },
        },
        "limits": {"cpu": str(CPU_LIMIT[tier])},
        "disruption": {
            "consolidationPolicy": "WhenEmptyOrUnderutilized",
            "consolidateAfter": "1m",
            # At most one node in ten is disrupted at a time; PDBs are honoured as well.
            "budgets": [{"nodes": "10%"}],
        },
    }


def extras(ctx: ClusterContext, prefix: str, _release: k8s.helm.v3.Release | None,
           opts: pulumi.ResourceOptions) -> None:
    karpenter = settings_of(ctx)
    labels = {"app.kubernetes.io/managed-by": "pulumi", "hastack.io/tier": ctx.tier}
    node_class(f"{prefix}-{GENERAL_POOL}-class", GENERAL_POOL,
               node_class_spec(karpenter, "al2023@latest", [ebs("/dev/xvda", 50)]),
               labels, opts)
    node_pool(f"{prefix}-{GENERAL_POOL}-pool", GENERAL_POOL,
              general_pool_spec(ctx.tier, ctx.zones), labels, opts)


ADDON = AddOn(
    name=NAME,
    chart=KARPENTER,
    namespace=NAMESPACE,
    release_name=RELEASE,
    values=values,
    identity=identity,
    # Its Service passes the load balancer controller's fail-closed Service webhook.
    after=("aws-load-balancer-controller",),
    extras=extras,
)
