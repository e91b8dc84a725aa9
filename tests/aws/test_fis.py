"""FIS drill templates: the documented action IDs and targets, alarm stops, scoped roles, logs."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.aws.fis import (
    DrillRegion,
    DrillTemplates,
    DrillTemplatesArgs,
    trust_policy,
    zone_statements,
)
from hastack.plan.runner import Recording, run_program

TEMPLATE = "aws:fis/experimentTemplate:ExperimentTemplate"
ALARM = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:hastack-prod-alarms-us-east-1-alb-5xx"
CLUSTER = "arn:aws:rds:us-east-1:123456789012:cluster:hastack-prod-aurora-us-east-1"
GROUP = "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:hastack-prod-us-east-1"
EKS = "arn:aws:eks:us-east-1:123456789012:cluster/hastack-prod-us-east-1"


def _region(provider: pulumi.ProviderResource, **overrides: Any) -> DrillRegion:
    fields: dict[str, Any] = dict(
        region="us-east-1", provider=provider, cluster_name="hastack-prod-us-east-1",
        cluster_arn=EKS, zone="us-east-1a", zone_subnet_ids=["subnet-pub", "subnet-priv"],
        stop_alarm_arns=[ALARM],
        node_group_arn="arn:aws:eks:us-east-1:123456789012:nodegroup/c/general/1",
        database_cluster_arn=CLUSTER, cache_group_arn=GROUP,
        launch_role_arns=["arn:aws:iam::123456789012:role/karpenter"])
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
    assert _params(actions["Start-ARC-Zonal-Autoshift"]) == {
        "availabilityZoneIdentifier": "us-east-1a", "duration": "PT8M"}
    assert actions["Start-ARC-Zonal-Autoshift"]["startAfters"] == ["Wait-For-Autoshift"]
    targets = {t["name"]: t for t in zone["targets"]}
    assert targets["Subnets-Target"]["resourceArns"] == [
        "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-pub",
        "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-priv"]
    instances = targets["Instances-Target"]
    assert instances["resourceTags"] == [{"key": "eks:cluster-name",
                                          "value": "hastack-prod-us-east-1"}]
    assert {f["path"]: f["values"] for f in instances["filters"]} == {
        "State.Name": ["running"], "Placement.AvailabilityZone": ["us-east-1a"]}
    # Only a writer in the lost zone fails over (the scenario's target parameter).
    assert targets["Clusters-Target"]["parameters"] == {
        "writerAvailabilityZoneIdentifiers": "us-east-1a"}
    assert targets["ManagedResources-Target"]["resourceType"] == (
        "aws:arc:zonal-shift-managed-resource")
    assert zone["experimentOptions"]["emptyTargetResolutionMode"] == "skip"


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
    policies = {p.name: json.loads(p.inputs["policy"])
                for p in prod.of_type("aws:iam/rolePolicy:RolePolicy")}
    writer = policies["hastack-prod-drills-us-east-1-writer-role"]
    failover = next(s for s in writer["Statement"] if s["Sid"] == "FailOverThisCluster")
    assert failover["Resource"] == CLUSTER
    # The writer drill's role cannot stop instances or cut subnets.
    actions = {a for s in writer["Statement"] for a in s["Action"]}
    assert not actions & {"ec2:StopInstances", "ec2:TerminateInstances",
                          "ec2:ReplaceNetworkAclAssociation"}
    for document in policies.values():
        for statement in document["Statement"]:
            assert "*" not in statement["Action"]
            assert not any(a.endswith(":*") for a in statement["Action"])


def test_zone_role_swaps_acls_only_on_the_zone_subnets() -> None:
    statements = zone_statements(partition="aws", region="us-east-1", account="1",
                                 cluster_name="c", cluster_arn=EKS, subnet_arns=["arn:s/1"],
                                 database_cluster_arn=None, cache_group_arn=None)
    swap = next(s for s in statements if s["Sid"] == "SwapZoneSubnetAcls")
    assert swap["Resource"] == ["arn:aws:ec2:us-east-1:1:network-acl/*", "arn:s/1"]
    stop = next(s for s in statements if s["Sid"] == "StopStartThisClustersNodes")
    assert stop["Condition"] == {"StringEquals": {"aws:ResourceTag/eks:cluster-name": "c"}}
    assert not any(s["Sid"] == "FailOverThisCluster" for s in statements)


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
