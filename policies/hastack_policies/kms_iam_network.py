"""KMS key rotation, IAM policy ownership, security-group exposure, NAT per zone."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import PolicyResource

from hastack_policies.catalogue import (
    CRITICAL,
    HA_COSTLY,
    HIGH,
    MEDIUM,
    SECURITY,
    Report,
    StackSubject,
    Subject,
    checkov,
    fsbp,
    own,
    resource_rule,
    setting,
    stack_rule,
)
from hastack_policies.graph import StackGraph, subnet_zone
from hastack_policies.tokens import (
    IAM_ROLE,
    IAM_ROLE_POLICY,
    IAM_ROLE_POLICY_ATTACHMENT,
    KMS_KEY,
    LOG_GROUP,
    NAT_GATEWAY,
    SECURITY_GROUP,
    SECURITY_GROUP_RULE,
    SG_INGRESS_RULE,
    SUBNET,
)
from hastack_policies.values import (
    OPEN_IPV4,
    OPEN_IPV6,
    as_int,
    is_open_cidr,
    is_set,
    is_unknown,
    items,
    peek,
    truthy,
    value,
)

# PostgreSQL, MySQL, Redis (plain and TLS), Memcached, Elasticsearch, MongoDB, Cassandra.
DATA_STORE_PORTS = [5432, 3306, 6379, 6380, 11211, 9200, 27017, 9042]


@resource_rule(
    name="kms-key-rotation",
    description="Symmetric KMS keys rotate their key material yearly.",
    severity=MEDIUM, levels=SECURITY,
    anchors=(checkov("CKV_AWS_7"), fsbp("KMS.4")),
    types=(KMS_KEY,),
    remediation="Set enableKeyRotation=true.",
)
def kms_key_rotation(subject: Subject, report: Report) -> None:
    spec = value(subject.props, "customerMasterKeySpec", default="SYMMETRIC_DEFAULT")
    if spec != "SYMMETRIC_DEFAULT":
        return  # AWS cannot rotate asymmetric or HMAC keys
    if not truthy(value(subject.props, "enableKeyRotation", default=False)):
        report("enableKeyRotation is not true.")


# Actions that use key material (or everything): what a policy must not hand out
# to the whole account, or to anyone, without a condition.
_USE = ("kms:*", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncrypt",
        "kms:CreateGrant")


def _list(raw: Any) -> list[Any]:
    return raw if isinstance(raw, list) else [raw]


def _grants_use(statement: Mapping[str, Any]) -> bool:
    for action in (str(a) for a in _list(statement.get("Action", []))):
        if action == "*":
            return True
        for use in _USE:
            if action == use or (action.endswith("*") and use.startswith(action[:-1])):
                return True
    return False


def _broad_principal(statement: Mapping[str, Any]) -> str | None:
    principal = statement.get("Principal")
    if principal == "*":
        return "'*'"
    aws_principals = _list(principal.get("AWS", [])) if isinstance(principal, Mapping) else []
    for each in aws_principals:
        if each == "*":
            return "'*'"
        if isinstance(each, str) and (each.endswith(":root") or each.isdigit()):
            return "the whole account"
    return None


@resource_rule(
    name="kms-key-policy-scoped",
    description="KMS keys carry an explicit key policy that lets the account administer the "
                "key but use it only through named services, roles or log groups.",
    severity=HIGH, levels=SECURITY,
    anchors=(own("SEC-KMS-1"),),
    types=(KMS_KEY,),
    remediation="Build the policy with components.aws.kms.key_policy(KeyScope(...)): admin "
                "actions for the account root, use actions only with kms:ViaService, "
                "aws:PrincipalArn or a CloudWatch Logs encryption context.",
)
def kms_key_policy_scoped(subject: Subject, report: Report) -> None:
    raw = peek(subject.props, "policy")
    if not is_set(subject.props, "policy"):
        report("no key policy: the default lets any IAM principal of the account with "
               "kms:* on '*' decrypt everything under this key.")
        return
    if is_unknown(raw):
        subject.defer("the key policy is computed from other resources (known at apply)")
    try:
        document = json.loads(str(value(subject.props, "policy")))
    except ValueError:
        report("the key policy is not valid JSON.")
        return
    for statement in _list(document.get("Statement", [])):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        who = _broad_principal(statement)
        if who and _grants_use(statement) and not statement.get("Condition"):
            report(f"statement {statement.get('Sid', '?')!r} lets {who} use the key "
                   "without a condition.")


@resource_rule(
    name="cloudwatch-log-group-cmk",
    description="CloudWatch log groups are encrypted with a customer-managed KMS key.",
    severity=MEDIUM, levels=SECURITY,
    anchors=(checkov("CKV_AWS_158"),),
    types=(LOG_GROUP,),
    remediation="Set kmsKeyId to a CMK whose policy lets logs.<region>.amazonaws.com use it "
                "for this log group (components.aws.kms.KeyScope(log_groups=...)).",
)
def cloudwatch_log_group_cmk(subject: Subject, report: Report) -> None:
    if not is_set(subject.props, "kmsKeyId"):
        report("kmsKeyId is not set: log events (slow queries, audit records) are stored "
               "under an AWS-owned key.")


def _attached_to(graph: StackGraph, role: PolicyResource, types: Iterable[str]) -> list[
        PolicyResource]:
    return graph.referrers(role, "role", types, literal=lambda r: peek(r.props, "name"))


@stack_rule(
    name="iam-role-policy-ownership",
    description="A role's policies are managed one way: inline/managed lists on the role, "
                "or separate policy resources, never both.",
    severity=MEDIUM, levels=SECURITY,
    anchors=(own("SEC-IAM-1"),),
    remediation="Move the role's inlinePolicies/managedPolicyArns into RolePolicy/"
                "RolePolicyAttachment resources (or the other way round): the role's lists "
                "are exclusive and remove whatever the separate resources add.",
)
def iam_role_policy_ownership(stack: StackSubject, report: Report) -> None:
    graph = StackGraph(stack.resources)
    for role in graph.of_type(IAM_ROLE):
        if is_set(role.props, "inlinePolicies") and _attached_to(graph, role, [IAM_ROLE_POLICY]):
            report("has inlinePolicies and separate RolePolicy resources; "
                   "each update removes the other's policies.", role.urn)
        if is_set(role.props, "managedPolicyArns") and _attached_to(
                graph, role, [IAM_ROLE_POLICY_ATTACHMENT]):
            report("has managedPolicyArns and RolePolicyAttachment resources; "
                   "each update detaches the other's policies.", role.urn)


def _covers(from_port: Any, to_port: Any, protocol: Any, ports: Iterable[int]) -> list[int]:
    if str(protocol) in ("-1", "all"):
        return list(ports)
    low, high = as_int(from_port, -1), as_int(to_port, -1)
    return [port for port in ports if low <= port <= high]


def _open_ingress(subject: Subject) -> Iterable[tuple[str, list[int]]]:
    """(description, exposed ports) of every world-open ingress in the resource."""
    ports = [as_int(port) for port in subject.config["ports"]]
    props = subject.props
    if subject.type == SECURITY_GROUP:
        for rule in items(props, "ingress"):
            cidrs = items(rule, "cidrBlocks") + items(rule, "ipv6CidrBlocks")
            if any(is_open_cidr(cidr) for cidr in cidrs):
                yield "inline ingress", _covers(value(rule, "fromPort"), value(rule, "toPort"),
                                                value(rule, "protocol"), ports)
    elif subject.type == SECURITY_GROUP_RULE:
        if value(props, "type") == "ingress":
            cidrs = items(props, "cidrBlocks") + items(props, "ipv6CidrBlocks")
            if any(is_open_cidr(cidr) for cidr in cidrs):
                yield "rule", _covers(value(props, "fromPort"), value(props, "toPort"),
                                      value(props, "protocol"), ports)
    elif peek(props, "cidrIpv4") == OPEN_IPV4 or peek(props, "cidrIpv6") == OPEN_IPV6:
        yield "ingress rule", _covers(value(props, "fromPort"), value(props, "toPort"),
                                      value(props, "ipProtocol"), ports)


@resource_rule(
    name="sg-no-open-data-store-ingress",
    description="No security group opens a data-store port to 0.0.0.0/0 or ::/0.",
    severity=CRITICAL, levels=SECURITY,
    # FSBP EC2.19 blocks a fixed list (22, 3389, 5432, 3306, ...) without 6379, 11211,
    # 27017 or 9042, and this rule checks data-store ports only: not cited.
    anchors=(own("SEC-NET-1"),),
    types=(SECURITY_GROUP, SECURITY_GROUP_RULE, SG_INGRESS_RULE),
    remediation="Allow the platform's subnet CIDRs or security groups instead of the internet.",
    settings={"ports": setting(
        "array", DATA_STORE_PORTS, "Ports that must never be world-open", items="integer")},
)
def sg_no_open_data_store_ingress(subject: Subject, report: Report) -> None:
    for where, exposed in _open_ingress(subject):
        if exposed:
            report(f"{where} opens {', '.join(map(str, exposed))} to the internet.")


@stack_rule(
    name="nat-gateway-per-az",
    description="Each AZ with subnets has its own NAT gateway (or a regional NAT gateway), "
                "so a zone outage does not cut egress elsewhere.",
    severity=MEDIUM, levels=HA_COSTLY,
    anchors=(own("HA-NET-1"),),
    remediation="Set network.natGateways='per-zone' in the stack file.",
)
def nat_gateway_per_az(stack: StackSubject, report: Report) -> None:
    graph = StackGraph(stack.resources)
    subnet_zones: dict[str | None, set[str]] = defaultdict(set)
    for subnet in graph.of_type(SUBNET):
        if zone := subnet_zone(subnet):
            subnet_zones[graph.region(subnet)].add(zone)
    nat_zones: dict[str | None, set[str]] = defaultdict(set)
    regional: set[str | None] = set()
    first_nat: dict[str | None, PolicyResource] = {}
    for nat in graph.of_type(NAT_GATEWAY):
        region = graph.region(nat)
        first_nat.setdefault(region, nat)
        if value(nat.props, "availabilityMode") == "regional":
            regional.add(region)
        for subnet in graph.referenced(nat, "subnetId", SUBNET):
            if zone := subnet_zone(subnet):
                nat_zones[region].add(zone)
    for region, nat in sorted(first_nat.items(), key=lambda item: str(item[0])):
        if region in regional:
            continue
        missing = sorted(subnet_zones[region] - nat_zones[region])
        if missing:
            report(f"{region or 'default region'}: no NAT gateway in {', '.join(missing)}; "
                   "those zones route egress through another zone.", nat.urn)
