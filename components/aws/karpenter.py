"""Karpenter's cloud side for one EKS cluster: node role, interruption queue, controller policy.

Owned by the infrastructure stack (IAM, SQS and EventBridge need AWS credentials
and outlive any one release); the workloads stack installs the chart and the
NodePools and learns the queue and role names from this component's outputs.

What is built, after the Karpenter v1.14 getting-started CloudFormation template:

* the **node role** that Karpenter's instances assume (EC2 trust; worker, CNI and
  ECR pull-only policies), and an **EKS access entry of type EC2_LINUX** for it so
  the nodes can join (the cluster uses access entries, not aws-auth). The
  template's AmazonSSMManagedInstanceCore is left out: nobody needs a shell on a
  node, and the managed node group does not get one either;
* the **interruption queue** (SSE, 5-minute retention, TLS-only) and the five
  EventBridge rules that feed it: health scheduled changes, spot interruption
  warnings, rebalance recommendations, instance state changes and capacity
  reservation interruptions. With it Karpenter drains a node *before* EC2 takes it;
* the **controller policies**, one managed policy per statement group of the
  template (each well under IAM's 6,144-character limit), scoped by the cluster's
  `kubernetes.io/cluster/<name>: owned` and `karpenter.sh/nodepool` tags. The IRSA
  role that carries them is made with the other add-on identities
  (components/aws/addon_identity.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.base import Tier, child_options, standard_tags

TYPE_TOKEN = "hastack:aws:KarpenterInfra"
COMPONENT = "KarpenterInfra"
NODE_POLICIES = ("AmazonEKS_CNI_Policy", "AmazonEKSWorkerNodePolicy",
                 "AmazonEC2ContainerRegistryPullOnly")
# EventBridge rule -> (source, detail-type) of the events Karpenter acts on.
INTERRUPTION_EVENTS: dict[str, tuple[str, str]] = {
    "scheduled-change": ("aws.health", "AWS Health Event"),
    "spot-interruption": ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
    "rebalance": ("aws.ec2", "EC2 Instance Rebalance Recommendation"),
    "instance-state-change": ("aws.ec2", "EC2 Instance State-change Notification"),
    "capacity-reservation-interruption": (
        "aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"),
}
QUEUE_RETENTION_SECONDS = 300


@dataclass(frozen=True)
class ClusterScope:
    """Everything the controller policy is scoped to."""

    partition: str
    region: str
    account_id: str
    cluster_name: str
    node_role_arn: str
    queue_arn: str


def _statement(sid: str, actions: str | list[str], resource: str | list[str],
               condition: Mapping[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": actions,
                                 "Resource": resource}
    if condition:
        statement["Condition"] = dict(condition)
    return statement


def controller_policies(s: ClusterScope) -> dict[str, dict[str, Any]]:
    """The controller's policy documents by name (the template's six managed policies)."""
    ec2 = f"arn:{s.partition}:ec2:{s.region}"
    owned = {f"aws:ResourceTag/kubernetes.io/cluster/{s.cluster_name}": "owned"}
    request_owned = {f"aws:RequestTag/kubernetes.io/cluster/{s.cluster_name}": "owned",
                     "aws:RequestTag/eks:eks-cluster-name": s.cluster_name}
    nodepool = {"aws:ResourceTag/karpenter.sh/nodepool": "*"}
    request_nodepool = {"aws:RequestTag/karpenter.sh/nodepool": "*"}
    launched = [f"{ec2}:*:{kind}/*" for kind in (
        "fleet", "instance", "volume", "network-interface", "launch-template",
        "spot-instances-request")]
    profile = f"arn:{s.partition}:iam::{s.account_id}:instance-profile/*"
    region_tag = {"aws:ResourceTag/topology.kubernetes.io/region": s.region}
    request_region = {"aws:RequestTag/topology.kubernetes.io/region": s.region}
    nodeclass = {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*"}
    request_nodeclass = {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"}
    cluster_arn = f"arn:{s.partition}:eks:{s.region}:{s.account_id}:cluster/{s.cluster_name}"
    run = ["ec2:RunInstances", "ec2:CreateFleet"]
    documents = {
        "node-lifecycle": [
            _statement("AllowScopedEC2InstanceAccessActions", run, [
                f"{ec2}::image/*", f"{ec2}::snapshot/*", f"{ec2}:*:security-group/*",
                f"{ec2}:*:subnet/*", f"{ec2}:*:capacity-reservation/*",
                f"{ec2}:*:placement-group/*"]),
            _statement("AllowScopedEC2LaunchTemplateAccessActions", run,
                       f"{ec2}:*:launch-template/*",
                       {"StringEquals": owned, "StringLike": nodepool}),
            _statement("AllowScopedEC2InstanceActionsWithTags",
                       [*run, "ec2:CreateLaunchTemplate"], launched,
                       {"StringEquals": request_owned, "StringLike": request_nodepool}),
            _statement("AllowScopedResourceCreationTagging", "ec2:CreateTags", launched, {
                "StringEquals": {**request_owned, "ec2:CreateAction": [
                    "RunInstances", "CreateFleet", "CreateLaunchTemplate"]},
                "StringLike": request_nodepool}),
            _statement("AllowScopedResourceTagging", "ec2:CreateTags", f"{ec2}:*:instance/*", {
                "StringEquals": owned, "StringLike": nodepool,
                "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": s.cluster_name},
                "ForAllValues:StringEquals": {"aws:TagKeys": [
                    "eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]}}),
            _statement("AllowScopedDeletion", ["ec2:TerminateInstances",
                                               "ec2:DeleteLaunchTemplate"],
                       [f"{ec2}:*:instance/*", f"{ec2}:*:launch-template/*"],
                       {"StringEquals": owned, "StringLike": nodepool}),
        ],
        "iam-integration": [
            _statement("AllowPassingInstanceRole", "iam:PassRole", s.node_role_arn, {
                "StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com",
                                                         "ec2.amazonaws.com.cn"]}}),
            _statement("AllowScopedInstanceProfileCreationActions",
                       ["iam:CreateInstanceProfile"], profile, {
                           "StringEquals": {**request_owned, **request_region},
                           "StringLike": request_nodeclass}),
            _statement("AllowScopedInstanceProfileTagActions", ["iam:TagInstanceProfile"],
                       profile, {
                           "StringEquals": {**owned, **region_tag, **request_owned,
                                            **request_region},
                           "StringLike": {**nodeclass, **request_nodeclass}}),
            _statement("AllowScopedInstanceProfileActions", [
                "iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile",
                "iam:DeleteInstanceProfile"], profile,
                {"StringEquals": {**owned, **region_tag}, "StringLike": nodeclass}),
        ],
        "eks-integration": [
            _statement("AllowAPIServerEndpointDiscovery", "eks:DescribeCluster", cluster_arn),
        ],
        "interruption": [
            _statement("AllowInterruptionQueueActions", [
                "sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"], s.queue_arn),
        ],
        "zonal-shift": [
            _statement("AllowZonalShiftStatusReadOnly", ["arc-zonal-shift:GetManagedResource"],
                       "*", {"StringEquals": {
                           "arc-zonal-shift:ResourceIdentifier": cluster_arn}}),
        ],
        "resource-discovery": [
            _statement("AllowRegionalReadActions", [f"ec2:{a}" for a in (
                "DescribeCapacityReservations", "DescribeImages", "DescribeInstances",
                "DescribeInstanceStatus", "DescribeInstanceTypeOfferings",
                "DescribeInstanceTypes", "DescribeLaunchTemplates", "DescribePlacementGroups",
                "DescribeSecurityGroups", "DescribeSpotPriceHistory", "DescribeSubnets")],
                "*", {"StringEquals": {"aws:RequestedRegion": s.region}}),
            _statement("AllowSSMReadActions", "ssm:GetParameter",
                       f"arn:{s.partition}:ssm:{s.region}::parameter/aws/service/*"),
            _statement("AllowPricingReadActions", "pricing:GetProducts", "*"),
            _statement("AllowUnscopedInstanceProfileListAction", "iam:ListInstanceProfiles",
                       "*"),
            _statement("AllowInstanceProfileReadActions", "iam:GetInstanceProfile", profile),
        ],
    }
    return {name: {"Version": "2012-10-17", "Statement": statements}
            for name, statements in documents.items()}


def queue_policy(queue_arn: str) -> dict[str, Any]:
    """EventBridge (and SQS itself) may send; nothing may use the queue without TLS."""
    return {"Version": "2012-10-17", "Id": "EC2InterruptionPolicy", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": ["events.amazonaws.com",
                                                      "sqs.amazonaws.com"]},
         "Action": "sqs:SendMessage", "Resource": queue_arn},
        {"Sid": "DenyHTTP", "Effect": "Deny", "Principal": "*", "Action": "sqs:*",
         "Resource": queue_arn, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]}


@dataclass(frozen=True)
class KarpenterInfraArgs:
    name: str
    tier: Tier
    region: str
    # The EKS cluster's name as a plain string: the policies' tag conditions embed it.
    cluster_name: str
    tags: Mapping[str, str] = field(default_factory=dict)


class KarpenterInfra(pulumi.ComponentResource):
    """Node role + access entry, interruption queue + rules, controller policies."""

    node_role_name: pulumi.Output[str]
    node_role_arn: pulumi.Output[str]
    queue_name: pulumi.Output[str]
    queue_arn: pulumi.Output[str]
    controller_policy_arns: list[pulumi.Output[str]]

    def __init__(self, resource_name: str, args: KarpenterInfraArgs, *,
                 cluster: pulumi.Resource | None = None,
                 provider: pulumi.ProviderResource | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, resource_name, None, opts)
        self._prefix, self._provider = resource_name, provider
        tags = standard_tags(args.tier, COMPONENT, args.tags)
        invoke = pulumi.InvokeOptions(parent=self, provider=provider)
        partition = aws.get_partition(opts=invoke).partition
        account_id = aws.get_caller_identity(opts=invoke).account_id

        role = aws.iam.Role(
            f"{resource_name}-node-role",
            description=f"Nodes Karpenter launches for {args.cluster_name}",
            assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole"}]}, sort_keys=True),
            tags=tags, opts=self._child())
        for policy in NODE_POLICIES:
            aws.iam.RolePolicyAttachment(
                f"{resource_name}-node-{policy}", role=role.name,
                policy_arn=f"arn:{partition}:iam::aws:policy/{policy}", opts=self._child())
        # Without it the instances boot but can never register as nodes.
        aws.eks.AccessEntry(
            f"{resource_name}-node-access", cluster_name=args.cluster_name,
            principal_arn=role.arn, type="EC2_LINUX", tags=tags,
            opts=self._child(depends_on=[cluster] if cluster else None))

        queue = aws.sqs.Queue(
            f"{resource_name}-interruptions", name=args.cluster_name,
            message_retention_seconds=QUEUE_RETENTION_SECONDS, sqs_managed_sse_enabled=True,
            tags=tags, opts=self._child())
        aws.sqs.QueuePolicy(
            f"{resource_name}-interruptions", queue_url=queue.url,
            policy=queue.arn.apply(lambda arn: json.dumps(queue_policy(arn), sort_keys=True)),
            opts=self._child())
        for rule_name, (source, detail_type) in INTERRUPTION_EVENTS.items():
            rule = aws.cloudwatch.EventRule(
                f"{resource_name}-{rule_name}",
                name=f"{args.cluster_name}-karpenter-{rule_name}"[:64],
                description=f"{detail_type} events for Karpenter on {args.cluster_name}",
                event_pattern=json.dumps({"source": [source], "detail-type": [detail_type]}),
                tags=tags, opts=self._child())
            aws.cloudwatch.EventTarget(
                f"{resource_name}-{rule_name}", rule=rule.name, arn=queue.arn,
                target_id="KarpenterInterruptionQueueTarget", opts=self._child())

        scope = pulumi.Output.all(role.arn, queue.arn).apply(lambda arns: ClusterScope(
            partition, args.region, account_id, args.cluster_name, str(arns[0]), str(arns[1])))
        self.controller_policy_arns = []
        for policy_name in controller_policies(ClusterScope("aws", "", "", "", "", "")):
            document = scope.apply(_document(policy_name))
            self.controller_policy_arns.append(aws.iam.Policy(
                f"{resource_name}-controller-{policy_name}",
                description=f"Karpenter controller ({policy_name}) for {args.cluster_name}",
                policy=document, tags=tags, opts=self._child()).arn)

        self.node_role_name = role.name
        self.node_role_arn = role.arn
        self.queue_name = queue.name
        self.queue_arn = queue.arn
        self.register_outputs({"nodeRoleName": role.name, "nodeRoleArn": role.arn,
                               "queueName": queue.name, "queueArn": queue.arn})

    def _child(self, **kwargs: object) -> pulumi.ResourceOptions:
        return child_options(self, self._provider, **kwargs)


def _document(policy_name: str) -> Callable[[ClusterScope], str]:
    def render(scope: ClusterScope) -> str:
        return json.dumps(controller_policies(scope)[policy_name], sort_keys=True)
    return render
