"""The region_switch family on the real staging/prod plans, and on broken copies."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from hastack_policies.catalogue import rule_named

from tests.policies.runner import run_resource_rule, run_stack_rule

PLAN = "aws:arcregionswitch/plan:Plan"


@pytest.fixture
def prod(stack_plan: Callable[[str], Any]) -> dict[str, Any]:
    return copy.deepcopy(stack_plan("prod").plan)


def _one(plan: dict[str, Any], type_: str, name_suffix: str = "") -> dict[str, Any]:
    (found,) = [r for r in plan["resources"]
                if r["type"] == type_ and r["name"].endswith(name_suffix)]
    return found


def _approval(plan: dict[str, Any], tier: str = "prod") -> list[str]:
    """The resource rule on the Plan (its component shares its name: leave that out)."""
    name = _one(plan, PLAN)["name"]
    only = {**plan, "resources": [r for r in plan["resources"]
                                  if r["name"] != name or r["type"] == PLAN]}
    outcome = run_resource_rule(rule_named("region-switch-approval"), only, name, tier=tier)
    assert not outcome.not_applicable
    return outcome.messages


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_committed_two_region_stacks_pass(stack_plan: Callable[[str], Any],
                                              stack: str) -> None:
    plan = stack_plan(stack).plan
    tier = stack
    for rule in ("region-switch-plan-present", "region-switch-rto-within-target",
                 "region-switch-execution-role"):
        assert run_stack_rule(rule_named(rule), plan, tier=tier).messages == [], rule
    if tier == "prod":   # disabled in staging (see test_staging_may_run_without_approval)
        assert _approval(plan, tier) == []


def test_a_two_region_stack_without_a_plan_fails(prod: dict[str, Any]) -> None:
    prod["resources"] = [r for r in prod["resources"] if r["type"] != PLAN]
    messages = run_stack_rule(rule_named("region-switch-plan-present"), prod).messages
    assert len(messages) == 1 and "no Region switch plan" in messages[0]


def test_a_one_region_stack_needs_no_plan(stack_plan: Callable[[str], Any]) -> None:
    dev = stack_plan("dev").plan
    assert not any(r["type"] == PLAN for r in dev["resources"])
    assert run_stack_rule(rule_named("region-switch-plan-present"), dev, tier="dev").messages == []


def test_prod_without_the_approval_step_fails(prod: dict[str, Any]) -> None:
    for workflow in _one(prod, PLAN)["inputs"]["workflows"]:
        workflow["steps"] = workflow["steps"][1:]
    messages = _approval(prod)
    assert len(messages) == 2 and all("not a ManualApproval" in m for m in messages)


def test_an_rto_above_the_region_target_fails(prod: dict[str, Any]) -> None:
    plan = _one(prod, PLAN)
    plan["inputs"]["recoveryTimeObjectiveMinutes"] = 11   # prod's region target is 600 s
    messages = run_stack_rule(rule_named("region-switch-rto-within-target"), prod).messages
    assert len(messages) == 1 and "above the region RTO target 600 s" in messages[0]
    del plan["inputs"]["recoveryTimeObjectiveMinutes"]
    messages = run_stack_rule(rule_named("region-switch-rto-within-target"), prod).messages
    assert messages and "not set" in messages[0]


def _execution_role(plan: dict[str, Any]) -> dict[str, Any]:
    return _one(plan, "aws:iam/role:Role", "region-switch-execution")


def test_an_execution_role_trusted_by_anyone_else_fails(prod: dict[str, Any]) -> None:
    role = _execution_role(prod)
    trust = json.loads(role["inputs"]["assumeRolePolicy"])
    trust["Statement"][0]["Principal"] = {"Service": [
        "arc-region-switch.amazonaws.com", "lambda.amazonaws.com"]}
    role["inputs"]["assumeRolePolicy"] = json.dumps(trust)
    messages = run_stack_rule(rule_named("region-switch-execution-role"), prod).messages
    assert len(messages) == 1 and "not only arc-region-switch.amazonaws.com" in messages[0]


@pytest.mark.parametrize("action", ["*", "rds:*"])
def test_an_admin_execution_policy_fails(prod: dict[str, Any], action: str) -> None:
    policy = _one(prod, "aws:iam/rolePolicy:RolePolicy", "region-switch-execution")
    document = json.loads(policy["inputs"]["policy"])
    document["Statement"].append({"Effect": "Allow", "Action": action, "Resource": "*"})
    policy["inputs"]["policy"] = json.dumps(document)
    messages = run_stack_rule(rule_named("region-switch-execution-role"), prod).messages
    assert messages == [f"execution role allows '{action}': ARC needs the blocks' actions, "
                        "not admin."]


def test_an_administrator_attachment_fails(prod: dict[str, Any]) -> None:
    role = _execution_role(prod)
    attachment = copy.deepcopy(_one(prod, "aws:iam/rolePolicy:RolePolicy",
                                    "region-switch-execution"))
    attachment.update(type="aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                      name="admin", urn=attachment["urn"].replace(
                          "aws:iam/rolePolicy:RolePolicy",
                          "aws:iam/rolePolicyAttachment:RolePolicyAttachment") + "-admin")
    attachment["inputs"] = {"role": role["inputs"]["name"],
                            "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}
    attachment["propertyDependencies"] = {"role": [role["urn"]]}
    prod["resources"].append(attachment)
    messages = run_stack_rule(rule_named("region-switch-execution-role"), prod).messages
    assert len(messages) == 1 and "AdministratorAccess" in messages[0]


def test_staging_may_run_without_approval(stack_plan: Callable[[str], Any]) -> None:
    staging = stack_plan("staging").plan
    workflows = _one(staging, PLAN)["inputs"]["workflows"]
    first = {w["steps"][0]["executionBlockType"] for w in workflows}
    assert first == {"AuroraGlobalDatabase"}
    assert rule_named("region-switch-approval").levels.of("staging") == "disabled"
    assert rule_named("region-switch-approval").levels.of("prod") == "mandatory"
