"""FIS drill templates: the documented action IDs and targets, alarm stops, scoped roles, logs."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.aws.fis import DrillRegion, DrillTemplates, DrillTemplatesArgs
from components.aws.fis_roles import LOGGING, nodegroup_name, trust_policy, zone_statements
from hastack.plan.runner import Recording, run_program

TEMPLATE = "aws:fis/experimentTemplate:ExperimentTemplate"
ALARM = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:hastack-prod-alarms-us-east-1-alb-5xx"
CLUSTER = "arn:aws:rds:us-east-1:123456789012:cluster:hastack-prod-aurora-us-east-1"
GROUP = "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:hastack-prod-us-east-1"
EKS = "arn:aws:eks:us-east-1:123456789012:cluster/hastack-prod-us-east-1"
ALB = ("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/"
       "hastack-prod-alb/50dc6c495c0c9188")
KARPENTER = "arn:aws:iam::123456789012:role/karpenter"

# The "Permissions" list of each FIS action in the actions reference
# (https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html), copied
# here so that a role missing one, or granting one no action of its template needs, fails.
DOCUMENTED = {
    "aws:rds:failover-db-cluster": {"rds:FailoverDBCluster", "rds:DescribeDBClusters",
                                    "tag:GetResources"},
    "aws:elasticache:replicationgroup-interrupt-az-power": {
        "elasticache:InterruptClusterAzPower", "elasticache:DescribeReplicationGroups",
        "tag:GetResources"},
    "aws:eks:terminate-nodegroup-instances": {"ec2:DescribeInstances", "ec2:TerminateInstances",
                                              "eks:DescribeNodegroup", "tag:GetResources"},
    "aws:ec2:stop-instances": {"ec2:StopInstances", "ec2:StartInstances",
                               "ec2:DescribeInstances", "kms:CreateGrant"},
    "aws:ec2:asg-insufficient-instance-capacity-error": {
        "ec2:InjectApiError", "autoscaling:DescribeAutoScalingGroups"},
    "aws:ec2:api-insufficient-instance-capacity-error": {"ec2:InjectApiError"},
    "aws:network:disrupt-connectivity": {
        "ec2:CreateNetworkAcl", "ec2:CreateNetworkAclEntry", "ec2:CreateTags",
        "ec2:DeleteNetworkAcl", "ec2:DescribeManagedPrefixLists", "ec2:DescribeNetworkAcls",
        "ec2:DescribeSubnets", "ec2:DescribeVpcs", "ec2:GetManagedPrefixListEntries",
        "ec2:ReplaceNetworkAclAssociation"},
    "aws:arc:start-zonal-autoshift": {
        "arc-zonal-shift:StartZonalShift", "arc-zonal-shift:GetManagedResource",
        "arc-zonal-shift:UpdateZonalShift", "arc-zonal-shift:CancelZonalShift",
        "arc-zonal-shift:ListManagedResources", "autoscaling:DescribeTags",
        "tag:GetResources"},
    "aws:fis:wait": set(),
}


def _region(provider: pulumi.ProviderResource, **overrides: Any) -> DrillRegion:
    fields: dict[str, Any] = dict(
        region="us-east-1", provider=provider, cluster_name="hastack-prod-us-east-1",
        cluster_arn=EKS, zone="us-east-1a", zone_subnet_ids=["subnet-pub", "subnet-priv"],
        stop_alarm_arns=[ALARM],
        node_group_arn="arn:aws:eks:us-east-1:123456789012:nodegroup/c/general/1",
        database_cluster_arn=CLUSTER, cache_group_arn=GROUP,
        launch_role_arns=[KARPENTER], load_balancer_arns=[ALB], vpc_id="vpc-1")
    fields.update(overrides)
    return DrillRegion(**fields)


def _plan(tier: str = "prod", **region: Any) -> Recording:
    def program() -> None:
        east = aws.Provider("east", region="us-east-1")
        DrillTemplates("hastack-prod-drills", DrillTemplatesArgs(
            name="hastack-prod", tier=tier, partition="aws",  # type: ignore[arg-type]
            account_id="123456789012", regions=[_region(east, **region)]))
    return run_program(program, project="hastack", stack="test", config={})


@pytest.fixture(scope="module")
def prod() -> Recording:
    return _plan()


def _template(recording: Recording, scenario: str) -> dict[str, Any]:
    found = [r for r in recording.of_type(TEMPLATE) if r.name.endswith(f"-{scenario}")]
    assert len(found) == 1, [r.name for r in recording.of_type(TEMPLATE)]
    return found[0].inputs


def _actions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["name"]: a for a in template["actions"]}


def _params(action: dict[str, Any]) -> dict[str, str]:
    return {p["key"]: p["value"] for p in action.get("parameters", [])}


def test_one_template_per_scenario_with_alarm_stops_and_logs(prod: Recording) -> None:
    assert sorted(r.name for r in prod.of_type(TEMPLATE)) == [
        f"hastack-prod-drills-us-east-1-{s}" for s in ("cache", "node", "writer", "zone")]
    log_group = prod.of_type("aws:cloudwatch/logGroup:LogGroup")[0].inputs
    assert log_group["kmsKeyId"]  # a customer-managed key of its own
    for template in prod.of_type(TEMPLATE):
        inputs = template.inputs
        assert inputs["stopConditions"] == [{"source": "aws:cloudwatch:alarm", "value": ALARM}]
        logs = inputs["logConfiguration"]
        assert logs["logSchemaVersion"] == 2
        assert logs["cloudwatchLogsConfiguration"]["logGroupArn"].endswith(":*")
        assert inputs["tags"]["hastack:drill"] == template.name.rsplit("-", 1)[1]


def test_writer_cache_node_use_the_documented_actions(prod: Recording) -> None:
    writer = _template(prod, "writer")
    assert _actions(writer)["Failover-RDS"]["actionId"] == "aws:rds:failover-db-cluster"
    assert writer["targets"] == [{"name": "Clusters-Target", "resourceType": "aws:rds:cluster",
                                  "selectionMode": "ALL", "resourceArns": [CLUSTER]}]
    assert _actions(writer)["Failover-RDS"]["target"] == {"key": "Clusters",
                                                         "value": "Clusters-Target"}
    cache = _template(prod, "cache")
    pause = _actions(cache)["Pause-ElastiCache"]
    assert pause["actionId"] == "aws:elasticache:replicationgroup-interrupt-az-power"
    assert _params(pause) == {"duration": "PT10M"}
    assert cache["targets"][0]["resourceType"] == "aws:elasticache:replicationgroup"
    assert cache["targets"][0]["parameters"] == {"availabilityZoneIdentifier": "us-east-1a"}
    node = _actions(_template(prod, "node"))["Terminate-Nodes"]
    assert node["actionId"] == "aws:eks:terminate-nodegroup-instances"
    assert _params(node) == {"instanceTerminationPercentage": "34"}
    for name in ("writer", "cache", "node"):
        assert _template(prod, name)["experimentOptions"]["emptyTargetResolutionMode"] == "fail"


def test_zone_template_is_the_power_interruption_scenario(prod: Recording) -> None:
    zone = _template(prod, "zone")
    actions = _actions(zone)
    assert {name: a["actionId"] for name, a in actions.items()} == {
        "Stop-Instances": "aws:ec2:stop-instances",
        "Pause-ASG-Scaling": "aws:ec2:asg-insufficient-instance-capacity-error",
        "Pause-Instance-Launches": "aws:ec2:api-insufficient-instance-capacity-error",
        "Pause-network-connectivity": "aws:network:disrupt-connectivity",
        "Failover-RDS": "aws:rds:failover-db-cluster",
        "Pause-ElastiCache": "aws:elasticache:replicationgroup-interrupt-az-power",
        "Wait-For-Autoshift": "aws:fis:wait",
        "Start-ARC-Zonal-Autoshift": "aws:arc:start-zonal-autoshift",
    }
    assert _params(actions["Stop-Instances"]) == {"startInstancesAfterDuration": "PT10M",
                                                  "completeIfInstancesTerminated": "true"}
    assert _params(actions["Pause-network-connectivity"]) == {"duration": "PT10M",
                                                              "scope": "all"}
    # zonalAutoshiftStatus ANY: the cluster and ALB have zonal shift, not autoshift, and
    # the action's default (ENABLED) would resolve no target and skip the shift.
    assert _params(actions["Start-ARC-Zonal-Autoshift"]) == {
        "availabilityZoneIdentifier": "us-east-1a", "duration": "PT8M",
        "zonalAutoshiftStatus": "ANY"}
    assert _params(actions["Pause-ASG-Scaling"]) == {
        "availabilityZoneIdentifiers": "us-east-1a", "duration": "PT10M", "percentage": "100"}
    assert actions["Pause-Instance-Launches"]["target"] == {"key": "Roles",
                                                            "value": "Roles-Target"}
    assert actions["Start-ARC-Zonal-Autoshift"]["startAfters"] == ["Wait-For-Autoshift"]
    targets = {t["name"]: t for t in zone["targets"]}
    assert targets["Subnets-Target"]["resourceArns"] == [
        "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-pub",
        "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-priv"]
    # Every node of the cluster (managed node group and Karpenter) carries the ownership
    # tag; only managed node groups' carry eks:cluster-name.
    instances = targets["Instances-Target"]
    assert instances["resourceTags"] == [
        {"key": "kubernetes.io/cluster/hastack-prod-us-east-1", "value": "owned"}]
    assert targets["AutoScalingGroups-Target"]["resourceTags"] == [
        {"key": "eks:cluster-name", "value": "hastack-prod-us-east-1"}]
    assert targets["Roles-Target"]["resourceArns"] == [KARPENTER]
    assert {f["path"]: f["values"] for f in instances["filters"]} == {
        "State.Name": ["running"], "Placement.AvailabilityZone": ["us-east-1a"]}
    # Only a writer in the lost zone fails over (the scenario's target parameter).
    assert targets["Clusters-Target"]["parameters"] == {
        "writerAvailabilityZoneIdentifiers": "us-east-1a"}
    assert targets["ManagedResources-Target"]["resourceType"] == (
        "aws:arc:zonal-shift-managed-resource")
    assert targets["ManagedResources-Target"]["resourceArns"] == [EKS, ALB]
    for action in actions.values():
        if "target" in action:
            assert action["target"]["value"] in targets, action
    # A target takes ARNs or filters, never both (Targets for AWS FIS, Considerations).
    assert not [t for t in targets.values() if "resourceArns" in t and "filters" in t]
    assert zone["experimentOptions"]["emptyTargetResolutionMode"] == "skip"


def _policies(recording: Recording) -> dict[str, dict[str, Any]]:
    return {p.name.rsplit("-", 2)[-2]: json.loads(p.inputs["policy"])
            for p in recording.of_type("aws:iam/rolePolicy:RolePolicy")}


def _granted(document: dict[str, Any]) -> set[str]:
    return {a for s in document["Statement"] for a in s["Action"]}


def _sid(statements: Any, sid: str) -> dict[str, Any]:
    found = [s for s in statements if s["Sid"] == sid]
    assert len(found) == 1, [s["Sid"] for s in statements]
    return found[0]


def test_each_template_has_its_own_fis_only_role(prod: Recording) -> None:
    roles = prod.of_type("aws:iam/role:Role")
    assert len(roles) == 4
    for role in roles:
        trust = json.loads(role.inputs["assumeRolePolicy"])
        statement = trust["Statement"][0]
        assert statement["Principal"] == {"Service": "fis.amazonaws.com"}
        assert statement["Condition"] == {
            "StringEquals": {"aws:SourceAccount": "123456789012"},
            "ArnLike": {"aws:SourceArn": "arn:aws:fis:us-east-1:123456789012:experiment/*"}}
    writer = _policies(prod)["writer"]
    assert _sid(writer["Statement"], "FailOverThisCluster")["Resource"] == CLUSTER
    for document in _policies(prod).values():
        for statement in document["Statement"]:
            assert "*" not in statement["Action"]
            assert not any(a.endswith(":*") for a in statement["Action"])


def test_each_role_grants_exactly_what_its_actions_document(prod: Recording) -> None:
    logging = set(LOGGING["Action"])
    for scenario, document in _policies(prod).items():
        action_ids = {a["actionId"] for a in _template(prod, scenario)["actions"]}
        needed = set().union(*(DOCUMENTED[a] for a in action_ids)) | {"tag:GetResources"}
        assert _granted(document) == needed | logging, scenario


def test_node_drill_terminates_only_its_node_groups_instances(prod: Recording) -> None:
    node = _policies(prod)["node"]["Statement"]
    terminate = _sid(node, "TerminateThisNodegroupsNodes")
    assert terminate["Action"] == ["ec2:TerminateInstances"]
    assert terminate["Condition"] == {"StringEquals": {
        "aws:ResourceTag/eks:cluster-name": "hastack-prod-us-east-1",
        "aws:ResourceTag/eks:nodegroup-name": "general"}}
    assert _sid(node, "DescribeNodegroup")["Resource"] == (
        "arn:aws:eks:us-east-1:123456789012:nodegroup/c/general/1")


def test_nodegroup_name_reads_the_arn_and_refuses_anything_else() -> None:
    assert nodegroup_name("arn:aws:eks:eu-west-1:1:nodegroup/prod/system-a1/3e-9f") == "system-a1"
    with pytest.raises(ValueError, match="not an EKS node group ARN"):
        nodegroup_name("arn:aws:eks:eu-west-1:1:cluster/prod")


def _zone(**overrides: Any) -> list[dict[str, Any]]:
    fields: dict[str, Any] = dict(
        partition="aws", region="us-east-1", account="1", cluster_name="c",
        shift_arns=[EKS, ALB], subnet_arns=["arn:s/1"], vpc_arn="arn:aws:ec2:us-east-1:1:vpc/v",
        launch_role_arns=[KARPENTER], database_cluster_arn=None, cache_group_arn=None)
    fields.update(overrides)
    return zone_statements(**fields)


def test_capacity_errors_are_scoped_by_action_id_and_target() -> None:
    statements = _zone()
    asg = _sid(statements, "InjectAsgCapacityErrors")
    assert (asg["Action"], asg["Resource"]) == (["ec2:InjectApiError"], "*")
    # ec2:FisActionId is single-valued (Service Authorization Reference): StringEquals.
    assert asg["Condition"] == {
        "StringEquals": {"ec2:FisActionId": "aws:ec2:asg-insufficient-instance-capacity-error"},
        "ForAllValues:ArnLike": {"ec2:FisTargetArns": [
            "arn:aws:autoscaling:us-east-1:1:autoScalingGroup:*:autoScalingGroupName/eks-*"]}}
    launches = _sid(statements, "InjectLaunchCapacityErrors")
    assert launches["Condition"] == {
        "StringEquals": {"ec2:FisActionId": "aws:ec2:api-insufficient-instance-capacity-error"},
        "ForAllValues:ArnEquals": {"ec2:FisTargetArns": [KARPENTER]}}
    assert not any(s["Sid"] == "InjectLaunchCapacityErrors" for s in _zone(launch_role_arns=[]))
    assert "ForAnyValue" not in json.dumps(statements)


def test_network_acl_statements_follow_the_managed_network_policy() -> None:
    statements = _zone()
    acl = "arn:aws:ec2:us-east-1:1:network-acl/*"
    create = _sid(statements, "CreateFisAcl")
    assert (create["Resource"], create["Condition"]) == (
        acl, {"StringEquals": {"aws:RequestTag/managedByFIS": "true"}})
    assert _sid(statements, "CreateFisAclInZoneVpc")["Resource"] == (
        "arn:aws:ec2:us-east-1:1:vpc/v")
    assert _sid(_zone(vpc_arn=None), "CreateFisAclInZoneVpc")["Resource"] == (
        "arn:aws:ec2:us-east-1:1:vpc/*")
    tag = _sid(statements, "TagFisAcl")
    assert (tag["Action"], tag["Resource"], tag["Condition"]) == (
        ["ec2:CreateTags"], acl, {"StringEquals": {"ec2:CreateAction": "CreateNetworkAcl",
                                                   "aws:RequestTag/managedByFIS": "true"}})
    manage = _sid(statements, "ManageFisAcl")
    assert (manage["Resource"], manage["Condition"]) == (
        acl, {"StringEquals": {"ec2:ResourceTag/managedByFIS": "true"}})
    assert _sid(statements, "SwapZoneSubnetAcls")["Resource"] == [acl, "arn:s/1"]
    assert _sid(statements, "ReadPrefixLists")["Resource"] == (
        "arn:aws:ec2:us-east-1:1:prefix-list/*")


def test_zone_role_stops_only_the_clusters_nodes_and_shifts_only_its_resources() -> None:
    statements = _zone()
    stop = _sid(statements, "StopStartThisClustersNodes")
    assert stop["Condition"] == {"StringEquals": {"aws:ResourceTag/kubernetes.io/cluster/c":
                                                  "owned"}}
    grant = _sid(statements, "RestartEncryptedVolumes")
    assert grant["Resource"] == "arn:aws:kms:us-east-1:1:key/*"
    assert grant["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    shift = _sid(statements, "ShiftThisClusterAndEdge")
    assert shift["Condition"] == {"StringEquals": {
        "arc-zonal-shift:ResourceIdentifier": sorted([EKS, ALB])}}
    assert not [s for s in _zone(shift_arns=[]) if "arc-zonal-shift" in json.dumps(s)]
    assert not any(s["Sid"] == "FailOverThisCluster" for s in statements)
    # Every write is scoped: a specific ARN pattern or a condition, never a bare "*".
    reads = ("Describe", "Get", "List")
    for statement in statements:
        writes = [a for a in statement["Action"] if not a.split(":")[1].startswith(reads)]
        if writes and writes != ["arc-zonal-shift:CancelZonalShift"]:
            assert statement["Resource"] != "*" or "Condition" in statement, statement


def test_trust_policy_names_the_partition_region_and_account() -> None:
    trust = json.loads(trust_policy("aws-us-gov", "222", "us-gov-west-1"))
    assert trust["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"] == (
        "arn:aws-us-gov:fis:us-gov-west-1:222:experiment/*")


def test_prod_without_a_stop_alarm_is_refused() -> None:
    with pytest.raises(Exception, match="prod drills need at least one stop alarm"):
        _plan(stop_alarm_arns=[])


def test_dev_without_alarms_stops_on_none_and_skips_absent_stores() -> None:
    dev = _plan("dev", stop_alarm_arns=[], database_cluster_arn=None, cache_group_arn=None,
                zonal_shift=False, launch_role_arns=[])
    assert sorted(r.name.rsplit("-", 1)[1] for r in dev.of_type(TEMPLATE)) == ["node", "zone"]
    zone = _template(dev, "zone")
    assert zone["stopConditions"] == [{"source": "none"}]
    assert set(_actions(zone)) == {"Stop-Instances", "Pause-ASG-Scaling",
                                   "Pause-network-connectivity"}
    granted = _granted(_policies(dev)["zone"])
    assert not {a for a in granted if a.startswith("arc-zonal-shift:")}
    assert "rds:FailoverDBCluster" not in granted
