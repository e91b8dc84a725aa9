"""AWS Load Balancer Controller: reconciles TargetGroupBindings (and Ingress/Gateway) into ELBv2.

What matters for HA and for the platform, from the chart's values and templates:

* `clusterName` is required by the chart; `region` and `vpcId` are set explicitly
  because the nodes' IMDS hop limit is 1, so the pods cannot read them from IMDS.
* Two replicas (one leader reconciles, both serve the webhooks), a PDB of
  maxUnavailable 1 (the chart renders it only when non-empty and replicas > 1), the
  chart's default soft hostname anti-affinity, plus our zone spread.
* `keepTLSSecret: true`: the chart generates a new webhook CA and certificate on
  every render; with this it reuses the existing Secret through `lookup`, which
  works because we install a real Helm release (components/k8s/release.py).
* The Service mutator webhook fails closed: while no replica is up, creating any
  Service fails. Every add-on that creates Services, and the orchestrator, is
  therefore installed after this release (`after`).
* IRSA with the controller's published IAM policy (`controller_policy`), trusted
  only for the controller's service account.
"""

from __future__ import annotations

import json
from typing import Any

from components.addons.base import (
    AddOn,
    AddOnError,
    ClusterContext,
    IdentityRequest,
    irsa_annotations,
    pod_labels,
    zone_spread,
)
from components.k8s.charts import AWS_LOAD_BALANCER_CONTROLLER
from components.k8s.identity import ServiceAccountRef

NAME = "aws-load-balancer-controller"
NAMESPACE = "kube-system"
# Contains the chart name, so the chart's fullname (and our SA) is just the release name.
RELEASE = "aws-load-balancer-controller"
SERVICE_ACCOUNT = ServiceAccountRef(NAMESPACE, "aws-load-balancer-controller")
REPLICAS = 2

# --- the controller's IAM policy (docs/install/iam_policy.json of v3.5.0) ----------------
# Expressed here statement by statement; tests/addons compare it with the published
# file so an upgrade that changes the policy fails until this is updated.

_CLUSTER_TAG = "elbv2.k8s.aws/cluster"
_REQUEST_TAG = f"aws:RequestTag/{_CLUSTER_TAG}"
_RESOURCE_TAG = f"aws:ResourceTag/{_CLUSTER_TAG}"
_ELB = "elasticloadbalancing"

_DESCRIBE = (
    *(f"ec2:{a}" for a in (
        "DescribeAccountAttributes", "DescribeAddresses", "DescribeAvailabilityZones",
        "DescribeInternetGateways", "DescribeVpcs", "DescribeVpcPeeringConnections",
        "DescribeSubnets", "DescribeSecurityGroups", "DescribeInstances",
        "DescribeNetworkInterfaces", "DescribeTags", "GetCoipPoolUsage", "DescribeCoipPools",
        "GetSecurityGroupsForVpc", "DescribeIpamPools", "DescribeRouteTables")),
    *(f"{_ELB}:{a}" for a in (
        "DescribeLoadBalancers", "DescribeLoadBalancerAttributes", "DescribeListeners",
        "DescribeListenerCertificates", "DescribeSSLPolicies", "DescribeRules",
        "DescribeTargetGroups", "DescribeTargetGroupAttributes", "DescribeTargetHealth",
        "DescribeTags", "DescribeTrustStores", "DescribeListenerAttributes",
        "DescribeCapacityReservation")),
)
_INTEGRATIONS = (
    "cognito-idp:DescribeUserPoolClient", "acm:ListCertificates", "acm:DescribeCertificate",
    "iam:ListServerCertificates", "iam:GetServerCertificate",
    *(f"{svc}:{a}" for svc in ("waf-regional", "wafv2")
      for a in ("GetWebACL", "GetWebACLForResource", "AssociateWebACL", "DisassociateWebACL")),
    "shield:GetSubscriptionState", "shield:DescribeProtection", "shield:CreateProtection",
    "shield:DeleteProtection",
)
_MODIFY_OWNED = tuple(f"{_ELB}:{a}" for a in (
    "ModifyLoadBalancerAttributes", "SetIpAddressType", "SetSecurityGroups", "SetSubnets",
    "DeleteLoadBalancer", "ModifyTargetGroup", "ModifyTargetGroupAttributes",
    "DeleteTargetGroup", "ModifyListenerAttributes", "ModifyCapacityReservation",
    "ModifyIpPools"))
_LISTENER_CHANGES = tuple(f"{_ELB}:{a}" for a in (
    "SetWebAcl", "ModifyListener", "AddListenerCertificates", "RemoveListenerCertificates",
    "ModifyRule", "SetRulePriorities"))

