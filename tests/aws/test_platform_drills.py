"""Drills in the committed environments: staging/prod have them per region, dev opts out."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hastack.plan.pipeline import PlanResult

TEMPLATE = "aws:fis/experimentTemplate:ExperimentTemplate"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
VPC = "aws:ec2/vpc:Vpc"


def test_prod_exports_a_template_per_scenario_and_region(
        stack_plan: Callable[[str], PlanResult]) -> None:
    plan = stack_plan("prod").plan
    templates = {r["name"]: r for r in plan["resources"] if r["type"] == TEMPLATE}
    exported = plan["outputs"]["drillTemplates"]
    assert sorted(exported) == ["cache", "node", "writer", "zone"]
    assert all(sorted(by_region) == ["us-east-1", "us-west-2"] for by_region in exported.values())
    alarms = {r["urn"]: r for r in plan["resources"] if r["type"] == ALARM}
    for name, template in templates.items():
        region = name.split("-drills-", 1)[1].rsplit("-", 1)[0]
        # Stop conditions: this region's 5xx and replica-lag alarms (FIS reads its region's).
        stops = [c["source"] for c in template["inputs"]["stopConditions"]]
        assert stops == ["aws:cloudwatch:alarm"] * 2, name
        stop_alarms = {alarms[u]["name"] for u in template["dependencies"] if u in alarms}
        assert stop_alarms == {f"hastack-prod-alarms-{region}-alb-5xx",
                               f"hastack-prod-alarms-{region}-aurora-replica-lag"}, name


def test_dev_has_no_drill_templates_by_default(stack_plan: Callable[[str], PlanResult]) -> None:
    plan = stack_plan("dev").plan
    assert not [r for r in plan["resources"] if r["type"] == TEMPLATE]
    assert "drillTemplates" not in plan["outputs"]


def _statements(plan: dict[str, Any], role_policy: str) -> dict[str, dict[str, Any]]:
    (policy,) = [r for r in plan["resources"] if r["type"] == ROLE_POLICY
                 and r["name"] == role_policy]
    return {s["Sid"]: s for s in json.loads(policy["inputs"]["policy"])["Statement"]}


def test_prod_zone_roles_are_scoped_to_their_templates_targets(
        stack_plan: Callable[[str], PlanResult]) -> None:
    """The IAM scope of each zone role is exactly what its template targets, per region."""
    plan = stack_plan("prod").plan
    vpcs = {r["name"]: r for r in plan["resources"] if r["type"] == VPC}
    for region in ("us-east-1", "us-west-2"):
        (template,) = [r for r in plan["resources"] if r["type"] == TEMPLATE
                       and r["name"] == f"hastack-prod-drills-{region}-zone"]
        targets = {t["name"]: t for t in template["inputs"]["targets"]}
        statements = _statements(plan, f"hastack-prod-drills-{region}-zone-role")
        shifted = targets["ManagedResources-Target"]["resourceArns"]
        # ARC shifts the region's cluster and its edge ALB, nothing else.
        assert [a.split(":")[2] for a in shifted] == ["eks", "elasticloadbalancing"]
        assert all(a.split(":")[3] == region for a in shifted)
        assert statements["ShiftThisClusterAndEdge"]["Condition"]["StringEquals"][
            "arc-zonal-shift:ResourceIdentifier"] == sorted(shifted)
        swap = statements["SwapZoneSubnetAcls"]["Resource"]
        assert sorted(targets["Subnets-Target"]["resourceArns"]) == sorted(
            a for a in swap if ":subnet/" in a)
        assert statements["InjectLaunchCapacityErrors"]["Condition"][
            "ForAllValues:ArnEquals"]["ec2:FisTargetArns"] == sorted(
            targets["Roles-Target"]["resourceArns"])
        vpc_arn = statements["CreateFisAclInZoneVpc"]["Resource"]
        (vpc,) = [v for v in vpcs.values() if v["region"] == region]
        assert vpc_arn.startswith(f"arn:aws:ec2:{region}:") and vpc_arn.endswith(
            f":vpc/{vpc['id']}")
        params = {p["key"]: p["value"] for a in template["inputs"]["actions"]
                  if a["name"] == "Start-ARC-Zonal-Autoshift" for p in a["parameters"]}
        assert params["zonalAutoshiftStatus"] == "ANY"
