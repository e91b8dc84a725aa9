"""The experiment roles of the FIS drill templates (components/aws/fis.py): trust and
inline statements, each beside the source it follows.

Sources, as lettered in components/aws/fis.py: [A] the FIS actions reference, [P] the FIS
policy examples, [M] the AWS managed FIS policies, [R] the Service Authorization
Reference, [L] "Experiment logging for AWS FIS".
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

# The tags of a managed node group's Auto Scaling group and instances: the
# AWSServiceRoleForAmazonEKSNodegroup managed policy (AWS Managed Policy Reference Guide)
# lets EKS create ASGs and tag RunInstances only with `eks`, `eks:cluster-name`,
# `eks:nodegroup-name` and `kubernetes.io/cluster/*`, and manage only ASGs named `eks-*`;
# a recorded inventory of a managed node group (public, not AWS's) shows all three
# propagated at launch to the instances; no AWS page found here lists them. Karpenter's
# nodes do NOT carry `eks:cluster-name` (Karpenter v1 tags `eks:eks-cluster-name`); both
# carry `kubernetes.io/cluster/<name>: owned`
# (components/aws/karpenter.py scopes Karpenter's RunInstances by it). So: the node
# drill and Pause-ASG-Scaling select managed-node-group resources by CLUSTER_TAG; the
# zone drill stops *every* node of the cluster in the zone by the ownership tag.
CLUSTER_TAG = "eks:cluster-name"
NODEGROUP_TAG = "eks:nodegroup-name"
OWNED = "owned"
MANAGED_ASG_NAMES = "eks-*"


def ownership_tag(cluster_name: str) -> str:
    return f"kubernetes.io/cluster/{cluster_name}"


# The tag FIS puts (value "true") on the network ACL it clones for
# aws:network:disrupt-connectivity; ACL writes are allowed only on such ACLs ([A]
# #disrupt-connectivity "Permissions"; [M] AWSFaultInjectionSimulatorNetworkAccess v5).
FIS_ACL_TAG = "managedByFIS"


def trust_policy(partition: str, account: str, region: str) -> str:
    """Only FIS, only for this account's experiments in this region, may assume the role."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "fis.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account},
            "ArnLike": {"aws:SourceArn": f"arn:{partition}:fis:{region}:{account}:experiment/*"},
        }}]}, sort_keys=True)


