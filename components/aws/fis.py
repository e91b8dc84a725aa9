"""Drills on AWS Fault Injection Service: one experiment template per scenario and region.

`hastack drill ENV --scenario writer|cache|zone|node` starts these templates (their IDs
are the infrastructure stack's `drillTemplates` output) and times what the cloud does.

Every action ID, target resource type and parameter below is from the FIS actions
reference (https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html)
and the resource-type table of "Targets for AWS FIS"
(https://docs.aws.amazon.com/fis/latest/userguide/targets.html#resource-types):

* writer: `aws:rds:failover-db-cluster` on `aws:rds:cluster` (target key `Clusters`);
* cache: `aws:elasticache:replicationgroup-interrupt-az-power` on
  `aws:elasticache:replicationgroup` (key `ReplicationGroups`; parameter `duration`;
  target parameter `availabilityZoneIdentifier`);
* node: `aws:eks:terminate-nodegroup-instances` on `aws:eks:nodegroup` (key
  `Nodegroups`; parameter `instanceTerminationPercentage`);
* zone: the actions of the scenario library's "AZ Availability: Power Interruption"
  (https://docs.aws.amazon.com/fis/latest/userguide/az-availability-scenario.html)
  that have a target here: Stop-Instances (`aws:ec2:stop-instances`, parameters
  `startInstancesAfterDuration`, `completeIfInstancesTerminated`), Pause-ASG-Scaling
  (`aws:ec2:asg-insufficient-instance-capacity-error` on `aws:ec2:autoscaling-group`),
  Pause-Instance-Launches (`aws:ec2:api-insufficient-instance-capacity-error` on
  `aws:iam:role`: Karpenter's controller), Pause-network-connectivity
  (`aws:network:disrupt-connectivity` on `aws:ec2:subnet`, `scope` all), Failover-RDS
  (target parameter `writerAvailabilityZoneIdentifiers`: only if the writer is in the
  zone), Pause-ElastiCache, and the recovery action `aws:arc:start-zonal-autoshift` on
  `aws:arc:zonal-shift-managed-resource` (the EKS cluster, zonal-shift enabled outside
  dev; parameters `availabilityZoneIdentifier`, `duration`), started after a wait
  (`aws:fis:wait`) as the scenario does. Pause-EBS-IO is left out: it targets volumes
  that outlive their instance (DeleteOnTermination false), and node volumes do not.

Guardrails (policies/hastack_policies/drills.py): stop conditions are the region's
CloudWatch alarms (5xx at the load balancer, Aurora replica lag); each template has
its own role, trusted only by `fis.amazonaws.com` for this account's experiments in
this region (the confused-deputy conditions of "IAM roles for AWS FIS experiments"),
with inline statements scoped to the template's targets. The AWS-managed FIS policies
(e.g. AWSFaultInjectionSimulatorRDSAccess) allow their actions on every resource of
the account, so none is attached. Experiments log (schema 2) to a log group
encrypted with its own customer-managed key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws.kms import customer_managed_key, log_group_key_policy
from components.base import Protection, Tier, child_options, standard_tags, stateful_options

COMPONENT = "Drills"
TYPE_TOKEN = "hastack:aws:DrillTemplates"
SCENARIOS = ("writer", "cache", "zone", "node")
LOG_SCHEMA_VERSION = 2
# Instances of EKS managed node groups (and their Auto Scaling groups) carry this tag.
CLUSTER_TAG = "eks:cluster-name"
# Tag FIS puts on the network ACL that aws:network:disrupt-connectivity creates.
FIS_ACL_TAG = "managedByFIS"


@dataclass(frozen=True)
class DrillRegion:
    """What one region offers the drills (missing parts: no template for that scenario)."""

    region: str
    provider: pulumi.ProviderResource
    cluster_name: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    # The zone the zone drill takes down (a name, e.g. us-east-1a) and its subnets.
    zone: pulumi.Input[str]
    zone_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    # CloudWatch alarms in this region that mean "stop the experiment".
    stop_alarm_arns: Sequence[pulumi.Input[str]]
    node_group_arn: pulumi.Input[str] | None = None
    database_cluster_arn: pulumi.Input[str] | None = None
    cache_group_arn: pulumi.Input[str] | None = None
    # Roles that launch instances (Karpenter's controller): their launches fail in the zone.
    launch_role_arns: Sequence[pulumi.Input[str]] = ()
    # EKS zonal shift is on (components/aws/eks.py: outside dev): ARC moves traffic.
    zonal_shift: bool = True


@dataclass(frozen=True)
class DrillTemplatesArgs:
    name: str                     # platform name, e.g. "hastack-prod"
    tier: Tier
    partition: str
    account_id: pulumi.Input[str]
    regions: Sequence[DrillRegion]
    # How long the zone's power stays out (ISO 8601); the scenario's default is PT30M.
    interruption: str = "PT10M"
    # When ARC shifts traffic away, after the interruption starts (the scenario: 5 of 30).
    shift_after: str = "PT2M"
    shift_for: str = "PT8M"
    node_termination_percentage: int = 34
    log_retention_days: int = 90
    protection: Protection = field(default_factory=lambda: Protection(False, False, False))
    tags: Mapping[str, str] = field(default_factory=dict)

    def problems(self) -> list[str]:
        found = []
        if self.tier != "dev":
            found += [f"{r.region}: {self.tier} drills need at least one stop alarm"
                      for r in self.regions if not r.stop_alarm_arns]
        if not 1 <= self.node_termination_percentage <= 100:
            found.append("node_termination_percentage must be 1..100")
        return found


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


# Delivery of experiment logs to CloudWatch Logs ("Experiment logging permissions").
LOGGING = _allow("ExperimentLogDelivery", ["logs:CreateLogDelivery", "logs:PutResourcePolicy",
                                           "logs:DescribeResourcePolicies",
                                           "logs:DescribeLogGroups"])
TAG_READ = _allow("ResolveTargets", ["tag:GetResources"])


def writer_statements(cluster_arn: str) -> list[dict[str, Any]]:
    # aws:rds:failover-db-cluster: rds:FailoverDBCluster, rds:DescribeDBClusters.
    return [_allow("FailOverThisCluster", ["rds:FailoverDBCluster", "rds:DescribeDBClusters"],
                   cluster_arn)]


def cache_statements(group_arn: str) -> list[dict[str, Any]]:
    # aws:elasticache:replicationgroup-interrupt-az-power.
    return [_allow("InterruptThisGroup", ["elasticache:InterruptClusterAzPower",
                                          "elasticache:DescribeReplicationGroups"], group_arn)]


def node_statements(cluster_name: str, node_group_arn: str) -> list[dict[str, Any]]:
    # aws:eks:terminate-nodegroup-instances: ec2:DescribeInstances, ec2:TerminateInstances,
    # eks:DescribeNodegroup.
    return [
        _allow("DescribeNodegroup", ["eks:DescribeNodegroup"], node_group_arn),
        _allow("DescribeInstances", ["ec2:DescribeInstances"]),
        _allow("TerminateThisClustersNodes", ["ec2:TerminateInstances"], "*",
               {"StringEquals": {f"aws:ResourceTag/{CLUSTER_TAG}": cluster_name}}),
    ]


def zone_statements(*, partition: str, region: str, account: str, cluster_name: str,
                    cluster_arn: str, subnet_arns: Sequence[str],
                    database_cluster_arn: str | None, cache_group_arn: str | None
                    ) -> list[dict[str, Any]]:
    ec2 = f"arn:{partition}:ec2:{region}:{account}"
    statements = [
        # aws:ec2:stop-instances (+ kms:CreateGrant to restart encrypted-volume instances).
        _allow("DescribeInstances", ["ec2:DescribeInstances"]),
        _allow("StopStartThisClustersNodes", ["ec2:StopInstances", "ec2:StartInstances"], "*",
               {"StringEquals": {f"aws:ResourceTag/{CLUSTER_TAG}": cluster_name}}),
        _allow("RestartEncryptedVolumes", ["kms:CreateGrant"], "*",
               {"Bool": {"kms:GrantIsForAWSResource": "true"},
                "StringEquals": {"kms:ViaService": f"ec2.{region}.amazonaws.com"}}),
        # aws:ec2:asg-/api-insufficient-instance-capacity-error.
        _allow("InjectCapacityErrors", ["ec2:InjectApiError"], "*",
               {"ForAnyValue:StringEquals": {"ec2:FisActionId": [
                   "aws:ec2:api-insufficient-instance-capacity-error",
                   "aws:ec2:asg-insufficient-instance-capacity-error"]}}),
        _allow("DescribeAutoScalingGroups", ["autoscaling:DescribeAutoScalingGroups"]),
        # aws:network:disrupt-connectivity: FIS creates a deny-all network ACL (tagged
        # managedByFIS), swaps it onto the zone's subnets, then restores and deletes it.
        _allow("DescribeNetwork", ["ec2:DescribeManagedPrefixLists", "ec2:DescribeNetworkAcls",
                                   "ec2:DescribeSubnets", "ec2:DescribeVpcs",
                                   "ec2:GetManagedPrefixListEntries"]),
        _allow("CreateFisAcl", ["ec2:CreateNetworkAcl"], [f"{ec2}:network-acl/*", f"{ec2}:vpc/*"]),
        _allow("TagFisAcl", ["ec2:CreateTags"], f"{ec2}:network-acl/*",
               {"StringEquals": {"ec2:CreateAction": "CreateNetworkAcl"}}),
        _allow("ManageFisAcl", ["ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAcl"],
               f"{ec2}:network-acl/*",
               {"StringEquals": {f"aws:ResourceTag/{FIS_ACL_TAG}": "true"}}),
        _allow("SwapZoneSubnetAcls", ["ec2:ReplaceNetworkAclAssociation"],
               sorted([*subnet_arns, f"{ec2}:network-acl/*"])),
        # aws:arc:start-zonal-autoshift on this cluster only.
        _allow("ShiftThisCluster", ["arc-zonal-shift:StartZonalShift",
                                    "arc-zonal-shift:GetManagedResource"], "*",
               {"StringEquals": {"arc-zonal-shift:ResourceIdentifier": cluster_arn}}),
        _allow("FollowZonalShift", ["arc-zonal-shift:UpdateZonalShift",
                                    "arc-zonal-shift:CancelZonalShift",
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


def _target(name: str, resource_type: str, *, arns: pulumi.Input[Sequence[Any]] | None = None,
            tags: Mapping[str, pulumi.Input[str]] | None = None,
            filters: Mapping[str, Sequence[pulumi.Input[str]]] | None = None,
            parameters: Mapping[str, pulumi.Input[str]] | None = None,
            ) -> aws.fis.ExperimentTemplateTargetArgs:
    return aws.fis.ExperimentTemplateTargetArgs(
        name=name, resource_type=resource_type, selection_mode="ALL", resource_arns=arns,
        resource_tags=[aws.fis.ExperimentTemplateTargetResourceTagArgs(key=k, value=v)
                       for k, v in (tags or {}).items()] or None,
        filters=[aws.fis.ExperimentTemplateTargetFilterArgs(path=p, values=list(v))
                 for p, v in (filters or {}).items()] or None,
        parameters=dict(parameters) if parameters else None)


def _action(name: str, action_id: str, target: tuple[str, str] | None = None,
            after: Sequence[str] = (), **parameters: str) -> aws.fis.ExperimentTemplateActionArgs:
    return aws.fis.ExperimentTemplateActionArgs(
        name=name, action_id=action_id, start_afters=list(after) or None,
        target=aws.fis.ExperimentTemplateActionTargetArgs(key=target[0], value=target[1])
        if target else None,
        parameters=[aws.fis.ExperimentTemplateActionParameterArgs(key=k, value=v)
                    for k, v in sorted(parameters.items())] or None)


class DrillTemplates(pulumi.ComponentResource):
    """FIS experiment templates per region, with their roles and an encrypted log group."""

    template_ids: dict[str, dict[str, pulumi.Output[str]]]

    def __init__(self, name: str, args: DrillTemplatesArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if problems := args.problems():
            raise ValueError(f"DrillTemplates {name}: " + "; ".join(problems))
        super().__init__(TYPE_TOKEN, name, None, opts)
        self._name, self._args = name, args
        self._tags = standard_tags(args.tier, COMPONENT, args.tags)
        self.template_ids = {}
        for region in args.regions:
            self._region(region)
        self.register_outputs({"templateIds": self.template_ids})

    # ------------------------------------------------------------------ per region

    def _region(self, r: DrillRegion) -> None:
        args = self._args
        prefix = f"{self._name}-{r.region}"
        opts = child_options(self, r.provider)
        log_name = f"/hastack/{args.name}-{r.region}/fis-experiments"
        key = customer_managed_key(
            f"{prefix}-log-key", description=f"Encrypts the FIS experiment log of {prefix}",
            tier=args.tier, protection=args.protection, tags=self._tags, opts=opts,
            policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: log_group_key_policy(args.partition, account, r.region,
                                                     "amazonaws.com", log_name)))
        log_group = aws.cloudwatch.LogGroup(
            f"{prefix}-log", name=log_name, retention_in_days=args.log_retention_days,
            kms_key_id=key.arn, tags=self._tags, opts=stateful_options(args.protection, opts))
        self._log_arn = log_group.arn.apply(lambda arn: f"{arn}:*")  # FIS wants the :* form
        stops = ([aws.fis.ExperimentTemplateStopConditionArgs(
                    source="aws:cloudwatch:alarm", value=arn) for arn in r.stop_alarm_arns]
                 or [aws.fis.ExperimentTemplateStopConditionArgs(source="none")])
        account = pulumi.Output.from_input(args.account_id)
        if r.database_cluster_arn is not None:
            self._template(r, "writer", stops, "Fail the Aurora writer over to a reader",
                           pulumi.Output.from_input(r.database_cluster_arn).apply(
                               lambda arn: writer_statements(arn)),
                           [_target("Clusters-Target", "aws:rds:cluster",
                                    arns=[r.database_cluster_arn])],
                           [_action("Failover-RDS", "aws:rds:failover-db-cluster",
                                    ("Clusters", "Clusters-Target"))], "fail")
        if r.cache_group_arn is not None:
            self._template(r, "cache", stops, "Cut the power of the cache primary's zone",
                           pulumi.Output.from_input(r.cache_group_arn).apply(cache_statements),
                           [self._cache_target(r)],
                           [_action("Pause-ElastiCache",
                                    "aws:elasticache:replicationgroup-interrupt-az-power",
                                    ("ReplicationGroups", "ReplicationGroups-Target"),
                                    duration=args.interruption)], "fail")
        if r.node_group_arn is not None:
            self._template(r, "node", stops, "Terminate part of the system node group",
                           pulumi.Output.all(r.cluster_name, r.node_group_arn).apply(
                               lambda v: node_statements(str(v[0]), str(v[1]))),
                           [_target("Nodegroups-Target", "aws:eks:nodegroup",
                                    arns=[r.node_group_arn])],
                           [_action("Terminate-Nodes", "aws:eks:terminate-nodegroup-instances",
                                    ("Nodegroups", "Nodegroups-Target"),
                                    instanceTerminationPercentage=str(
                                        args.node_termination_percentage))], "fail")
        zone_policy = pulumi.Output.all(
            account, r.cluster_name, r.cluster_arn, r.zone_subnet_ids,
            r.database_cluster_arn, r.cache_group_arn).apply(
            lambda v: zone_statements(
                partition=args.partition, region=r.region, account=str(v[0]),
                cluster_name=str(v[1]), cluster_arn=str(v[2]),
                subnet_arns=[f"arn:{args.partition}:ec2:{r.region}:{v[0]}:subnet/{s}"
                             for s in v[3]],
                database_cluster_arn=v[4], cache_group_arn=v[5]))
        targets, actions = self._zone(r, account)
        self._template(r, "zone", stops, "AZ Availability: Power Interruption of one zone",
                       zone_policy, targets, actions, "skip")

    def _cache_target(self, r: DrillRegion) -> aws.fis.ExperimentTemplateTargetArgs:
        return _target("ReplicationGroups-Target", "aws:elasticache:replicationgroup",
                       arns=[r.cache_group_arn], parameters={"availabilityZoneIdentifier": r.zone})

    def _zone(self, r: DrillRegion, account: pulumi.Output[str]) -> tuple[list[Any], list[Any]]:
        args = self._args
        duration = args.interruption
        in_zone: dict[str, Sequence[pulumi.Input[str]]] = {
            "State.Name": ["running"], "Placement.AvailabilityZone": [r.zone]}
        subnet_arns = pulumi.Output.all(account, r.zone_subnet_ids).apply(
            lambda v: [f"arn:{args.partition}:ec2:{r.region}:{v[0]}:subnet/{s}" for s in v[1]])
        targets = [
            _target("Instances-Target", "aws:ec2:instance", tags={CLUSTER_TAG: r.cluster_name},
                    filters=in_zone),
            _target("AutoScalingGroups-Target", "aws:ec2:autoscaling-group",
                    tags={CLUSTER_TAG: r.cluster_name}),
            _target("Subnets-Target", "aws:ec2:subnet", arns=subnet_arns),
        ]
        actions = [
            _action("Stop-Instances", "aws:ec2:stop-instances", ("Instances", "Instances-Target"),
                    startInstancesAfterDuration=duration, completeIfInstancesTerminated="true"),
            _action("Pause-ASG-Scaling", "aws:ec2:asg-insufficient-instance-capacity-error",
                    ("AutoScalingGroups", "AutoScalingGroups-Target"),
                    availabilityZoneIdentifiers=r.zone, duration=duration,  # type: ignore[arg-type]
                    percentage="100"),
            _action("Pause-network-connectivity", "aws:network:disrupt-connectivity",
                    ("Subnets", "Subnets-Target"), duration=duration, scope="all"),
        ]
        if r.launch_role_arns:
            targets.append(_target("Roles-Target", "aws:iam:role", arns=list(r.launch_role_arns)))
            actions.append(_action(
                "Pause-Instance-Launches", "aws:ec2:api-insufficient-instance-capacity-error",
                ("Roles", "Roles-Target"), availabilityZoneIdentifiers=r.zone,  # type: ignore[arg-type]
                duration=duration, percentage="100"))
        if r.database_cluster_arn is not None:
            targets.append(_target("Clusters-Target", "aws:rds:cluster",
                                   arns=[r.database_cluster_arn],
                                   parameters={"writerAvailabilityZoneIdentifiers": r.zone}))
            actions.append(_action("Failover-RDS", "aws:rds:failover-db-cluster",
                                   ("Clusters", "Clusters-Target")))
        if r.cache_group_arn is not None:
            targets.append(self._cache_target(r))
            actions.append(_action("Pause-ElastiCache",
                                   "aws:elasticache:replicationgroup-interrupt-az-power",
                                   ("ReplicationGroups", "ReplicationGroups-Target"),
                                   duration=duration))
        if r.zonal_shift:
            targets.append(_target("ManagedResources-Target",
                                   "aws:arc:zonal-shift-managed-resource", arns=[r.cluster_arn]))
            actions += [
                _action("Wait-For-Autoshift", "aws:fis:wait", duration=args.shift_after),
                _action("Start-ARC-Zonal-Autoshift", "aws:arc:start-zonal-autoshift",
                        ("ManagedResources", "ManagedResources-Target"),
                        after=("Wait-For-Autoshift",), availabilityZoneIdentifier=r.zone,  # type: ignore[arg-type]
                        duration=args.shift_for),
            ]
        return targets, actions

    def _template(self, r: DrillRegion, scenario: str,
                  stops: list[aws.fis.ExperimentTemplateStopConditionArgs], description: str,
                  statements: pulumi.Output[Any], targets: list[Any], actions: list[Any],
                  empty_targets: str) -> None:
        args = self._args
        prefix = f"{self._name}-{r.region}-{scenario}"
        opts = child_options(self, r.provider)
        account = pulumi.Output.from_input(args.account_id)
        role = aws.iam.Role(
            f"{prefix}-role", description=f"FIS experiment role of the {scenario} drill",
            assume_role_policy=account.apply(
                lambda a: trust_policy(args.partition, a, r.region)),
            tags=self._tags, opts=opts)
        policy = aws.iam.RolePolicy(f"{prefix}-role", role=role.id,
                                    policy=statements.apply(role_policy), opts=opts)
        template = aws.fis.ExperimentTemplate(
            prefix, description=f"{description} ({args.name} {r.region})",
            role_arn=role.arn, stop_conditions=stops, targets=targets, actions=actions,
            experiment_options=aws.fis.ExperimentTemplateExperimentOptionsArgs(
                account_targeting="single-account", empty_target_resolution_mode=empty_targets),
            log_configuration=aws.fis.ExperimentTemplateLogConfigurationArgs(
                log_schema_version=LOG_SCHEMA_VERSION,
                cloudwatch_logs_configuration=(
                    aws.fis.ExperimentTemplateLogConfigurationCloudwatchLogsConfigurationArgs(
                        log_group_arn=self._log_arn))),
            tags={**self._tags, "Name": prefix, "hastack:drill": scenario},
            # The role must hold its permissions before an experiment can start.
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[policy])))
        self.template_ids.setdefault(scenario, {})[r.region] = template.id
