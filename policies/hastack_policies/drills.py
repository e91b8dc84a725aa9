"""Drill guardrails: a chaos experiment stops itself, is recorded, and can do little else.

* `fis-template-stop-alarm`: every FIS experiment template has at least one stop
  condition that is a CloudWatch alarm (`aws:cloudwatch:alarm`), never only `none`:
  an experiment that cannot stop itself keeps breaking things after users are hurt.
* `fis-template-logged`: the template logs its experiments (CloudWatch Logs or S3),
  so a drill leaves a record of what was done, to what, and when; a CloudWatch Logs
  destination is the log group ARN with the `:*` suffix FIS requires (pulumi-aws
  `ExperimentTemplateLogConfigurationCloudwatchLogsConfiguration.logGroupArn`).
* `fis-role-scoped`: the template's role is trusted by `fis.amazonaws.com` only, with
  the confused-deputy conditions (aws:SourceAccount / aws:SourceArn), is not an
  administrator (no AdministratorAccess/PowerUserAccess, no `*` actions), and its
  fault grants carry the scope the FIS actions reference documents for them:
  `ec2:InjectApiError` with an `ec2:FisActionId` condition (#api-ice, #asg-ice),
  network ACL entry/delete only on ACLs tagged `managedByFIS` (#disrupt-connectivity),
  and no instance stop/start/terminate on every instance of the account.
"""

from __future__ import annotations

import json

from pulumi_policy import PolicyResource

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
from hastack_policies.service_roles import (
    admin_grants,
    allow_statements,
    inline_documents,
    listed,
    trust_problems,
)
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
    conditions = items(subject.props, "stopConditions")
    sources = [peek(condition, "source") for condition in conditions]
    # The FIS API (ExperimentTemplateStopConditionInput): `value`, the alarm's ARN, is
    # required when the source is aws:cloudwatch:alarm. An unknown value is not missing.
    alarms = [c for c in conditions if peek(c, "source") == "aws:cloudwatch:alarm"
              and (is_unknown(peek(c, "value")) or peek(c, "value"))]
    if not alarms:
        report(f"{subject.name} has no CloudWatch alarm stop condition ({sources or 'none'}"
               f"{', an alarm source without its ARN' if 'aws:cloudwatch:alarm' in sources else ''}"
               "): nothing stops the experiment when it hurts more than planned.")


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
    group = peek(logs, "cloudwatchLogsConfiguration", "logGroupArn") if logs else None
    if not logs or not (group or peek(logs, "s3Configuration", "bucketName")):
        report(f"{subject.name} has no logConfiguration: a drill leaves no record of what "
               "it did to which resources.")
    elif isinstance(group, str) and group.startswith("arn:") and not group.endswith(":*"):
        report(f"{subject.name} logs to {group}, which lacks the ':*' suffix FIS requires "
               "of a log group ARN: the template is refused.")


@stack_rule(
    name="fis-role-scoped",
    description="An FIS experiment role is trusted only by FIS for this account and is no "
                "administrator.",
    severity=HIGH, levels=HA_COSTLY, anchors=(own("HA-DRILL-3"),),
    remediation="Trust only fis.amazonaws.com with aws:SourceAccount and aws:SourceArn "
                "(arn:aws:fis:<region>:<account>:experiment/*) conditions, and grant the "
                "actions of the template's FIS actions on its targets only: "
                "ec2:InjectApiError with ec2:FisActionId, network ACL writes with the "
                "managedByFIS tag, instance actions by tag or ARN "
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
                        + admin_grants(graph, role) + unscoped_fault_grants(graph, role))
            for problem in problems:
                report(f"{template.name}'s role {role.name}: {problem}.", role.urn)


FIS_ACL_TAG = "managedByFIS"
ACL_WRITES = ("ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAcl")
INSTANCE_WRITES = ("ec2:StopInstances", "ec2:StartInstances", "ec2:TerminateInstances",
                   "ec2:RebootInstances")


def unscoped_fault_grants(graph: StackGraph, role: PolicyResource) -> list[str]:
    """The role's fault grants that lack the scope the FIS actions reference gives them."""
    found: list[str] = []
    for document in inline_documents(graph, role):
        for statement in allow_statements(document):
            actions = {a for a in listed(statement.get("Action", [])) if isinstance(a, str)}
            condition = json.dumps(statement.get("Condition", {}))
            resources = [r for r in listed(statement.get("Resource", [])) if isinstance(r, str)]
            if "ec2:InjectApiError" in actions and "ec2:FisActionId" not in condition:
                found.append("allows ec2:InjectApiError without an ec2:FisActionId condition "
                             "(any FIS action may inject EC2 API errors)")
            if actions & set(ACL_WRITES) and f"ResourceTag/{FIS_ACL_TAG}" not in condition:
                found.append(f"allows {', '.join(sorted(actions & set(ACL_WRITES)))} on network "
                             f"ACLs without the {FIS_ACL_TAG} tag condition (the VPC's own ACLs)")
            everywhere = [r for r in resources if r == "*" or r.endswith(":instance/*")]
            if actions & set(INSTANCE_WRITES) and everywhere and "Condition" not in statement:
                found.append(f"allows {', '.join(sorted(actions & set(INSTANCE_WRITES)))} on "
                             "every instance of the account (no tag or ARN scope)")
    return found
