"""ARC Region switch: a two-region AWS stack can fail over as one reviewed operation.

The plan (components/aws/region_switch.py) exists, keeps a human approval in prod,
promises no better RTO than the stack's region target, and runs with an execution
role that only ARC can assume and that holds no administrator rights.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyResource

from hastack_policies.catalogue import (
    HIGH,
    SECURITY,
    Levels,
    Report,
    StackSubject,
    Subject,
    own,
    resource_rule,
    stack_rule,
)
from hastack_policies.graph import StackGraph
from hastack_policies.recovery_document import recovery_document, recovery_value
from hastack_policies.service_roles import admin_grants, trust_problems
from hastack_policies.tokens import IAM_ROLE
from hastack_policies.values import is_unknown, items, peek, value

PLAN = "aws:arcregionswitch/plan:Plan"
AWS_PLATFORM = "hastack:aws:Platform"
ARC_PRINCIPAL = "arc-region-switch.amazonaws.com"
# A second region is a paid promise from staging on; dev builds one region.
TWO_REGION = Levels("advisory", "mandatory", "mandatory")
# Prod failovers are a human decision; staging drills may run unattended.
PROD_ONLY = Levels("disabled", "disabled", "mandatory")


def _platform_urn(graph: StackGraph) -> str | None:
    platforms = graph.of_type(AWS_PLATFORM)
    return platforms[0].urn if platforms else None


@stack_rule(
    name="region-switch-plan-present",
    description="A two-region AWS stack has an ARC Region switch plan, so a failover is one "
                "reviewed operation that runs on ARC's regional data planes.",
    severity=HIGH, levels=TWO_REGION,
    anchors=(own("HA-DR-2"),),
    remediation="Build the platform with its RegionSwitchPlan (components/aws/platform.py "
                "does for every two-region environment with a database and workflows).",
)
def region_switch_plan_present(stack: StackSubject, report: Report) -> None:
    graph = StackGraph(stack.resources)
    # Region switch is AWS's: only an AWS platform's roles count.
    regions = recovery_document(graph.of_type(AWS_PLATFORM)).get("regions", {})
    if not isinstance(regions, Mapping) or not regions.get("secondary"):
        return
    if not graph.of_type(PLAN):
        report(f"two regions ({regions.get('primary')}, {regions.get('secondary')}) and no "
               "Region switch plan: the failover is a manual runbook.", _platform_urn(graph))


def _activate_workflows(props: Any) -> list[Any]:
    return [w for w in items(props, "workflows")
            if value(w, "workflowTargetAction") == "activate"]


@resource_rule(
    name="region-switch-approval",
    description="In prod, every activate workflow of a Region switch plan starts with a "
                "ManualApproval step: a person decides before the database moves.",
    severity=HIGH, levels=PROD_ONLY,
    anchors=(own("HA-DR-3"),),
    types=(PLAN,),
    remediation="Keep RegionSwitchPlanArgs.require_approval on (the prod default); the "
                "approval role is the one `hastack failover` runs as.",
)
def region_switch_approval(subject: Subject, report: Report) -> None:
    workflows = _activate_workflows(subject.props)
    if not workflows:
        report("no activate workflow: the plan cannot fail over at all.")
    for workflow in workflows:
        steps = items(workflow, "steps")
        first = value(steps[0], "executionBlockType") if steps else None
        if first != "ManualApproval" or not items(steps[0], "executionApprovalConfigs"):
            report(f"the workflow activating {value(workflow, 'workflowTargetRegion')} starts "
                   f"with {first or 'nothing'}, not a ManualApproval step with an approval role.")


@stack_rule(
    name="region-switch-rto-within-target",
    description="The plan's recoveryTimeObjectiveMinutes is no more than the stack's region "
                "RTO target (in whole minutes, rounded up: the API's unit).",
    severity=HIGH, levels=TWO_REGION,
    anchors=(own("HA-DR-4"),),
    remediation="Set recoveryTimeObjectiveMinutes from recovery.regionFailure.rtoSeconds "
                "(RegionSwitchPlanArgs.rto_seconds does).",
)
def region_switch_rto_within_target(stack: StackSubject, report: Report) -> None:
    graph = StackGraph(stack.resources)
    target = recovery_value(graph.of_type(AWS_PLATFORM), "targets", "regionFailure",
                            "rtoSeconds")
    for plan in graph.of_type(PLAN):
        minutes = peek(plan.props, "recoveryTimeObjectiveMinutes")
        if is_unknown(minutes):
            continue
        if not isinstance(minutes, (int, float)):
            report("recoveryTimeObjectiveMinutes is not set: ARC cannot tell a slow recovery "
                   "from a normal one.", plan.urn)
            continue
        if isinstance(target, (int, float)) and minutes > math.ceil(target / 60):
            report(f"recoveryTimeObjectiveMinutes {minutes:g} is above the region RTO target "
                   f"{target:g} s ({math.ceil(target / 60)} min).", plan.urn)


@stack_rule(
    name="region-switch-execution-role",
    description="A Region switch plan's execution role is trusted only by "
                f"{ARC_PRINCIPAL} and is not an administrator (no '*' or 'service:*' "
                "actions, no NotAction, no AdministratorAccess/PowerUserAccess/IAMFullAccess).",
    severity=HIGH, levels=SECURITY,
    anchors=(own("SEC-IAM-2"),),
    remediation="Use RegionSwitchPlan's execution role: the ARC sample policies of the "
                "blocks in use, scoped to this environment's resources.",
)
def region_switch_execution_role(stack: StackSubject, report: Report) -> None:
    graph = StackGraph(stack.resources)
    for plan in graph.of_type(PLAN):
        roles = graph.referenced(plan, "executionRole", IAM_ROLE)
        if not roles:
            continue   # a role from outside the stack: nothing here to judge
        for role in roles:
            _judge_role(graph, role, report)


def _judge_role(graph: StackGraph, role: PolicyResource, report: Report) -> None:
    for problem in trust_problems(role, ARC_PRINCIPAL, source_conditions=False):
        report(f"execution role {problem}.", role.urn)
    for grant in admin_grants(graph, role):
        report(f"execution role {grant}: ARC needs the blocks' actions, not admin.", role.urn)
