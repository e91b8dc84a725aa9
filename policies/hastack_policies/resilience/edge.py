"""DNS failover: how long until clients are sent to the standby region.

Route 53 (PRIMARY/SECONDARY records, CNAME or alias) and Cloud DNS (primaryBackup
routing policy). Pitfall encoded here: a health-checked secondary that is unhealthy
(an empty standby) makes Route 53 keep answering with the dead primary, so routing
waits for the standby to become healthy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hastack_policies.resilience.paths import Term, configured, from_fact
from hastack_policies.resilience.resources import (
    UNKNOWN,
    Resource,
    Stack,
    as_bool,
    as_number,
    get,
)
from hastack_policies.resilience.workloads import target_group_checks

R53_RECORD = "aws:route53/record:Record"
R53_CHECK = "aws:route53/healthCheck:HealthCheck"
LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
DNS_RECORD = "gcp:dns/recordSet:RecordSet"
GCP_CHECK = "gcp:compute/healthCheck:HealthCheck"


@dataclass
class Edge:
    """The DNS failover as the plan builds it (None fields: not applicable)."""

    # Time to declare the primary dead (terms), or None when nothing detects it.
    detect: list[Term] | None
    # Resolver caching of the old answer.
    ttl: Term
    # Time for the standby to be seen healthy once it serves (None: not gated).
    gate: list[Term] | None
    has_standby: bool
    notes: list[str]


def edge(stack: Stack, active: str | None, standby: str | None) -> Edge | None:
    if stack.of_type(R53_RECORD):
        return _route53(stack, active, standby)
    if stack.of_type(DNS_RECORD):
        return _cloud_dns(stack)
    return None


def _failover_type(record: Resource) -> str | None:
    policy = get(record.props, "failoverRoutingPolicies", 0, "type")
    return policy if isinstance(policy, str) else None


def _route53_check(stack: Stack, record: Resource) -> Resource | None:
    checks = stack.referenced(record, "healthCheckId", R53_CHECK)
    ident = record.props.get("healthCheckId")
    check = checks[0] if checks else next(
        (c for c in stack.of_type(R53_CHECK) if ident and c.id == ident), None)
    if check is not None and check.props.get("type") == "CALCULATED":
        # A CALCULATED check (endpoint AND a Region switch plan's check, dns.py) turns
        # unhealthy when its endpoint child does: detection is the endpoint check's.
        children = [c for c in stack.referenced(check, "childHealthchecks", R53_CHECK)
                    if c.props.get("type") != "CALCULATED"]
        return children[0] if children else check
    return check


def _check_terms(check: Resource, what: str, *, recovering: bool) -> list[Term]:
    interval = as_number(check.props.get("requestInterval")) or 30.0
    threshold = as_number(check.props.get("failureThreshold")) or 3.0
    verb = "healthy again" if recovering else "unhealthy"
    return [configured(f"{what}: Route 53 check {interval:g} s x {threshold:g} to {verb}",
                       interval * threshold,
                       f"{check.name} requestInterval x failureThreshold (the same count "
                       "applies to recovery)")]


def _alias(record: Resource) -> Mapping[str, object] | None:
    if record.props.get("aliases") == UNKNOWN:
        # Not known yet (first preview): an alias all the same; assume it evaluates
        # target health, the slower case for a standby.
        return {"evaluateTargetHealth": True}
    alias = get(record.props, "aliases", 0)
    return alias if isinstance(alias, Mapping) else None


def _alb_region(stack: Stack, record: Resource, fallback: str | None) -> str | None:
    for lb in stack.referenced(record, "aliases", *LOAD_BALANCERS):
        return stack.region(lb)
    return fallback


def _route53(stack: Stack, active: str | None, standby: str | None) -> Edge:
    records = stack.of_type(R53_RECORD)
    primary = next((r for r in records if _failover_type(r) == "PRIMARY"), None)
    secondary = next((r for r in records if _failover_type(r) == "SECONDARY"), None)
    notes: list[str] = []
    if primary is None:
        return Edge(None, from_fact("DNS TTL", "route53.aliasTtl"), None, False,
                    ["no PRIMARY failover record: DNS never moves"])
    detect: list[Term] | None = None
    check = _route53_check(stack, primary)
    alias = _alias(primary)
    if check is not None:
        detect = _check_terms(check, "detect", recovering=False)
    elif alias is not None and as_bool(alias.get("evaluateTargetHealth")):
        tgs = target_group_checks(stack, _alb_region(stack, primary, active))
        if tgs:
            worst = max(tgs, key=lambda c: c.interval * c.unhealthy)
            detect = [configured(f"detect: target group {worst.interval:g} s x "
                                 f"{worst.unhealthy:g} unhealthy",
                                 worst.interval * worst.unhealthy, worst.source),
                      from_fact("detect: Route 53 evaluates the alias target", "route53.ethDetect")]
        else:
            notes.append("primary alias evaluates target health but no target group is visible")
            detect = [from_fact("detect: Route 53 evaluates the alias target", "route53.ethDetect")]
    if alias is not None:
        ttl = from_fact("DNS: alias record TTL (fixed)", "route53.aliasTtl")
    else:
        seconds = as_number(primary.props.get("ttl")) or 0.0
        ttl = configured(f"DNS: record TTL {seconds:g} s", seconds, f"{primary.name} ttl")
    gate: list[Term] | None = None
    if secondary is not None:
        gates: list[list[Term]] = []
        secondary_check = _route53_check(stack, secondary)
        if secondary_check is not None:
            gates.append(_check_terms(secondary_check, "standby seen healthy", recovering=True))
        secondary_alias = _alias(secondary)
        if secondary_alias is not None and as_bool(secondary_alias.get("evaluateTargetHealth")):
            tgs = target_group_checks(stack, _alb_region(stack, secondary, standby))
            interval, healthy, source = (
                (max(tgs, key=lambda c: c.interval * c.healthy).interval,
                 max(tgs, key=lambda c: c.interval * c.healthy).healthy,
                 max(tgs, key=lambda c: c.interval * c.healthy).source) if tgs
                else (30.0, 3.0, "pulumi-aws lb.TargetGroup healthCheck defaults"))
            gates.append([configured(f"standby seen healthy: target group {interval:g} s x "
                                     f"{healthy:g}", interval * healthy, source)])
        if gates:
            gate = max(gates, key=lambda terms: sum(t.seconds for t in terms))
    return Edge(detect, ttl, gate, secondary is not None, notes)


def _cloud_dns(stack: Stack) -> Edge | None:
    if any(r.props.get("routingPolicy") == UNKNOWN for r in stack.of_type(DNS_RECORD)):
        return None  # not known until deployment (first preview)
    record = next((r for r in stack.of_type(DNS_RECORD)
                   if get(r.props, "routingPolicy", "primaryBackup")), None)
    if record is None:
        record = stack.of_type(DNS_RECORD)[0]
        seconds = as_number(record.props.get("ttl")) or 0.0
        return Edge(None, configured(f"DNS: record TTL {seconds:g} s", seconds, record.name),
                    None, False, ["no failover routing policy: DNS never moves"])
    policy = get(record.props, "routingPolicy", default={})
    seconds = as_number(record.props.get("ttl")) or 0.0
    ttl = configured(f"DNS: record TTL {seconds:g} s", seconds, f"{record.name} ttl")
    checks = stack.referenced(record, "routingPolicy", GCP_CHECK)
    if not checks:
        wanted = str(policy.get("healthCheck") or "")
        checks = [c for c in stack.of_type(GCP_CHECK)
                  if wanted and wanted.endswith("/" + str(c.props.get("name")))]
    detect: list[Term] | None = None
    if checks:
        check = checks[0]
        interval = as_number(check.props.get("checkIntervalSec")) or 5.0
        threshold = as_number(check.props.get("unhealthyThreshold")) or 2.0
        detect = [configured(f"detect: Cloud DNS health check {interval:g} s x {threshold:g}",
                             interval * threshold,
                             f"{check.name} checkIntervalSec x unhealthyThreshold")]
    backups = get(policy, "primaryBackup", "backupGeos", default=[])
    gated = any(isinstance(b, Mapping) and b.get("healthCheckedTargets") for b in backups)
    gate = None
    if gated and checks:
        interval = as_number(checks[0].props.get("checkIntervalSec")) or 5.0
        healthy = as_number(checks[0].props.get("healthyThreshold")) or 2.0
        gate = [configured(f"standby seen healthy: {interval:g} s x {healthy:g}",
                           interval * healthy, f"{checks[0].name} healthyThreshold")]
    return Edge(detect, ttl, gate, bool(backups), [])