# "Null: false" = the tag is present; "Null: true" = absent.
_TAGGED_BY_REQUEST = {"Null": {_REQUEST_TAG: "false"}}
_OWNED = {"Null": {_RESOURCE_TAG: "false"}}
_OWNED_NOT_RETAGGED = {"Null": {_REQUEST_TAG: "true", _RESOURCE_TAG: "false"}}


def _allow(actions: tuple[str, ...] | list[str], resource: str | list[str] = "*",
           condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": list(actions),
                                 "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def controller_policy(partition: str = "aws") -> dict[str, Any]:
    """The controller's IAM policy document for `partition` (only "aws" is published here)."""
    if partition != "aws":
        raise AddOnError(f"the load balancer controller's policy for partition {partition!r} "
                         "differs upstream (iam_policy_cn/us-gov/iso*.json); only 'aws' is built")
    arn = f"arn:{partition}"
    sg = f"{arn}:ec2:*:*:security-group/*"
    lbs = [f"{arn}:{_ELB}:*:*:targetgroup/*/*", f"{arn}:{_ELB}:*:*:loadbalancer/net/*/*",
           f"{arn}:{_ELB}:*:*:loadbalancer/app/*/*"]
    listeners = [f"{arn}:{_ELB}:*:*:{kind}/{lb}/*/*/*"
                 for kind in ("listener", "listener-rule") for lb in ("net", "app")]
    return {"Version": "2012-10-17", "Statement": [
        _allow(["iam:CreateServiceLinkedRole"], condition={
            "StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}}),
        _allow(_DESCRIBE),
        _allow(_INTEGRATIONS),
        _allow(["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"]),
        _allow(["ec2:CreateSecurityGroup"]),
        _allow(["ec2:CreateTags"], sg, {"StringEquals": {"ec2:CreateAction":
                                                         "CreateSecurityGroup"},
                                        **_TAGGED_BY_REQUEST}),
        _allow(["ec2:CreateTags", "ec2:DeleteTags"], sg, _OWNED_NOT_RETAGGED),
        _allow(["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress",
                "ec2:DeleteSecurityGroup"], condition=_OWNED),
        _allow([f"{_ELB}:CreateLoadBalancer", f"{_ELB}:CreateTargetGroup"],
               condition=_TAGGED_BY_REQUEST),
        _allow([f"{_ELB}:{a}" for a in ("CreateListener", "DeleteListener", "CreateRule",
                                        "DeleteRule")]),
        _allow([f"{_ELB}:AddTags", f"{_ELB}:RemoveTags"], lbs, _OWNED_NOT_RETAGGED),
        _allow([f"{_ELB}:AddTags", f"{_ELB}:RemoveTags"], listeners),
        _allow(_MODIFY_OWNED, condition=_OWNED),
        _allow([f"{_ELB}:AddTags"], lbs, {
            "StringEquals": {f"{_ELB}:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"]},
            **_TAGGED_BY_REQUEST}),
        _allow([f"{_ELB}:RegisterTargets", f"{_ELB}:DeregisterTargets"],
               f"{arn}:{_ELB}:*:*:targetgroup/*/*"),
        _allow(_LISTENER_CHANGES),
    ]}


def _partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith(("us-iso", "eu-isoe")):
        return "aws-iso"
    return "aws"


def identity(ctx: ClusterContext) -> IdentityRequest:
    return IdentityRequest(
        service_accounts=(SERVICE_ACCOUNT,),
        aws_policy_json=json.dumps(controller_policy(_partition_of(ctx.region)), sort_keys=True))


def values(ctx: ClusterContext) -> dict[str, Any]:
    if ctx.vpc_id is None:
        raise AddOnError(f"{NAME} needs ClusterContext.vpc_id: at IMDS hop limit 1 the "
                         "controller cannot discover its VPC")
    return {
        "clusterName": ctx.cluster_name,
        "region": ctx.region,
        "vpcId": ctx.vpc_id,
        "replicaCount": REPLICAS,
        "podDisruptionBudget": {"maxUnavailable": 1},
        "topologySpreadConstraints": zone_spread(pod_labels(NAME, RELEASE)),
        # Reuse the webhook certificate across upgrades (works with a Helm release only).
        "keepTLSSecret": True,
        "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT.name,
                           "annotations": irsa_annotations(ctx, NAME)},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                      "limits": {"memory": "256Mi"}},
    }


ADDON = AddOn(
    name=NAME,
    chart=AWS_LOAD_BALANCER_CONTROLLER,
    namespace=NAMESPACE,
    release_name=RELEASE,
    values=values,
    identity=identity,
)
