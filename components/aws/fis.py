"""Drills on AWS Fault Injection Service: one experiment template per scenario and region.

`hastack drill ENV --scenario writer|cache|zone|node` starts these templates (their IDs
are the infrastructure stack's `drillTemplates` output) and times what the cloud does.

Sources (README "Drills" lists which template follows which):

* [A] FIS actions reference, https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html
  (action IDs, parameters, permissions; anchors #failover-db-cluster,
  #replicationgroup-interrupt-az-power, #terminate-nodegroup-instance, #stop-instances,
  #api-ice, #asg-ice, #disrupt-connectivity, #recovery);
* [T] "Targets for AWS FIS", https://docs.aws.amazon.com/fis/latest/userguide/targets.html
  (#resource-types, #target-parameters); action target keys (`Clusters`, `Instances`...)
  from "Actions for AWS FIS" #action-targets / #example-actions;
* [S] "AZ Availability: Power Interruption",
  https://docs.aws.amazon.com/fis/latest/userguide/az-availability-scenario.html;
* [P] FIS policy examples, "Example: Use condition keys for ec2:InjectApiError",
  https://docs.aws.amazon.com/fis/latest/userguide/security_iam_id-based-policy-examples.html;
* [M] the AWS managed policies AWSFaultInjectionSimulator{EC2,Network,RDS,EKS}Access
  (AWS Managed Policy Reference Guide,
  https://docs.aws.amazon.com/aws-managed-policy/latest/reference/<name>.html);
* [R] the Service Authorization Reference (which resource types and condition keys
  each IAM action has), https://docs.aws.amazon.com/service-authorization/latest/reference/;
* [L] "Experiment logging for AWS FIS" (#permissions-experiment-logging, schema 2),
  https://docs.aws.amazon.com/fis/latest/userguide/monitoring-logging.html, and the
  CloudWatch Logs page it points to ("Logs sent to CloudWatch Logs", AWS-logs-infrastructure-CWL).

The templates:

* writer: `aws:rds:failover-db-cluster` on `aws:rds:cluster` (target key `Clusters`) [A];
* cache: `aws:elasticache:replicationgroup-interrupt-az-power` on
  `aws:elasticache:replicationgroup` (key `ReplicationGroups`; parameter `duration`;
  target parameter `availabilityZoneIdentifier`, a zone name or zone ID) [A][T];
* node: `aws:eks:terminate-nodegroup-instances` on `aws:eks:nodegroup` (key
  `Nodegroups`; parameter `instanceTerminationPercentage`) [A];
* zone: the actions of [S] that have a target here: Stop-Instances
  (`aws:ec2:stop-instances`, parameters `startInstancesAfterDuration`,
  `completeIfInstancesTerminated`), Pause-ASG-Scaling
  (`aws:ec2:asg-insufficient-instance-capacity-error` on `aws:ec2:autoscaling-group`),
  Pause-Instance-Launches (`aws:ec2:api-insufficient-instance-capacity-error` on
  `aws:iam:role`: Karpenter's controller), Pause-network-connectivity
  (`aws:network:disrupt-connectivity` on `aws:ec2:subnet`, `scope` all), Failover-RDS
  (target parameter `writerAvailabilityZoneIdentifiers`: only if the writer is in the
  zone), Pause-ElastiCache, and the recovery action `aws:arc:start-zonal-autoshift` on
  `aws:arc:zonal-shift-managed-resource` (the EKS cluster and the edge ALB, both
  registered for zonal shift outside dev; parameters `availabilityZoneIdentifier`,
  `duration`, `zonalAutoshiftStatus`), started after a wait (`aws:fis:wait`) as [S]
  does. Pause-EBS-IO is left out: it targets volumes that outlive their instance
  (DeleteOnTermination false), and node volumes do not.

The roles' statements are in components/aws/fis_roles.py.

Guardrails (policies/hastack_policies/drills.py): stop conditions are the region's
CloudWatch alarms (5xx at the load balancer, Aurora replica lag); each template has
its own role, trusted only by `fis.amazonaws.com` for this account's experiments in
this region (the confused-deputy conditions of "IAM roles for AWS FIS experiments"),
with inline statements scoped to the template's targets. The AWS-managed FIS policies
allow their actions on every resource of the account ([M]: `arn:aws:ec2:*:*:instance/*`
...), so none is attached; their statements are the model, narrowed to this region,
account and the template's targets. Experiments log (schema 2) to a log group
encrypted with its own customer-managed key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws.fis_roles import (
    CLUSTER_TAG,
    OWNED,
    cache_statements,
    node_statements,
    ownership_tag,
    role_policy,
    trust_policy,
    writer_statements,
    zone_statements,
)
from components.aws.kms import customer_managed_key, log_group_key_policy
from components.base import Protection, Tier, child_options, standard_tags, stateful_options

COMPONENT = "Drills"
TYPE_TOKEN = "hastack:aws:DrillTemplates"
SCENARIOS = ("writer", "cache", "zone", "node")
LOG_SCHEMA_VERSION = 2  # [L] "Log schema": the current version is 2
# [A] #recovery: `zonalAutoshiftStatus` defaults to ENABLED, i.e. only resources with
# zonal *autoshift* on. The cluster and ALB are registered for zonal shift
# (components/aws/eks.py zonal_shift_config, components/aws/edge.py enable_zonal_shift)
# but autoshift is not configured, so the default would resolve no target and, with
# emptyTargetResolutionMode "skip", silently skip the shift.
AUTOSHIFT_STATUS = "ANY"


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
    # Load balancers registered for zonal shift (the edge ALB): shifted with the cluster.
    load_balancer_arns: Sequence[pulumi.Input[str]] = ()
    # The VPC of the zone's subnets: FIS creates its deny-all network ACL there.
    vpc_id: pulumi.Input[str] | None = None


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

def _target(name: str, resource_type: str, *, arns: pulumi.Input[Sequence[Any]] | None = None,
            tags: Sequence[tuple[pulumi.Input[str], pulumi.Input[str]]] = (),
            filters: Mapping[str, Sequence[pulumi.Input[str]]] | None = None,
            parameters: Mapping[str, pulumi.Input[str]] | None = None,
            ) -> aws.fis.ExperimentTemplateTargetArgs:
    return aws.fis.ExperimentTemplateTargetArgs(
        name=name, resource_type=resource_type, selection_mode="ALL", resource_arns=arns,
        resource_tags=[aws.fis.ExperimentTemplateTargetResourceTagArgs(key=k, value=v)
                       for k, v in tags] or None,
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
        # pulumi_aws fis _inputs.py (logGroupArn): "The ARN must end with `:*`".
        self._log_arn = log_group.arn.apply(lambda arn: f"{arn}:*")
        # pulumi_aws fis _inputs.py (StopCondition.source): one of `none`,
        # `aws:cloudwatch:alarm` (the value: the alarm's ARN).
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
            account, r.cluster_name, r.zone_subnet_ids, r.database_cluster_arn,
            r.cache_group_arn, r.vpc_id, pulumi.Output.all(*r.launch_role_arns),
            self._shift_arns(r)).apply(
            lambda v: zone_statements(
                partition=args.partition, region=r.region, account=str(v[0]),
                cluster_name=str(v[1]),
                subnet_arns=[f"arn:{args.partition}:ec2:{r.region}:{v[0]}:subnet/{s}"
                             for s in v[2]],
                database_cluster_arn=v[3], cache_group_arn=v[4],
                vpc_arn=f"arn:{args.partition}:ec2:{r.region}:{v[0]}:vpc/{v[5]}" if v[5]
                else None,
                launch_role_arns=[str(a) for a in v[6]],
                shift_arns=[str(a) for a in v[7]]))
        targets, actions = self._zone(r, account)
        self._template(r, "zone", stops, "AZ Availability: Power Interruption of one zone",
                       zone_policy, targets, actions, "skip")

    def _cache_target(self, r: DrillRegion) -> aws.fis.ExperimentTemplateTargetArgs:
        # [T] #target-parameters: availabilityZoneIdentifier (required) is a zone name,
        # e.g. us-east-1a, or a zone ID; DrillRegion.zone is a name.
        return _target("ReplicationGroups-Target", "aws:elasticache:replicationgroup",
                       arns=[r.cache_group_arn], parameters={"availabilityZoneIdentifier": r.zone})

    @staticmethod
    def _shift_arns(r: DrillRegion) -> pulumi.Output[list[Any]]:
        """What ARC shifts in the zone drill: the cluster and the edge load balancers."""
        if not r.zonal_shift:
            return pulumi.Output.from_input([])
        return pulumi.Output.all(r.cluster_arn, *r.load_balancer_arns)

    def _zone(self, r: DrillRegion, account: pulumi.Output[str]) -> tuple[list[Any], list[Any]]:
        args = self._args
        duration = args.interruption
        # [S] Stop-Instances: running instances in the zone ([T] filters on the
        # DescribeInstances output); every node of this cluster (ownership_tag).
        in_zone: dict[str, Sequence[pulumi.Input[str]]] = {
            "State.Name": ["running"], "Placement.AvailabilityZone": [r.zone]}
        subnet_arns = pulumi.Output.all(account, r.zone_subnet_ids).apply(
            lambda v: [f"arn:{args.partition}:ec2:{r.region}:{v[0]}:subnet/{s}" for s in v[1]])
        owned = pulumi.Output.from_input(r.cluster_name).apply(ownership_tag)
        targets = [
            _target("Instances-Target", "aws:ec2:instance", tags=[(owned, OWNED)],
                    filters=in_zone),
            # [S] Pause-ASG-Scaling: the managed node groups' ASGs (Karpenter has none).
            _target("AutoScalingGroups-Target", "aws:ec2:autoscaling-group",
                    tags=[(CLUSTER_TAG, r.cluster_name)]),
            # [T]: a target takes ARNs or a filter, not both; these ARNs are the zone's.
            _target("Subnets-Target", "aws:ec2:subnet", arns=subnet_arns),
        ]
        # [A] #asg-ice / #api-ice: `availabilityZoneIdentifiers` takes zone names or IDs;
        # `percentage` 1-100; `duration` ISO 8601 (as every duration here, [A]).
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
            # [T] #target-parameters: only a cluster whose writer is in the zone fails over.
            # [T] says "Availability Zone identifiers" without naming the form; the zone
            # name is what public renderings of [S] pass. UNCONFIRMED that an AZ ID would
            # be needed instead (every other zone parameter here takes names or IDs).
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
            # [A] #recovery: key `ManagedResources`; `availabilityZoneIdentifier` a zone
            # name or ID; AUTOSHIFT_STATUS for resources with zonal shift but no autoshift.
            targets.append(_target("ManagedResources-Target",
                                   "aws:arc:zonal-shift-managed-resource",
                                   arns=self._shift_arns(r)))
            actions += [
                _action("Wait-For-Autoshift", "aws:fis:wait", duration=args.shift_after),
                _action("Start-ARC-Zonal-Autoshift", "aws:arc:start-zonal-autoshift",
                        ("ManagedResources", "ManagedResources-Target"),
                        after=("Wait-For-Autoshift",), availabilityZoneIdentifier=r.zone,  # type: ignore[arg-type]
                        duration=args.shift_for, zonalAutoshiftStatus=AUTOSHIFT_STATUS),
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