def _allow(sid: str, actions: Sequence[str], resources: Any = "*",
           condition: Mapping[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": sorted(actions),
                                 "Resource": resources}
    if condition:
        statement["Condition"] = dict(condition)
    return statement


# [L]: FIS sets up the log delivery with the experiment role, which needs the four
# actions of "Logs sent to CloudWatch Logs" (AWS-logs-infrastructure-CWL). [R] gives
# none of them a resource type, so "*" is the only Resource that matches.
LOGGING = _allow("ExperimentLogDelivery", ["logs:CreateLogDelivery", "logs:PutResourcePolicy",
                                           "logs:DescribeResourcePolicies",
                                           "logs:DescribeLogGroups"])
# Every action of [A] used here lists tag:GetResources (target resolution); [R]: no
# resource type.
TAG_READ = _allow("ResolveTargets", ["tag:GetResources"])


def writer_statements(cluster_arn: str) -> list[dict[str, Any]]:
    # [A] #failover-db-cluster: rds:FailoverDBCluster, rds:DescribeDBClusters ([R]: both
    # take the `cluster` resource type, so the one cluster ARN suffices).
    return [_allow("FailOverThisCluster", ["rds:FailoverDBCluster", "rds:DescribeDBClusters"],
                   cluster_arn)]


def cache_statements(group_arn: str) -> list[dict[str, Any]]:
    # [A] #replicationgroup-interrupt-az-power ([R]: both on `replicationgroup`).
    return [_allow("InterruptThisGroup", ["elasticache:InterruptClusterAzPower",
                                          "elasticache:DescribeReplicationGroups"], group_arn)]


def nodegroup_name(node_group_arn: str) -> str:
    """The node group's name: [R] nodegroup ARN `...:nodegroup/<cluster>/<name>/<uuid>`."""
    parts = node_group_arn.split(":", 5)[-1].split("/")
    if len(parts) != 4 or parts[0] != "nodegroup":
        raise ValueError(f"not an EKS node group ARN: {node_group_arn!r}")
    return parts[2]


def node_statements(cluster_name: str, node_group_arn: str) -> list[dict[str, Any]]:
    # [A] #terminate-nodegroup-instance: ec2:DescribeInstances, ec2:TerminateInstances,
    # eks:DescribeNodegroup. [M] AWSFaultInjectionSimulatorEKSAccess allows
    # TerminateInstances on every instance; here only this node group's (CLUSTER_TAG,
    # NODEGROUP_TAG: what EKS tags a managed node group's instances with).
    return [
        _allow("DescribeNodegroup", ["eks:DescribeNodegroup"], node_group_arn),
        _allow("DescribeInstances", ["ec2:DescribeInstances"]),
        _allow("TerminateThisNodegroupsNodes", ["ec2:TerminateInstances"], "*",
               {"StringEquals": {f"aws:ResourceTag/{CLUSTER_TAG}": cluster_name,
                                 f"aws:ResourceTag/{NODEGROUP_TAG}":
                                     nodegroup_name(node_group_arn)}}),
    ]


def zone_statements(*, partition: str, region: str, account: str, cluster_name: str,
                    shift_arns: Sequence[str], subnet_arns: Sequence[str],
                    vpc_arn: str | None, launch_role_arns: Sequence[str],
                    database_cluster_arn: str | None, cache_group_arn: str | None
                    ) -> list[dict[str, Any]]:
    ec2 = f"arn:{partition}:ec2:{region}:{account}"
    acl = f"{ec2}:network-acl/*"
    managed_asgs = (f"arn:{partition}:autoscaling:{region}:{account}:autoScalingGroup:*:"
                    f"autoScalingGroupName/{MANAGED_ASG_NAMES}")
    statements = [
        # [A] #stop-instances: ec2:StopInstances, ec2:StartInstances, ec2:DescribeInstances,
        # kms:CreateGrant to restart instances with encrypted volumes ([M] EC2Access:
        # CreateGrant only for an AWS resource via EC2; here this region's keys only).
        _allow("DescribeInstances", ["ec2:DescribeInstances"]),
        _allow("StopStartThisClustersNodes", ["ec2:StopInstances", "ec2:StartInstances"], "*",
               {"StringEquals": {f"aws:ResourceTag/{ownership_tag(cluster_name)}": OWNED}}),
        _allow("RestartEncryptedVolumes", ["kms:CreateGrant"],
               f"arn:{partition}:kms:{region}:{account}:key/*",
               {"Bool": {"kms:GrantIsForAWSResource": "true"},
                "StringEquals": {"kms:ViaService": f"ec2.{region}.amazonaws.com"}}),
        # [A] #asg-ice: ec2:InjectApiError with ec2:FisActionId set to the action and
        # ec2:FisTargetArns to the target ASGs; autoscaling:DescribeAutoScalingGroups.
        # [R]: InjectApiError has no resource type ("*"); ec2:FisActionId is a single-valued
        # String (so StringEquals, as in [P], not ForAnyValue), ec2:FisTargetArns an
        # ArrayOfARN (so ForAllValues:ArnLike, as in [P]). The managed node groups' ASGs
        # are named eks-* (MANAGED_ASG_NAMES).
        _allow("InjectAsgCapacityErrors", ["ec2:InjectApiError"], "*",
               {"StringEquals": {"ec2:FisActionId":
                                 "aws:ec2:asg-insufficient-instance-capacity-error"},
                "ForAllValues:ArnLike": {"ec2:FisTargetArns": [managed_asgs]}}),
        _allow("DescribeAutoScalingGroups", ["autoscaling:DescribeAutoScalingGroups"]),
    ]
    if launch_role_arns:
        # [A] #api-ice: the same key pair, ec2:FisTargetArns set to the target roles.
        statements.append(_allow(
            "InjectLaunchCapacityErrors", ["ec2:InjectApiError"], "*",
            {"StringEquals": {"ec2:FisActionId":
                              "aws:ec2:api-insufficient-instance-capacity-error"},
             "ForAllValues:ArnEquals": {"ec2:FisTargetArns": sorted(launch_role_arns)}}))
    statements += [
        # [A] #disrupt-connectivity: FIS clones the subnet's network ACL (tagged
        # managedByFIS=true), adds deny entries, swaps it onto the subnet, then restores
        # the original association and deletes the clone. Statements after [M]
        # AWSFaultInjectionSimulatorNetworkAccess v5, narrowed to this region/account,
        # the zone's VPC and subnets. [R] for the resource types each action needs.
        _allow("DescribeNetwork", ["ec2:DescribeManagedPrefixLists", "ec2:DescribeNetworkAcls",
                                   "ec2:DescribeSubnets", "ec2:DescribeVpcs"]),
        # [R]: GetManagedPrefixListEntries requires `prefix-list` ([M] the same).
        _allow("ReadPrefixLists", ["ec2:GetManagedPrefixListEntries"], f"{ec2}:prefix-list/*"),
        # [R]: CreateNetworkAcl requires both `network-acl` (only with the FIS tag in the
        # request) and `vpc` ([M]: statements CreateNetworkAcl and CreateNetworkAclOnVpc).
        _allow("CreateFisAcl", ["ec2:CreateNetworkAcl"], acl,
               {"StringEquals": {f"aws:RequestTag/{FIS_ACL_TAG}": "true"}}),
        _allow("CreateFisAclInZoneVpc", ["ec2:CreateNetworkAcl"], vpc_arn or f"{ec2}:vpc/*"),
        # [M] CreateTagsOnNetworkAcl: tags only while creating the ACL, only the FIS tag.
        _allow("TagFisAcl", ["ec2:CreateTags"], acl,
               {"StringEquals": {"ec2:CreateAction": "CreateNetworkAcl",
                                 f"aws:RequestTag/{FIS_ACL_TAG}": "true"}}),
        # [M] DeleteNetworkAcl lists network-acl/* and vpc/*, but [R] gives these two
        # actions the `network-acl` resource type only, and a VPC would not carry the
        # ec2:ResourceTag condition anyway: network-acl/* is all they authorize on.
        _allow("ManageFisAcl", ["ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAcl"], acl,
               {"StringEquals": {f"ec2:ResourceTag/{FIS_ACL_TAG}": "true"}}),
        # [R]: ReplaceNetworkAclAssociation requires `network-acl` and `subnet`; the ACL
        # is any (the original one is put back untagged), the subnets the zone's only.
        _allow("SwapZoneSubnetAcls", ["ec2:ReplaceNetworkAclAssociation"],
               sorted([*subnet_arns, acl])),
    ]
    if shift_arns:
        # [A] #recovery: arc-zonal-shift:StartZonalShift, GetManagedResource,
        # UpdateZonalShift, CancelZonalShift, ListManagedResources, autoscaling:DescribeTags,
        # tag:GetResources. [R] lists resource types ALB and NLB only (not EKS clusters),
        # with the condition key arc-zonal-shift:ResourceIdentifier: Resource "*" scoped by
        # that key to the drilled cluster and ALB. UNCONFIRMED: no reachable source says
        # the key is set for an EKS cluster's shift; if it is not, FIS's StartZonalShift
        # on the cluster is denied and the experiment log shows it (fails safe).
        # CancelZonalShift stays unscoped: it only ends a shift.
        statements += [
            _allow("ShiftThisClusterAndEdge", ["arc-zonal-shift:StartZonalShift",
                                               "arc-zonal-shift:GetManagedResource",
                                               "arc-zonal-shift:UpdateZonalShift"], "*",
                   {"StringEquals": {"arc-zonal-shift:ResourceIdentifier": sorted(shift_arns)}}),
            _allow("FollowZonalShift", ["arc-zonal-shift:CancelZonalShift",
                                        "arc-zonal-shift:ListManagedResources",
                                        "autoscaling:DescribeTags"]),
        ]
    if database_cluster_arn:
        statements += writer_statements(database_cluster_arn)
    if cache_group_arn:
        statements += cache_statements(cache_group_arn)
    return statements


def role_policy(statements: Sequence[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17",
                       "Statement": [LOGGING, TAG_READ, *statements]}, sort_keys=True)
