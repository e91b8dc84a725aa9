"""An ARC Region switch plan: failover as one reviewed, regionally executed operation.

Built per two-region environment from the platform's own objects
(pulumi-aws `arcregionswitch.Plan`; fields as `_inputs.py` of the pinned SDK names them):

* one `activate` workflow per region, in this order (an activePassive plan is
  moved by activating the other region; the API's `workflowTargetAction` enum also
  has `deactivate` and `postRecovery`, and whether an activePassive plan accepts
  them is not stated in the model or the pages read: unverified, not used):
  1. prod: a `ManualApproval` step (`executionApprovalConfig.approvalRole`): ARC pauses
     the execution until someone who can use the approval role approves it;
  2. `AuroraGlobalDatabase` (`globalAuroraConfig`): `behavior: switchoverOnly` calls
     SwitchoverGlobalCluster (zero data loss) in graceful (planned) mode;
     `ungraceful.ungraceful: failover` (the enum's only value) calls
     FailoverGlobalCluster with AllowDataLoss in ungraceful (unplanned) mode; left
     out, ungraceful runs would use `behavior` (botocore arc-region-switch
     2022-07-26 `GlobalAuroraConfiguration`, `GlobalAuroraUngraceful`);
  3. `EKSResourceScaling` (`eksResourceScalingConfig`): the orchestrator's Deployments
     of the activating region to `targetPercent` (API minimum 1, default 100) of the
     deactivating region's replicas: ARC computes `ceil(percentToMatch * source
     replica count)` from the maximum it sampled over the last 24 h
     (`capacityMonitoringApproach` `sampledMaxInLast24Hours`, the only value of the
     API's enum), so it works when that region is gone; it scales a Deployment only
     if its ready count is lower, then waits for ready replicas; ungraceful runs go
     on at `minimumSuccessPercentage` (API range 0..99) of that capacity
     (r53recovery dg eks-resource-scaling-block "How it works"; see `Workload`);
  4. `Route53HealthCheck` (`route53HealthCheckConfig`): ARC flips the health checks it
     creates for the failover records (record sets mapped explicitly by their set
     identifier, which is the region). See `health_check_ids` for the attachment.
* associated alarms: the regions' endpoint health-check alarms as `applicationHealth`
  (ARC reports recovery once they are green again); no `trigger` alarms, so nothing
  starts a failover on its own;
* `recoveryTimeObjectiveMinutes` = the region RTO target, rounded up;
* a least-privilege execution role trusted only by `arc-region-switch.amazonaws.com`
  (ARC docs: security_iam_region_switch_trust_policy), with exactly the actions the
  execution-block sample policies list, on these resources; plus an EKS access entry
  with `AmazonARCRegionSwitchScalingPolicy` on each cluster (eks-resource-scaling-block);
* prod: an approval role (created, unless `approval_role_arn` names one) that may start,
  follow and approve executions of this plan only; it is the role `hastack failover`
  runs as. It trusts the account: grant `sts:AssumeRole` on it to the on-call group.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from components.base import Tier, child_options, standard_tags

COMPONENT = "RegionSwitchPlan"
ARC_PRINCIPAL = "arc-region-switch.amazonaws.com"
SCALING_ACCESS_POLICY = "AmazonARCRegionSwitchScalingPolicy"
PLAN_TYPE = "aws:arcregionswitch/plan:Plan"
# Step names: `hastack failover` reads them back (approval) and prints them.
APPROVAL_STEP, DATABASE_STEP, SCALING_STEP, DNS_STEP = (
    "approve", "aurora-global-database", "scale-orchestrator", "route53-health-checks")
# Read-only calls ARC makes on its own plan (AWS managed policy
# AmazonApplicationRecoveryControllerRegionSwitchPlanExecutionPolicy, sid GetPlanAndExecutions).
PLAN_READS = ("arc-region-switch:GetPlan", "arc-region-switch:GetPlanExecution",
              "arc-region-switch:ListPlanExecutions")
APPROVER_ACTIONS = ("arc-region-switch:StartPlanExecution",
                    "arc-region-switch:GetPlanExecution",
                    "arc-region-switch:ListPlanExecutions",
                    "arc-region-switch:ListPlanExecutionEvents",
                    "arc-region-switch:ApprovePlanExecutionStep",
                    "arc-region-switch:GetPlanInRegion",
                    "arc-region-switch:ListPlansInRegion")


@dataclass(frozen=True)
class PlanRegion:
    """What the plan acts on in one region."""

    region: str
    database_cluster_arn: pulumi.Input[str]
    eks_cluster_arn: pulumi.Input[str]
    eks_cluster_name: pulumi.Input[str]
    provider: pulumi.ProviderResource | None = None


@dataclass(frozen=True)
class ScaledDeployment:
    """One entry of ARC's `scalingResources`: an application and its Deployment per region.

    The API's shape (botocore `KubernetesScalingApps`): a list of maps, application
    key -> {Region -> KubernetesScalingResource{namespace, name, hpaName}}; `name` is
    the Deployment's name in that Region's cluster. The pinned provider spells it
    `scalingResources[].namespace` (the application key, despite its name) and
    `resources[].resourceName` (the Region key) with `name`/`namespace` of the
    object (terraform-provider-aws internal/service/arcregionswitch expand: the
    outer key from `namespace`, the inner from `resource_name`).
    """

    key: str
    names: Mapping[str, str]   # region -> the Deployment's name there


@dataclass(frozen=True)
class Workload:
    """The Deployments ARC scales up in the activating region.

    No `hpaName`: ARC would patch that HPA's scale-down off (eks-resource-scaling-
    block "How it works"), and the standby's worker has no HPA until `pulumi up`.
    """

    namespace: str
    deployments: Sequence[ScaledDeployment]


@dataclass(frozen=True)
class RegionSwitchPlanArgs:
    name: str                                   # the plan's name, unique in the account
    tier: Tier
    primary_region: str                         # regions.primary: never changes
    regions: Sequence[PlanRegion]
    global_cluster_identifier: str
    global_cluster_arn: pulumi.Input[str]
    workload: Workload
    hosted_zone_id: pulumi.Input[str]
    record_name: str                            # the failover name, `<hostname>.<domain>`
    rto_seconds: int
    # Region -> ARN of that region's application-health alarm (Alarms component).
    health_alarm_arns: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # Manual approval: on by default in prod (the tier's promise: a human decides).
    require_approval: bool | None = None
    approval_role_arn: pulumi.Input[str] | None = None
    approval_timeout_minutes: int = 60
    # Capacity of the activating region relative to the deactivating one.
    scale_target_percent: int = 100
    # Ungraceful (unplanned) runs: go on once this share of the capacity is ready.
    # The API's range is 0..99 (`EksResourceScalingUngracefulMinimumSuccessPercentage
    # Integer`): 99 is as close to "everything" as it accepts.
    ungraceful_min_success_percent: int = 99
    step_timeout_minutes: int = 30
    recovery_approach: Literal["activePassive"] = "activePassive"
    provider: pulumi.ProviderResource | None = None   # where the plan is managed
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def approval(self) -> bool:
        return self.tier == "prod" if self.require_approval is None else self.require_approval

    @property
    def rto_minutes(self) -> int:
        return math.ceil(self.rto_seconds / 60)


def validate(args: RegionSwitchPlanArgs) -> None:
    regions = [r.region for r in args.regions]
    if len(regions) != 2 or len(set(regions)) != 2:
        raise ValueError(f"a Region switch plan needs exactly two distinct regions (got {regions})")
    if args.primary_region not in regions:
        raise ValueError(f"primary_region '{args.primary_region}' is not one of {regions}")
    if args.tier == "prod" and not args.approval:
        raise ValueError("prod plans keep the manual approval step: a failover of prod is a "
                         "human decision (require_approval=False is not allowed in prod)")
    if args.rto_seconds <= 0:
        raise ValueError(f"rto_seconds must be positive (got {args.rto_seconds})")
    if not args.workload.deployments:
        raise ValueError("workload.deployments is empty: nothing would be scaled up")
    for deployment in args.workload.deployments:
        if set(deployment.names) != set(regions):
            raise ValueError(f"workload deployment {deployment.key!r} names regions "
                             f"{sorted(deployment.names)}; the plan has {sorted(regions)}")
    if args.scale_target_percent < 1:
        raise ValueError("scale_target_percent must be at least 1 "
                         f"(got {args.scale_target_percent})")
    if not 0 <= args.ungraceful_min_success_percent <= 99:
        raise ValueError("ungraceful_min_success_percent must be 0..99 (the API's range) "
                         f"(got {args.ungraceful_min_success_percent})")
    unknown = sorted(set(args.health_alarm_arns) - set(regions))
    if unknown:
        raise ValueError(f"health_alarm_arns names regions the plan does not have: {unknown}")


def execution_policy(global_cluster_arn: str, database_arns: Sequence[str],
                     eks_arns: Sequence[str], hosted_zone_id: str,
                     alarm_arns: Sequence[str]) -> dict[str, Any]:
    """The execution role's permissions: the ARC sample policy of each block used, scoped."""
    statements: list[dict[str, Any]] = [
        # security_iam_region_switch_aurora: describe on *, switchover/failover scoped.
        {"Sid": "AuroraDescribe", "Effect": "Allow",
         "Action": ["rds:DescribeGlobalClusters", "rds:DescribeDBClusters"], "Resource": "*"},
        {"Sid": "AuroraSwitch", "Effect": "Allow",
         "Action": ["rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster"],
         "Resource": [global_cluster_arn, *database_arns]},
        # security_iam_region_switch_eks.
        {"Sid": "EksDescribe", "Effect": "Allow", "Action": ["eks:DescribeCluster"],
         "Resource": list(eks_arns)},
        {"Sid": "EksAccessEntries", "Effect": "Allow",
         "Action": ["eks:ListAssociatedAccessPolicies"],
         "Resource": [arn.replace(":cluster/", ":access-entry/", 1) + "/*" for arn in eks_arns]},
        # security_iam_region_switch_route53.
        {"Sid": "Route53Records", "Effect": "Allow", "Action": ["route53:ListResourceRecordSets"],
         "Resource": [f"arn:aws:route53:::hostedzone/{hosted_zone_id}"]},
        # The plan reading itself (AWS managed execution policy; read-only).
        {"Sid": "PlanReads", "Effect": "Allow", "Action": list(PLAN_READS), "Resource": "*"},
    ]
    if alarm_arns:
        # security_iam_region_switch_cloudwatch / _reports: the application-health alarms.
        statements.append({"Sid": "HealthAlarms", "Effect": "Allow",
                           "Action": ["cloudwatch:DescribeAlarms",
                                      "cloudwatch:DescribeAlarmHistory"],
                           "Resource": list(alarm_arns)})
    return {"Version": "2012-10-17", "Statement": statements}


