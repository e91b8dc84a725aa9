"""The ARC Region switch plan: blocks, approval, RTO, least privilege, the DNS attachment."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore
import pulumi
import pulumi_aws as aws
import pytest
import yaml

from components.aws.dns import FailoverDns, FailoverDnsArgs, RegionEndpoint
from components.aws.region_switch import (
    ARC_PRINCIPAL,
    PLAN_TYPE,
    PlanRegion,
    RegionSwitchPlan,
    RegionSwitchPlanArgs,
    ScaledDeployment,
    Workload,
    orchestrator_workload,
)
from hastack.plan import mocks
from hastack.plan.runner import Recording, run_program

REGIONS = ("us-east-1", "us-west-2")
ROLES = {"us-east-1": "active", "us-west-2": "standby"}
# botocore's arc-region-switch model: the documentation strings are AWS's.
ARC_MODEL = next(Path(botocore.__file__).parent.glob(
    "data/arc-region-switch/*/service-2.json.gz"))
HEALTH_CHECKS = "aws:arcregionswitch/getRoute53HealthChecks:getRoute53HealthChecks"


def _args(**overrides: Any) -> RegionSwitchPlanArgs:
    fields: dict[str, Any] = {
        "name": "hastack-prod", "tier": "prod", "primary_region": "us-east-1",
        "regions": [PlanRegion(r, f"arn:aws:rds:{r}:123456789012:cluster:db-{r}",
                               f"arn:aws:eks:{r}:123456789012:cluster/eks-{r}", f"eks-{r}")
                    for r in REGIONS],
        "global_cluster_identifier": "hastack-prod-aurora",
        "global_cluster_arn": "arn:aws:rds::123456789012:global-cluster:hastack-prod-aurora",
        "workload": orchestrator_workload("prefect", ROLES),
        "hosted_zone_id": "ZONE1", "record_name": "app.example.com", "rto_seconds": 601,
        "health_alarm_arns": {r: f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:hc-{r}"
                              for r in REGIONS},
    }
    fields.update(overrides)
    return RegionSwitchPlanArgs(**fields)


def _run(args: RegionSwitchPlanArgs, with_dns: bool = False) -> Recording:
    def program() -> None:
        control, resolve = pulumi.deferred_output()  # type: ignore[var-annotated]
        if with_dns:
            FailoverDns("dns", FailoverDnsArgs(
                tier="prod", domain="example.com", hostname="app", zone_id="ZONE1",
                endpoints=[RegionEndpoint("us-east-1", "alb-east", "Z1"),
                           RegionEndpoint("us-west-2", "alb-west", "Z2", evaluate_health=False)],
                active_region="us-east-1", control_health_checks=control))
        try:
            plan = RegionSwitchPlan("rs", args)
        except ValueError:
            resolve(pulumi.Output.from_input({}))   # as the platform does: fail, never hang
            raise
        resolve(plan.health_check_ids)

    return run_program(program, project="hastack", stack="test", config={})


@pytest.fixture(scope="module")
def prod() -> Recording:
    return _run(_args())


def _plan_inputs(recording: Recording) -> dict[str, Any]:
    (plan,) = recording.of_type(PLAN_TYPE)
    return plan.inputs


def test_rto_minutes_round_the_region_target_up(prod: Recording) -> None:
    inputs = _plan_inputs(prod)
    assert inputs["recoveryTimeObjectiveMinutes"] == 11   # 601 s
    assert inputs["recoveryApproach"] == "activePassive"
    assert inputs["primaryRegion"] == "us-east-1" and inputs["regions"] == list(REGIONS)


def test_every_region_has_an_ordered_activate_workflow_with_approval_first(
        prod: Recording) -> None:
    workflows = _plan_inputs(prod)["workflows"]
    assert sorted(w["workflowTargetRegion"] for w in workflows) == list(REGIONS)
    for workflow in workflows:
        assert workflow["workflowTargetAction"] == "activate"
        assert [s["executionBlockType"] for s in workflow["steps"]] == [
            "ManualApproval", "AuroraGlobalDatabase", "EKSResourceScaling",
            "Route53HealthCheck"]
        approval, aurora, scaling, dns = workflow["steps"]
        assert approval["executionApprovalConfigs"][0]["approvalRole"].endswith(
            ":role/hastack-prod-arc-approver")
        config = aurora["globalAuroraConfigs"][0]
        assert config["behavior"] == "switchoverOnly"
        assert config["ungracefuls"] == [{"ungraceful": "failover"}]
        assert config["globalClusterIdentifier"] == "hastack-prod-aurora"
        assert len(config["databaseClusterArns"]) == 2
        eks = scaling["eksResourceScalingConfigs"][0]
        assert eks["kubernetesResourceTypes"] == [{"apiVersion": "apps/v1", "kind": "Deployment"}]
        assert eks["capacityMonitoringApproach"] == "sampledMaxInLast24Hours"
        # Application key -> one resource per Region (the provider's `resourceName`
        # is the Region key of the API's map), named as that region's Deployment.
        scaled = {app["namespace"]: {r["resourceName"]: (r["namespace"], r["name"])
                                     for r in app["resources"]}
                  for app in eks["scalingResources"]}
        assert scaled == {
            "prefect-server": {r: ("prefect", "prefect-server") for r in REGIONS},
            "prefect-background-services": {
                "us-east-1": ("prefect", "prefect-server-background-services"),
                "us-west-2": ("prefect", "prefect-server-standby-services")},
            "prefect-worker": {r: ("prefect", "prefect-worker") for r in REGIONS}}
        assert eks["ungracefuls"] == [{"minimumSuccessPercentage": 99}]
        assert "hpaName" not in str(eks)
        route53 = dns["route53HealthCheckConfigs"][0]
        assert route53["recordName"] == "app.example.com"
        assert {(r["recordSetIdentifier"], r["region"]) for r in route53["recordSets"]} == {
            (r, r) for r in REGIONS}


def test_health_alarms_are_application_health_and_nothing_triggers_a_failover(
        prod: Recording) -> None:
    inputs = _plan_inputs(prod)
    assert {a["alarmType"] for a in inputs["associatedAlarms"]} == {"applicationHealth"}
    assert len(inputs["associatedAlarms"]) == 2
    assert "triggers" not in inputs


def test_staging_has_no_approval_step_and_prod_cannot_drop_it() -> None:
    staging = _plan_inputs(_run(_args(tier="staging")))
    for workflow in staging["workflows"]:
        assert workflow["steps"][0]["executionBlockType"] == "AuroraGlobalDatabase"
    with pytest.raises(ValueError, match="prod plans keep the manual approval"):
        _run(_args(require_approval=False))


@pytest.mark.parametrize(("overrides", "message"), [
    ({"regions": []}, "exactly two distinct regions"),
    ({"primary_region": "eu-west-1"}, "not one of"),
    ({"rto_seconds": 0}, "must be positive"),
    ({"workload": Workload("prefect", ())}, "nothing would be scaled"),
    ({"ungraceful_min_success_percent": 100}, "0..99"),
    ({"workload": Workload("prefect", (ScaledDeployment("x", {"us-east-1": "x"}),))},
     "names regions"),
    ({"health_alarm_arns": {"eu-west-1": "arn"}}, "does not have"),
])
def test_impossible_plans_are_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _run(_args(**overrides))


def _role_and_policy(recording: Recording, suffix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    (role,) = recording.of_type("aws:iam/role:Role", lambda r: r.name == f"rs-{suffix}")
    (policy,) = recording.of_type("aws:iam/rolePolicy:RolePolicy",
                                  lambda r: r.name == f"rs-{suffix}")
    return json.loads(role.inputs["assumeRolePolicy"]), json.loads(policy.inputs["policy"])


def test_execution_role_is_trusted_by_arc_only_and_least_privilege(prod: Recording) -> None:
    trust, policy = _role_and_policy(prod, "execution")
    assert trust["Statement"] == [{"Effect": "Allow", "Principal": {"Service": ARC_PRINCIPAL},
                                   "Action": "sts:AssumeRole"}]
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert actions == {
        "rds:DescribeGlobalClusters", "rds:DescribeDBClusters", "rds:FailoverGlobalCluster",
        "rds:SwitchoverGlobalCluster", "eks:DescribeCluster", "eks:ListAssociatedAccessPolicies",
        "route53:ListResourceRecordSets", "arc-region-switch:GetPlan",
        "arc-region-switch:GetPlanExecution", "arc-region-switch:ListPlanExecutions",
        "cloudwatch:DescribeAlarms", "cloudwatch:DescribeAlarmHistory"}
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    # What changes anything is scoped to this environment's resources.
    assert by_sid["AuroraSwitch"]["Resource"] == [
        "arn:aws:rds::123456789012:global-cluster:hastack-prod-aurora",
        "arn:aws:rds:us-east-1:123456789012:cluster:db-us-east-1",
        "arn:aws:rds:us-west-2:123456789012:cluster:db-us-west-2"]
    assert by_sid["EksAccessEntries"]["Resource"] == [
        f"arn:aws:eks:{r}:123456789012:access-entry/eks-{r}/*" for r in REGIONS]
    assert by_sid["Route53Records"]["Resource"] == ["arn:aws:route53:::hostedzone/ZONE1"]
    assert all(not a.endswith("*") for a in actions)


def test_each_cluster_grants_the_execution_role_arc_scaling_in_the_namespace_only(
        prod: Recording) -> None:
    entries = prod.of_type("aws:eks/accessEntry:AccessEntry")
    associations = prod.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert sorted(e.inputs["clusterName"] for e in entries) == [f"eks-{r}" for r in REGIONS]
    assert all(e.inputs["principalArn"].endswith(":role/hastack-prod-arc-execution")
               for e in entries)
    for association in associations:
        assert association.inputs["policyArn"] == (
            "arn:aws:eks::aws:cluster-access-policy/AmazonARCRegionSwitchScalingPolicy")
        assert association.inputs["accessScope"] == {"type": "namespace",
                                                     "namespaces": ["prefect"]}
    # ARC evaluates the plan with the role when it is created: access first.
    (plan,) = prod.of_type(PLAN_TYPE)
    for dependency in [*entries, *associations]:
        assert dependency.urn in plan.dependencies


def test_the_approval_role_operates_this_plan_only(prod: Recording) -> None:
    trust, policy = _role_and_policy(prod, "approver")
    assert trust["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    (statement,) = policy["Statement"]
    assert "arc-region-switch:ApprovePlanExecutionStep" in statement["Action"]
    assert all(a.startswith("arc-region-switch:") for a in statement["Action"])
    assert all("plan/" in r for r in statement["Resource"])


def test_a_given_approval_role_is_used_and_none_is_created() -> None:
    recording = _run(_args(approval_role_arn="arn:aws:iam::123456789012:role/oncall"))
    assert not recording.of_type("aws:iam/role:Role", lambda r: r.name == "rs-approver")
    approval = _plan_inputs(recording)["workflows"][0]["steps"][0]
    assert approval["executionApprovalConfigs"][0]["approvalRole"] == (
        "arn:aws:iam::123456789012:role/oncall")


def _control_check(recording: Recording) -> dict[str, Any]:
    (check,) = recording.of_type("aws:route53/healthCheck:HealthCheck",
                                 lambda r: r.name == "dns-us-east-1-control")
    return check.inputs


def test_fresh_up_keeps_the_endpoint_check_and_the_next_up_attaches_arcs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two phases: ARC lists its health checks only once the plan exists."""
    # Phase one: a new plan, nothing listed yet (the offline plan's mock).
    first = _control_check(_run(_args(), with_dns=True))
    assert first["type"] == "CALCULATED" and first["childHealthThreshold"] == 1
    assert len(first["childHealthchecks"]) == 1
    (record,) = _run(_args(), with_dns=True).of_type(
        "aws:route53/record:Record", lambda r: r.name == "dns-us-east-1-failover")
    assert record.inputs["healthCheckId"] != first["childHealthchecks"][0]   # the calculated

    # Phase two: the next `pulumi up` reads ARC's checks and requires both to be healthy.
    def listed(args: dict[str, Any], _context: Any) -> dict[str, Any]:
        return {"planArn": args.get("planArn"), "healthChecks": [
            {"healthCheckId": f"arc-{r}", "hostedZoneId": "ZONE1",
             "recordName": "app.example.com.", "region": r, "status": "healthy"}
            for r in REGIONS] + [{"healthCheckId": "other", "hostedZoneId": "ZONE1",
                                  "recordName": "else.example.com", "region": "us-east-1",
                                  "status": "healthy"}]}

    monkeypatch.setitem(mocks.INVOKE_RULES, HEALTH_CHECKS, listed)
    second = _control_check(_run(_args(), with_dns=True))
    assert second["childHealthThreshold"] == 2
    assert second["childHealthchecks"][1] == "arc-us-east-1"
    assert second["childHealthchecks"][0] == first["childHealthchecks"][0]
    # The warm standby's record still has no check (dns.py, facts.md pitfall 1).
    (standby,) = _run(_args(), with_dns=True).of_type(
        "aws:route53/record:Record", lambda r: r.name == "dns-us-west-2-failover")
    assert standby.inputs.get("healthCheckId") is None


