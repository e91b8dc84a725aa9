"""Karpenter's controller policies: the v1.14 getting-started template's actions, scoped."""

from __future__ import annotations

import json

from components.aws.karpenter import ClusterScope, controller_policies, queue_policy

SCOPE = ClusterScope("aws", "us-east-1", "123456789012", "hastack-prod-us-east-1",
                     "arn:aws:iam::123456789012:role/node", "arn:aws:sqs:us-east-1:1:q")

# Per managed policy of website/content/en/v1.14/getting-started/getting-started-with-
# karpenter/cloudformation.yaml (aws/karpenter-provider-aws v1.14.1), checked by hand
# statement by statement; conditions are asserted below.
TEMPLATE_ACTIONS = {
    "node-lifecycle": {"ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate",
                       "ec2:CreateTags", "ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"},
    "iam-integration": {"iam:PassRole", "iam:CreateInstanceProfile", "iam:TagInstanceProfile",
                        "iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile",
                        "iam:DeleteInstanceProfile"},
    "eks-integration": {"eks:DescribeCluster"},
    "interruption": {"sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"},
    "zonal-shift": {"arc-zonal-shift:GetManagedResource"},
    "resource-discovery": {
        "ec2:DescribeCapacityReservations", "ec2:DescribeImages", "ec2:DescribeInstances",
        "ec2:DescribeInstanceStatus", "ec2:DescribeInstanceTypeOfferings",
        "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplates",
        "ec2:DescribePlacementGroups", "ec2:DescribeSecurityGroups",
        "ec2:DescribeSpotPriceHistory", "ec2:DescribeSubnets", "ssm:GetParameter",
        "pricing:GetProducts", "iam:ListInstanceProfiles", "iam:GetInstanceProfile"},
}


def _actions(document: dict) -> set[str]:
    found: set[str] = set()
    for statement in document["Statement"]:
        action = statement["Action"]
        found |= {action} if isinstance(action, str) else set(action)
    return found


def test_the_template_actions_exactly() -> None:
    policies = controller_policies(SCOPE)
    assert {name: _actions(doc) for name, doc in policies.items()} == TEMPLATE_ACTIONS


def test_each_policy_fits_a_managed_policy() -> None:
    for name, document in controller_policies(SCOPE).items():
        assert len(json.dumps(document, separators=(",", ":"))) < 6144, name


def test_mutations_are_scoped_to_this_clusters_tagged_resources() -> None:
    owned = "aws:ResourceTag/kubernetes.io/cluster/hastack-prod-us-east-1"
    for statement in controller_policies(SCOPE)["node-lifecycle"]["Statement"]:
        actions = {statement["Action"]} if isinstance(statement["Action"], str) else set(
            statement["Action"])
        if actions & {"ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"}:
            assert statement["Condition"]["StringEquals"] == {owned: "owned"}
            assert statement["Condition"]["StringLike"] == {
                "aws:ResourceTag/karpenter.sh/nodepool": "*"}
    (pass_role,) = [s for s in controller_policies(SCOPE)["iam-integration"]["Statement"]
                    if s["Action"] == "iam:PassRole"]
    assert pass_role["Resource"] == SCOPE.node_role_arn


def test_queue_refuses_plain_http() -> None:
    deny = queue_policy("arn:q")["Statement"][1]
    assert deny == {"Sid": "DenyHTTP", "Effect": "Deny", "Principal": "*", "Action": "sqs:*",
                    "Resource": "arn:q",
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
