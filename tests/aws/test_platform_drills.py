"""Drills in the committed environments: staging/prod have them per region, dev opts out."""

from __future__ import annotations

from collections.abc import Callable

from hastack.plan.pipeline import PlanResult
from tests.conftest import STACK_PLANS

TEMPLATE = "aws:fis/experimentTemplate:ExperimentTemplate"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


@STACK_PLANS
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


@STACK_PLANS
def test_dev_has_no_drill_templates_by_default(stack_plan: Callable[[str], PlanResult]) -> None:
    plan = stack_plan("dev").plan
    assert not [r for r in plan["resources"] if r["type"] == TEMPLATE]
    assert "drillTemplates" not in plan["outputs"]
