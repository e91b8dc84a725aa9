"""Route 53 failover: a PRIMARY that is health-checked, and a SECONDARY to fail over to."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pulumi_policy import PolicyResource

from hastack_policies.catalogue import (
    HA,
    HA_COSTLY,
    HIGH,
    MEDIUM,
    Report,
    StackSubject,
    Subject,
    own,
    resource_rule,
    setting,
    stack_rule,
)
from hastack_policies.graph import StackGraph
from hastack_policies.tokens import ROUTE53_HEALTH_CHECK, ROUTE53_RECORD
from hastack_policies.values import as_int, is_set, items, peek, truthy, value

ENDPOINT_CHECK_TYPES = ("HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP")


def _failover_role(props: Any) -> str | None:
    policies = items(props, "failoverRoutingPolicies")
    role = value(policies[0], "type") if policies else None
    return role if isinstance(role, str) else None


@resource_rule(
    name="route53-primary-health-checked",
    description="A PRIMARY failover record is health-checked (or an alias evaluating target "
                "health), so Route 53 knows when to fail over. A SECONDARY may have neither: "
                "a warm standby's empty target group is unhealthy, and an unhealthy "
                "SECONDARY would keep DNS on a dead PRIMARY (facts.md pitfall 1).",
    severity=HIGH, levels=HA,
    anchors=(own("HA-DNS-1"),),
    types=(ROUTE53_RECORD,),
    remediation="Set healthCheckId on the PRIMARY record, or use an alias with "
                "evaluateTargetHealth=true.",
)
def route53_primary_health_checked(subject: Subject, report: Report) -> None:
    if _failover_role(subject.props) != "PRIMARY":
        return
    if is_set(subject.props, "healthCheckId"):
        return
    aliases = items(subject.props, "aliases")
    if any(truthy(value(alias, "evaluateTargetHealth", default=False)) for alias in aliases):
        return
    report("PRIMARY record without a health check: Route 53 never fails over.")


def _record_key(graph: StackGraph, record: PolicyResource) -> tuple[str, str, str]:
    """(zone, name, type) — the zone by the resource it came from when the ID is unknown."""
    zone_refs = graph.referenced(record, "zoneId")
    zone = zone_refs[0].urn if zone_refs else str(peek(record.props, "zoneId"))
    return zone, str(peek(record.props, "name")).rstrip(".").lower(), str(
        peek(record.props, "type"))


@stack_rule(
    name="route53-failover-pair",
    description="Every PRIMARY failover record has a SECONDARY with a distinct set identifier.",
    severity=HIGH, levels=HA_COSTLY,
    anchors=(own("HA-DNS-2"),),
    remediation="Create the SECONDARY record (same zone, name and type) pointing at the "
                "standby region, with its own setIdentifier.",
)
def route53_failover_pair(stack: StackSubject, report: Report) -> None:
    graph = StackGraph(stack.resources)
    by_key: dict[tuple[str, str, str], dict[str, list[PolicyResource]]] = defaultdict(
        lambda: defaultdict(list))
    for record in graph.of_type(ROUTE53_RECORD):
        role = _failover_role(record.props)
        if role:
            by_key[_record_key(graph, record)][role].append(record)
    for (_, name, kind), roles in sorted(by_key.items()):
        for primary in roles.get("PRIMARY", []):
            primary_id = peek(primary.props, "setIdentifier")
            partners = [s for s in roles.get("SECONDARY", [])
                        if peek(s.props, "setIdentifier") != primary_id]
            if not partners:
                report(f"PRIMARY {kind} {name} has no SECONDARY with a "
                       "different setIdentifier.", primary.urn)


@resource_rule(
    name="route53-health-check-sane",
    description="Endpoint health checks probe HTTPS with a path, every 10 or 30 s, "
                "with a bounded failure threshold.",
    severity=MEDIUM, levels=HA,
    anchors=(own("HA-DNS-3"),),
    types=(ROUTE53_HEALTH_CHECK,),
    remediation="Use type HTTPS (or HTTPS_STR_MATCH) with resourcePath, requestInterval 10 "
                "or 30 and failureThreshold between 1 and the configured maximum.",
    settings={"maxFailureThreshold": setting(
        "integer", 3, "Most consecutive failures before Route 53 marks the endpoint down")},
)
def route53_health_check_sane(subject: Subject, report: Report) -> None:
    kind = value(subject.props, "type")
    if kind not in ENDPOINT_CHECK_TYPES:
        return  # calculated / CloudWatch / recovery-control checks have no endpoint
    if kind not in ("HTTPS", "HTTPS_STR_MATCH"):
        report(f"type {kind}: probe over HTTPS, as clients do.")
    if not is_set(subject.props, "resourcePath"):
        report("resourcePath is not set: the check only proves the load balancer is up.")
    interval = as_int(value(subject.props, "requestInterval", default=30), 30)
    if interval not in (10, 30):
        report(f"requestInterval {interval}: Route 53 accepts only 10 or 30.")
    threshold = as_int(value(subject.props, "failureThreshold", default=3), 3)
    limit = subject.config["maxFailureThreshold"]
    if not 1 <= threshold <= limit:
        report(f"failureThreshold {threshold} is outside 1..{limit}: failover would be slow.")
