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
from hastack_policies.service_roles import admin_grants, trust_problems
from hastack_policies.tokens import (
    FIS_EXPERIMENT_TEMPLATE,
    IAM_ROLE,
)
from hastack_policies.values import is_unknown, items, peek, value

FIS_PRINCIPAL = "fis.amazonaws.com"


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
            problems = (trust_problems(role, FIS_PRINCIPAL, source_conditions=True)
                        + admin_grants(graph, role))
            for problem in problems:
                report(f"{template.name}'s role {role.name}: {problem}.", role.urn)