def _chart_values(chart: str) -> dict[str, Any]:
    root = Path(os.environ.get("HASTACK_CHART_DATA", "/nonexistent")) / chart
    if not root.is_dir():
        pytest.skip(f"HASTACK_CHART_DATA has no {chart} chart data ({root}): cannot check the "
                    "Deployment names against the chart")
    (values,) = sorted(root.glob("*/values.yaml"))
    loaded: dict[str, Any] = yaml.safe_load(values.read_text())
    return loaded


def test_scaled_deployment_names_follow_the_charts() -> None:
    argo = _chart_values("argo-workflows")
    names = (f"argo-workflows-{argo['server']['name']}",
             f"argo-workflows-{argo['controller']['name']}")
    assert orchestrator_workload("argo", ROLES) == Workload("argo", tuple(
        ScaledDeployment(n, {r: n for r in REGIONS}) for n in names))
    _chart_values("prefect-server")
    prefect = orchestrator_workload("prefect", ROLES)
    assert prefect.namespace == "prefect"
    # API, background services and worker: every Deployment the standby needs.
    assert [d.key for d in prefect.deployments] == [
        "prefect-server", "prefect-background-services", "prefect-worker"]
    with pytest.raises(ValueError, match="unknown orchestrator"):
        orchestrator_workload("airflow", ROLES)


