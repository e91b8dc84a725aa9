"""Drill guardrails beyond the one-mistake cases: trust, admin policies, levels per tier."""

from __future__ import annotations

import json

from hastack_policies.catalogue import rule_named

from tests.policies.plans import aws_builder, ref
from tests.policies.runner import run_resource_rule, run_stack_rule

ROLE = "drill-writer-role"


def _trust(**statement: object) -> str:
    base: dict[str, object] = {
        "Effect": "Allow", "Principal": {"Service": "fis.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}
    base.update(statement)
    return json.dumps({"Version": "2012-10-17", "Statement": [base]})


def _scoped(**statement: object) -> list[str]:
    b = aws_builder()
    b.set(ROLE, "assumeRolePolicy", _trust(**statement))
    return run_stack_rule(rule_named("fis-role-scoped"), b.plan()).messages


def test_a_role_other_principals_may_assume_fails() -> None:
    (message,) = _scoped(Principal={"Service": "fis.amazonaws.com",
                                    "AWS": "arn:aws:iam::999999999999:root"})
    assert "not only fis.amazonaws.com" in message


def test_a_role_without_confused_deputy_conditions_fails() -> None:
    (message,) = _scoped(Condition={})
    assert "confused deputy" in message
    assert _scoped() == []  # aws:SourceAccount alone is a confused-deputy condition


def test_an_administrator_role_fails() -> None:
    b = aws_builder()
    b.add("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "drill-admin", {
        "role": ref(ROLE), "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
        provider="use1")
    (message,) = run_stack_rule(rule_named("fis-role-scoped"), b.plan()).messages
    assert "AdministratorAccess" in message


def test_a_template_whose_role_is_elsewhere_is_reported() -> None:
    b = aws_builder()
    b.set("drill-writer", "roleArn", "arn:aws:iam::123456789012:role/somewhere-else")
    (message,) = run_stack_rule(rule_named("fis-role-scoped"), b.plan()).messages
    assert "not in this stack" in message


def test_stop_alarm_is_advisory_in_dev_and_mandatory_outside() -> None:
    rule = rule_named("fis-template-stop-alarm")
    assert (rule.levels.dev, rule.levels.staging, rule.levels.prod) == (
        "advisory", "mandatory", "mandatory")
    b = aws_builder()
    b.set("drill-writer", "stopConditions", [
        {"source": "none"}, {"source": "aws:cloudwatch:alarm", "value": "arn:x"}])
    assert run_resource_rule(rule, b.plan(), "drill-writer").messages == []
