"""Judging an IAM role that one AWS service assumes (FIS experiments, ARC plans).

Shared by the rule families whose resources run under a service role: the role must
be trusted by that service principal alone (optionally with the confused-deputy
conditions the service documents) and must not be an administrator, whether through
an AWS-managed admin policy or through inline / attached documents granting `*`,
`service:*` or `NotAction`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyResource

from hastack_policies.graph import StackGraph
from hastack_policies.tokens import IAM_ROLE_POLICY, IAM_ROLE_POLICY_ATTACHMENT
from hastack_policies.values import _unwrap, is_unknown, items, peek

# AWS-managed policies that make any role an administrator (or one step from it).
ADMIN_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")


def policy_document(raw: Any) -> Mapping[str, Any] | None:
    """A policy document (JSON text or object), or None when not known yet (first preview)."""
    raw = _unwrap(raw)
    if raw is None or is_unknown(raw):
        return None
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
        except ValueError:
            return None
        return parsed if isinstance(parsed, Mapping) else None
    return raw if isinstance(raw, Mapping) else None


def listed(raw: Any) -> list[Any]:
    """IAM's "one value or a list of values", as a list."""
    raw = _unwrap(raw)
    return list(raw) if isinstance(raw, (list, tuple)) else [raw]


def allow_statements(document: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if not document:
        return []
    return [s for s in listed(document.get("Statement", []))
            if isinstance(s, Mapping) and s.get("Effect") == "Allow"]


def trust_problems(role: PolicyResource, principal: str, *,
                   source_conditions: bool) -> list[str]:
    """What is wrong with `role`'s trust policy for a role only `principal` assumes.

    `source_conditions`: each statement must also carry aws:SourceAccount or
    aws:SourceArn (the confused-deputy protection the service documents).
    """
    problems = []
    for statement in allow_statements(policy_document(peek(role.props, "assumeRolePolicy"))):
        trusted = statement.get("Principal")
        services = (listed(trusted.get("Service", [])) if isinstance(trusted, Mapping)
                    else [])
        others = {k for k in trusted if k != "Service"} if isinstance(trusted, Mapping) \
            else {"*"}
        if others or services != [principal]:
            problems.append(f"trusted by {json.dumps(trusted, sort_keys=True)}, not only "
                            f"{principal}")
        condition = json.dumps(statement.get("Condition", {}))
        if source_conditions and ("aws:SourceAccount" not in condition
                                  and "aws:SourceArn" not in condition):
            problems.append("no aws:SourceAccount/aws:SourceArn condition (confused deputy)")
    return problems


def inline_documents(graph: StackGraph, role: PolicyResource) -> list[Mapping[str, Any]]:
    """The known inline policy documents of `role` (RolePolicy resources, inlinePolicies)."""
    attached = graph.referrers(role, "role", [IAM_ROLE_POLICY],
                               literal=lambda r: peek(r.props, "name"))
    raws = [peek(a.props, "policy") for a in attached]
    raws += [peek(p, "policy") for p in items(role.props, "inlinePolicies")]
    return [d for d in map(policy_document, raws) if d is not None]


def admin_grants(graph: StackGraph, role: PolicyResource) -> list[str]:
    """Each way `role` is an administrator: an admin managed policy, or a wildcard grant."""
    attached = graph.referrers(role, "role", [IAM_ROLE_POLICY, IAM_ROLE_POLICY_ATTACHMENT],
                               literal=lambda r: peek(r.props, "name"))
    managed = [peek(a.props, "policyArn") for a in attached
               if a.resource_type == IAM_ROLE_POLICY_ATTACHMENT]
    if peek(role.props, "managedPolicyArns") is not None:
        managed += listed(peek(role.props, "managedPolicyArns"))
    found = [f"has the managed policy {arn}" for arn in managed
             if isinstance(arn, str) and arn.rsplit("/", 1)[-1] in ADMIN_POLICIES]
    wildcards: set[str] = set()
    for document in inline_documents(graph, role):
        for statement in allow_statements(document):
            wildcards.update(a for a in listed(statement.get("Action", []))
                             if isinstance(a, str) and (a == "*" or a.endswith(":*")))
            if "NotAction" in statement:
                wildcards.add("NotAction")
    found += [f"allows '{action}'" for action in sorted(wildcards)]
    return found