def trust_policy(principal: Mapping[str, str]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": dict(principal), "Action": "sts:AssumeRole"}]})


class RegionSwitchPlan(pulumi.ComponentResource):
    """The environment's ARC Region switch plan, its execution role and EKS access."""

    plan_arn: pulumi.Output[str]
    execution_role_arn: pulumi.Output[str]
    approval_role_arn: pulumi.Output[str] | None
    # Region -> ID of the Route 53 health check ARC created for that region's failover
    # record (absent until ARC has created it: the DNS picks it up on the next `up`).
    health_check_ids: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: RegionSwitchPlanArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        validate(args)
        super().__init__(f"hastack:aws:{COMPONENT}", name, None, opts)
        self._name, self._args = name, args
        tags = standard_tags(args.tier, COMPONENT, args.tags)
        options = child_options(self, args.provider)
        role = aws.iam.Role(
            f"{name}-execution", name=f"{args.name}-arc-execution",
            description=f"ARC Region switch executes plan {args.name} with this role",
            assume_role_policy=trust_policy({"Service": ARC_PRINCIPAL}),
            tags=tags, opts=options)
        alarm_arns = [args.health_alarm_arns[r] for r in sorted(args.health_alarm_arns)]
        policy = aws.iam.RolePolicy(
            f"{name}-execution", role=role.id,
            policy=pulumi.Output.all(
                args.global_cluster_arn, [r.database_cluster_arn for r in args.regions],
                [r.eks_cluster_arn for r in args.regions], args.hosted_zone_id, alarm_arns,
            ).apply(lambda v: json.dumps(execution_policy(*v))),
            opts=options)
        access = self._cluster_access(name, role, tags)
        self.approval_role_arn = self._approval_role(name, tags, options) if args.approval \
            else None
        plan = aws.arcregionswitch.Plan(
            name, name=args.name, description=f"Fail over {args.name} between "
                                              f"{' and '.join(r.region for r in args.regions)}",
            execution_role=role.arn, recovery_approach=args.recovery_approach,
            regions=[r.region for r in args.regions], primary_region=args.primary_region,
            recovery_time_objective_minutes=args.rto_minutes,
            associated_alarms=[aws.arcregionswitch.PlanAssociatedAlarmArgs(
                alarm_type="applicationHealth", map_block_key=f"{region}-health",
                resource_identifier=args.health_alarm_arns[region])
                for region in sorted(args.health_alarm_arns)] or None,
            workflows=[self._workflow(r.region) for r in args.regions],
            tags=tags,
            # ARC evaluates the plan with the role at creation: its policy and the
            # clusters' access entries must exist first.
            opts=pulumi.ResourceOptions.merge(options, pulumi.ResourceOptions(
                depends_on=[policy, *access])))
        self.plan_arn = plan.arn
        self.execution_role_arn = role.arn
        if self._approval_role_resource is not None:
            aws.iam.RolePolicy(
                f"{name}-approver", role=self._approval_role_resource.id,
                policy=plan.arn.apply(lambda arn: json.dumps({
                    "Version": "2012-10-17", "Statement": [{
                        "Sid": "OperatePlan", "Effect": "Allow",
                        "Action": list(APPROVER_ACTIONS), "Resource": [arn, f"{arn}/*"]}]})),
                opts=options)
        self.health_check_ids = self._health_checks(plan, options)
        self.register_outputs({"planArn": self.plan_arn, "executionRoleArn": role.arn,
                               "approvalRoleArn": self.approval_role_arn})

    # ------------------------------------------------------------------ pieces

    def _cluster_access(self, name: str, role: aws.iam.Role, tags: Mapping[str, str]
                        ) -> list[pulumi.Resource]:
        """The EKS access entry + ARC scaling access policy, namespace-scoped, per cluster."""
        made: list[pulumi.Resource] = []
        for region in self._args.regions:
            options = child_options(self, region.provider)
            entry = aws.eks.AccessEntry(
                f"{name}-{region.region}-arc", cluster_name=region.eks_cluster_name,
                principal_arn=role.arn, type="STANDARD", tags=dict(tags), opts=options)
            association = aws.eks.AccessPolicyAssociation(
                f"{name}-{region.region}-arc", cluster_name=region.eks_cluster_name,
                principal_arn=entry.principal_arn,
                policy_arn=f"arn:aws:eks::aws:cluster-access-policy/{SCALING_ACCESS_POLICY}",
                # Only the orchestrator's namespace: ARC scales nothing else.
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(
                    type="namespace", namespaces=[self._args.workload.namespace]),
                opts=options)
            made += [entry, association]
        return made

    _approval_role_resource: aws.iam.Role | None = None

    def _approval_role(self, name: str, tags: Mapping[str, str],
                       options: pulumi.ResourceOptions) -> pulumi.Output[str]:
        if self._args.approval_role_arn is not None:
            return pulumi.Output.from_input(self._args.approval_role_arn)
        account = aws.get_caller_identity_output(
            opts=pulumi.InvokeOutputOptions(provider=self._args.provider)).account_id
        role = aws.iam.Role(
            f"{name}-approver", name=f"{self._args.name}-arc-approver",
            description=f"Starts, follows and approves executions of ARC plan {self._args.name}",
            assume_role_policy=account.apply(
                lambda a: trust_policy({"AWS": f"arn:aws:iam::{a}:root"})),
            max_session_duration=3600, tags=dict(tags), opts=options)
        self._approval_role_resource = role
        return role.arn

    def _workflow(self, target: str) -> aws.arcregionswitch.PlanWorkflowArgs:
        args = self._args
        other = next(r.region for r in args.regions if r.region != target)
        steps: list[aws.arcregionswitch.PlanWorkflowStepArgs] = []
        if args.approval:
            assert self.approval_role_arn is not None
            steps.append(aws.arcregionswitch.PlanWorkflowStepArgs(
                name=APPROVAL_STEP, execution_block_type="ManualApproval",
                description=f"A person confirms moving {args.name} to {target}",
                execution_approval_configs=[
                    aws.arcregionswitch.PlanWorkflowStepExecutionApprovalConfigArgs(
                        approval_role=self.approval_role_arn,
                        timeout_minutes=args.approval_timeout_minutes)]))
        steps.append(aws.arcregionswitch.PlanWorkflowStepArgs(
            name=DATABASE_STEP, execution_block_type="AuroraGlobalDatabase",
            description=f"Make the {target} cluster the global database writer",
            global_aurora_configs=[aws.arcregionswitch.PlanWorkflowStepGlobalAuroraConfigArgs(
                behavior="switchoverOnly",
                global_cluster_identifier=args.global_cluster_identifier,
                database_cluster_arns=[r.database_cluster_arn for r in args.regions],
                timeout_minutes=args.step_timeout_minutes,
                ungracefuls=[aws.arcregionswitch.PlanWorkflowStepGlobalAuroraConfigUngracefulArgs(
                    ungraceful="failover")])]))
        workload = args.workload
        steps.append(aws.arcregionswitch.PlanWorkflowStepArgs(
            name=SCALING_STEP, execution_block_type="EKSResourceScaling",
            description=f"Scale the orchestrator in {target} to {args.scale_target_percent}% "
                        f"of {other}",
            eks_resource_scaling_configs=[
                aws.arcregionswitch.PlanWorkflowStepEksResourceScalingConfigArgs(
                    capacity_monitoring_approach="sampledMaxInLast24Hours",
                    target_percent=args.scale_target_percent,
                    timeout_minutes=args.step_timeout_minutes,
                    eks_clusters=[
                        aws.arcregionswitch.PlanWorkflowStepEksResourceScalingConfigEksClusterArgs(
                            cluster_arn=r.eks_cluster_arn) for r in args.regions],
                    kubernetes_resource_types=[
                        aws.arcregionswitch
                        .PlanWorkflowStepEksResourceScalingConfigKubernetesResourceTypeArgs(
                            api_version="apps/v1", kind="Deployment")],
                    # One application per Deployment; `namespace` here is ARC's
                    # application key and `resource_name` the Region (ScaledDeployment).
                    scaling_resources=[
                        aws.arcregionswitch
                        .PlanWorkflowStepEksResourceScalingConfigScalingResourceArgs(
                            namespace=deployment.key,
                            resources=[
                                aws.arcregionswitch
                                .PlanWorkflowStepEksResourceScalingConfigScalingResourceResourceArgs(
                                    resource_name=region, name=deployment.names[region],
                                    namespace=workload.namespace)
                                for region in sorted(deployment.names)])
                        for deployment in workload.deployments],
                    ungracefuls=[
                        aws.arcregionswitch
                        .PlanWorkflowStepEksResourceScalingConfigUngracefulArgs(
                            minimum_success_percentage=args.ungraceful_min_success_percent)],
                )]))
        steps.append(aws.arcregionswitch.PlanWorkflowStepArgs(
            name=DNS_STEP, execution_block_type="Route53HealthCheck",
            description=f"Route {args.record_name} to {target}",
            route53_health_check_configs=[
                aws.arcregionswitch.PlanWorkflowStepRoute53HealthCheckConfigArgs(
                    hosted_zone_id=args.hosted_zone_id, record_name=args.record_name,
                    timeout_minutes=args.step_timeout_minutes,
                    # The failover records' set identifier is their region (dns.py).
                    record_sets=[
                        aws.arcregionswitch.PlanWorkflowStepRoute53HealthCheckConfigRecordSetArgs(
                            record_set_identifier=r.region, region=r.region)
                        for r in args.regions])]))
        return aws.arcregionswitch.PlanWorkflowArgs(
            workflow_target_action="activate", workflow_target_region=target,
            workflow_description=f"Activate {target}: database, orchestrator, traffic",
            steps=steps)

    def _health_checks(self, plan: aws.arcregionswitch.Plan,
                       options: pulumi.ResourceOptions) -> pulumi.Output[dict[str, str]]:
        """ARC's health checks for the failover name, by region (ListRoute53HealthChecks).

        ARC creates them for the plan's Route53HealthCheck block; they are only listed
        once the plan exists. A fresh `pulumi up` therefore may see none: the records
        then keep their endpoint check alone, and the next `up` attaches ARC's (the
        data source is read on every run, so it converges in at most two).
        """
        record = self._args.record_name.rstrip(".")
        found = aws.arcregionswitch.get_route53_health_checks_output(
            plan_arn=plan.arn, opts=pulumi.InvokeOutputOptions(
                parent=self, provider=options.provider))
        return found.health_checks.apply(lambda checks: {
            c.region: c.health_check_id for c in sorted(
                checks or [], key=lambda c: (c.region, c.health_check_id))
            if c.record_name.rstrip(".") == record and c.health_check_id})


def orchestrator_workload(orchestrator: str, roles: Mapping[str, str]) -> Workload:
    """The orchestrator's Deployments per region, as the workloads stacks name them.

    `roles`: region -> "active" | "standby" (the environment's `activeRegion`).
    Names come from the charts' templates: Deployments are `common.names.fullname`
    (prefect-helm), which is our `fullnameOverride`; Argo's are `<fullname>-<component
    name>` with the chart's `controller.name: workflow-controller` / `server.name:
    server`. Argo's standby runs both at zero (argo.py `_standby_overrides`,
    "global-writer"). Prefect's background services are the chart's Deployment in
    the active region and the standby's own zero-replica one there
    (prefect_standby.py), so that entry's name follows the roles: flipping
    `activeRegion` updates the plan with the next `pulumi up`.
    """
    from components.k8s import argo, prefect, prefect_standby

    def everywhere(name: str) -> ScaledDeployment:
        return ScaledDeployment(name, {region: name for region in roles})

    if orchestrator == "prefect":
        background = ScaledDeployment("prefect-background-services", {
            region: prefect.BACKGROUND_DEPLOYMENT if role == "active"
            else prefect_standby.STANDBY_BACKGROUND_DEPLOYMENT
            for region, role in roles.items()})
        return Workload(str(_default(prefect.PrefectServerArgs, "namespace")),
                        (everywhere(prefect.SERVER_FULLNAME), background,
                         everywhere(prefect.WORKER_RELEASE)))
    if orchestrator == "argo":
        return Workload(str(_default(argo.ArgoWorkflowsArgs, "namespace")),
                        (everywhere(f"{argo.FULLNAME}-server"),
                         everywhere(f"{argo.FULLNAME}-workflow-controller")))
    raise ValueError(f"unknown orchestrator {orchestrator!r}; expected prefect or argo")


def _default(cls: Any, name: str) -> object:
    """A dataclass field's default: the namespace the workloads stack installs into."""
    return next(f.default for f in dataclasses.fields(cls) if f.name == name)
