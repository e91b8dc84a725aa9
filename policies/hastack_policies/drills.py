"""Drill guardrails: a chaos experiment stops itself, is recorded, and can do little else.

* `fis-template-stop-alarm`: every FIS experiment template has at least one stop
  condition that is a CloudWatch alarm (`aws:cloudwatch:alarm`), never only `none`:
  an experiment that cannot stop itself keeps breaking things after users are hurt.
* `fis-template-logged`: the template logs its experiments (CloudWatch Logs or S3),
  so a drill leaves a record of what was done, to what, and when.
* `fis-role-scoped`: the template's role is trusted by `fis.amazonaws.com` only, with
  the confused-deputy conditions (aws:SourceAccount / aws:SourceArn), and is not an
  administrator (no AdministratorAccess/PowerUserAccess, no `*` actions).
"""

from __future__ import annotations

import json
from typing import Any

from hastack_policies.catalogue import (
    HA_COSTLY,
    HIGH,
    Report,
    StackSubject,
    Subject,
    own,
    resource_rule,
    stack_rule,
)
from hastack_policies.graph import StackGraph
from hastack_policies.tokens import (
    FIS_EXPERIMENT_TEMPLATE,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    IAM_ROLE_POLICY_ATTACHMENT,
)
from hastack_policies.values import is_unknown, items, peek, value

FIS_PRINCIPAL = "fis.amazonaws.com"
ADMIN_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")


@resource_rule(
    name="fis-template-stop-alarm",
    description="Every FIS experiment template stops on at least one CloudWatch alarm.",
    severity=HIGH, levels=HA_COSTLY, anchors=(own("HA-DRILL-1"),),
    types=(FIS_EXPERIMENT_TEMPLATE,),
    remediation="Add a stopCondition {source: aws:cloudwatch:alarm, value: <alarm ARN>} "
                "on an alarm that means users are hurt (the region's ALB 5xx alarm, "
                "components/aws/alarms.py); DrillTemplatesArgs refuses a template without.",
)
def fis_template_stop_alarm(subject: Subject, report: Report) -> None:
    sources = [peek(condition, "source") for condition in items(subject.props, "stopConditions")]
    if "aws:cloudwatch:alarm" not in sources:
        report(f"{subject.name} has no CloudWatch alarm stop condition ({sources or 'none'}): "
               "nothing stops the experiment when it hurts more than planned.")


@resource_rule(
    name="fis-template-logged",
    description="Every FIS experiment template logs its experiments.",
    severity=HIGH, levels=HA_COSTLY, anchors=(own("HA-DRILL-2"),),
    types=(FIS_EXPERIMENT_TEMPLATE,),
    remediation="Set logConfiguration {logSchemaVersion: 2, cloudwatchLogsConfiguration: "
                "{logGroupArn: <CMK-encrypted log group ARN>:*}}.",
)
def fis_template_logged(subject: Subject, report: Report) -> None:
    logs = peek(subject.props, "logConfiguration")
    if not logs or not (peek(logs, "cloudwatchLogsConfiguration", "logGroupArn")
                        or peek(logs, "s3Configuration", "bucketName")):
        report(f"{subject.name} has no logConfiguration: a drill leaves no record of what "
               "it did to which resources.")


def _document(raw: Any) -> dict[str, Any] | None:
    """A policy document, or None when it is not known yet (first preview)."""
    if is_unknown(raw) or raw is None:
        return None
    if isinstance(raw, str):
        try:
            loaded = json.loads(raw)
        except ValueError:
            return None
        return loaded if isinstance(loaded, dict) else None
    return raw if isinstance(raw, dict) else None


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document.get("Statement", [])
    return [s for s in (found if isinstance(found, list) else [found]) if isinstance(s, dict)]


def _as_list(raw: Any) -> list[Any]:
    return raw if isinstance(raw, list) else [raw]


def _trust_problems(role: Any) -> list[str]:
    document = _document(peek(role.props, "assumeRolePolicy"))
    if document is None:
        return []
    problems = []
    for statement in _statements(document):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal", {})
        services = _as_list(principal.get("Service", [])) if isinstance(principal, dict) else []
        others = ({k for k in principal if k != "Service"} if isinstance(principal, dict)
                  else {"*"})
        if others or services != [FIS_PRINCIPAL]:
            problems.append(f"trusted by {principal}, not only {FIS_PRINCIPAL}")
        condition = json.dumps(statement.get("Condition", {}))
        if "aws:SourceAccount" not in condition and "aws:SourceArn" not in condition:
            problems.append("no aws:SourceAccount/aws:SourceArn condition (confused deputy)")
    return problems


def _admin_problems(graph: StackGraph, role: Any) -> list[str]:
    problems = []
    name = peek(role.props, "name")

    def attached(kind: str) -> list[Any]:
        return graph.referrers(role, "role", [kind], literal=lambda r: name)

    arns = [str(a) for a in items(role.props, "managedPolicyArns")]
    arns += [str(peek(p.props, "policyArn")) for p in attached(IAM_ROLE_POLICY_ATTACHMENT)]
    problems += [f"has the managed policy {arn}" for arn in arns
                 if arn.rsplit("/", 1)[-1] in ADMIN_POLICIES]
    for policy in attached(IAM_ROLE_POLICY):
        document = _document(peek(policy.props, "policy"))
        for statement in _statements(document or {}):
            actions = [str(a) for a in _as_list(statement.get("Action", []))]
            if statement.get("Effect") == "Allow" and any(
                    a == "*" or a.endswith(":*") for a in actions):
                problems.append(f"{policy.name} allows {actions}")
    return problems


@stack_rule(
    name="fis-role-scoped",
    description="An FIS experiment role is trusted only by FIS for this account and is no "
                "administrator.",
    severity=HIGH, levels=HA_COSTLY, anchors=(own("HA-DRILL-3"),),
    remediation="Trust only fis.amazonaws.com with aws:SourceAccount and aws:SourceArn "
                "(arn:aws:fis:<region>:<account>:experiment/*) conditions, and grant the "
                "actions of the template's FIS actions on its targets only "
                "(components/aws/fis.py).",
)
def fis_role_scoped(stack: StackSubject, report: Report) -> None:
    graph = StackGraph(stack.resources)
    for template in graph.of_type(FIS_EXPERIMENT_TEMPLATE):
        roles = graph.referenced(template, "roleArn", IAM_ROLE)
        if not roles:
            arn = value(template.props, "roleArn") if not is_unknown(
                peek(template.props, "roleArn")) else None
            roles = [r for r in graph.of_type(IAM_ROLE)
                     if arn and str(arn).endswith(f"/{peek(r.props, 'name')}")]
        if not roles:
            report(f"{template.name}: its role is not in this stack; its trust and "
                   "permissions cannot be checked.", template.urn)
        for role in roles:
            for problem in _trust_problems(role) + _admin_problems(graph, role):
                report(f"{template.name}'s role {role.name}: {problem}.", role.urn)
