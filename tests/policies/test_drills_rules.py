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


def _logged_to(arn: str) -> list[str]:
    b = aws_builder()
    b.set("drill-writer", "logConfiguration",
          {"logSchemaVersion": 2, "cloudwatchLogsConfiguration": {"logGroupArn": arn}})
    return run_resource_rule(rule_named("fis-template-logged"), b.plan(),
                             "drill-writer").messages


def test_a_log_group_arn_without_the_wildcard_suffix_fails() -> None:
    group = "arn:aws:logs:us-east-1:123456789012:log-group:/hastack/drills"
    (message,) = _logged_to(group)
    assert "':*' suffix" in message and group in message
    assert _logged_to(f"{group}:*") == []


def _granting(*statements: dict[str, object]) -> list[str]:
    b = aws_builder()
    b.set("drill-writer-policy", "policy",
          json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))
    return run_stack_rule(rule_named("fis-role-scoped"), b.plan()).messages


def _allow(action: str, resource: object = "*", **condition: object) -> dict[str, object]:
    statement: dict[str, object] = {"Effect": "Allow", "Action": [action], "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def test_api_errors_without_an_fis_action_id_fail() -> None:
    (message,) = _granting(_allow("ec2:InjectApiError"))
    assert "ec2:FisActionId" in message
    assert _granting(_allow("ec2:InjectApiError", StringEquals={
        "ec2:FisActionId": "aws:ec2:asg-insufficient-instance-capacity-error"})) == []


def test_network_acl_writes_without_the_fis_tag_fail() -> None:
    acl = "arn:aws:ec2:us-east-1:123456789012:network-acl/*"
    (message,) = _granting(_allow("ec2:DeleteNetworkAcl", acl))
    assert "managedByFIS" in message and "ec2:DeleteNetworkAcl" in message
    assert _granting(_allow("ec2:DeleteNetworkAcl", acl, StringEquals={
        "ec2:ResourceTag/managedByFIS": "true"})) == []


def test_instance_actions_on_every_instance_fail() -> None:
    (message,) = _granting(_allow("ec2:StopInstances", "arn:aws:ec2:*:*:instance/*"))
    assert "every instance" in message
    assert _granting(_allow("ec2:StopInstances", "*", StringEquals={
        "aws:ResourceTag/kubernetes.io/cluster/c": "owned"})) == []
    assert _granting(_allow(
        "ec2:TerminateInstances", "arn:aws:ec2:us-east-1:123456789012:instance/i-1")) == []


def test_the_components_zone_and_node_roles_pass() -> None:
    """What components/aws/fis.py grants satisfies the rule (the two stay in step)."""
    from components.aws.fis_roles import LOGGING, TAG_READ, node_statements, zone_statements

    zone = zone_statements(
        partition="aws", region="us-east-1", account="123456789012", cluster_name="c",
        shift_arns=["arn:aws:eks:us-east-1:123456789012:cluster/c"],
        subnet_arns=["arn:aws:ec2:us-east-1:123456789012:subnet/s"], vpc_arn=None,
        launch_role_arns=["arn:aws:iam::123456789012:role/k"],
        database_cluster_arn=None, cache_group_arn=None)
    node = node_statements("c", "arn:aws:eks:us-east-1:123456789012:nodegroup/c/g/1")
    assert _granting(LOGGING, TAG_READ, *zone, *node) == []


def test_an_alarm_stop_condition_without_its_alarm_fails() -> None:
    b = aws_builder()
    b.set("drill-writer", "stopConditions", [{"source": "aws:cloudwatch:alarm"}])
    (message,) = run_resource_rule(rule_named("fis-template-stop-alarm"), b.plan(),
                                   "drill-writer").messages
    assert "without its ARN" in message