def test_the_background_services_entry_follows_the_roles() -> None:
    flipped = orchestrator_workload("prefect", {"us-east-1": "standby",
                                                "us-west-2": "active"})
    (background,) = [d for d in flipped.deployments if d.key == "prefect-background-services"]
    assert background.names == {"us-east-1": "prefect-server-standby-services",
                                "us-west-2": "prefect-server-background-services"}


def _shape(name: str) -> dict[str, Any]:
    with gzip.open(ARC_MODEL) as model:
        shape: dict[str, Any] = json.loads(model.read())["shapes"][name]
    return shape


def test_the_fields_we_send_have_the_meaning_and_range_the_api_model_gives() -> None:
    # scalingResources: [ {application key: {Region: {namespace, name, hpaName}}} ].
    apps = _shape("KubernetesScalingApps")
    application = _shape(apps["member"]["shape"])
    assert application["type"] == "map"
    regional = _shape(application["value"]["shape"])
    assert regional["type"] == "map" and regional["key"]["shape"] == "Region"
    resource = _shape(regional["value"]["shape"])
    assert set(resource["members"]) == {"namespace", "name", "hpaName"}
    assert set(resource["required"]) == {"namespace", "name"}
    assert _shape("EksCapacityMonitoringApproach")["enum"] == ["sampledMaxInLast24Hours"]
    success = _shape("EksResourceScalingUngracefulMinimumSuccessPercentageInteger")
    assert (success["min"], success["max"]) == (0, 99)
    assert _shape("EksResourceScalingConfigurationTargetPercentInteger")["min"] == 1
    assert "switchoverOnly" in _shape("GlobalAuroraDefaultBehavior")["enum"]
    assert _shape("GlobalAuroraUngracefulBehavior")["enum"] == ["failover"]
    assert "activate" in _shape("WorkflowTargetAction")["enum"]


@pytest.mark.parametrize(("stack", "expected"), [("prod", True), ("staging", True),
                                                 ("dev", False)])
def test_two_region_aws_environments_export_their_plan(
        stack_plan: Callable[[str], Any], stack: str, expected: bool) -> None:
    plan = stack_plan(stack).plan
    plans = [r for r in plan["resources"] if r["type"] == PLAN_TYPE]
    assert bool(plans) == expected
    assert ("regionSwitchPlanArn" in plan["outputs"]) == expected
    if expected:
        (arc,) = plans
        target = plan["outputs"]["workloads"]
        assert arc["inputs"]["name"] == f"hastack-{target['environment']}"
        assert arc["inputs"]["primaryRegion"] == plan["regions"]["primary"]
        approval = [s for w in arc["inputs"]["workflows"] for s in w["steps"]
                    if s["executionBlockType"] == "ManualApproval"]
        assert bool(approval) == (stack == "prod")
        assert "workloads" in plan["outputs"] and "regionSwitchPlanArn" not in \
            plan["outputs"]["workloads"]


_ = aws  # the SDK the component registers (imported for type registration)
