"""Route 53 failover for the orchestrator's public name, onto each region's ALB.

Records (all aliases of type A onto the regions' ALBs, so no TTL of their own):

* `<hostname>-<region>.<domain>`, one simple alias per region: the name that
  region's HTTPS listener serves (its certificate carries it) and that its health
  check probes, so the check sends the right Host and SNI.
* `<hostname>.<domain>`, one failover record per region. Set identifier and Pulumi
  name are the REGION; the failover type follows `active_region` (PRIMARY there,
  SECONDARY elsewhere). A failover is therefore an in-place update of the two
  records' `failoverRoutingPolicies[0].type` (and health check), never a
  replacement: the Terraform provider under pulumi-aws updates these fields with
  a change batch on the same set identifier.
* One region (dev): a simple alias for `<hostname>.<domain>`.

Health checks: one HTTPS check per region against its regional name (port 443,
SNI on, the orchestrator's health path), from at least three checker regions;
prod probes every 10 s, other tiers every 30 s, 3 failures to flip (30 s / 90 s).

Standby health (facts.md pitfall 1): Route 53 keeps answering with the PRIMARY
when the SECONDARY is unhealthy, and a warm standby's ALB has an empty target
group, which Evaluate Target Health reports unhealthy. So `evaluate_health` is
per region: True for the active region and for a hot standby (its record has the
health check and ETH); False for a warm standby, whose record has neither, so
DNS flips the moment the primary's check fails and the standby's warm-up overlaps
the DNS change. Every region still gets its health check, for alarms and for the
moment it becomes active.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.base import Tier, child_options, standard_tags
from hastack.config.model import DOMAIN, HOSTNAME_LABEL

COMPONENT = "FailoverDns"
# Regions Route 53 health checkers run in (pulumi-aws `route53.HealthCheck.regions` docs).
CHECKER_REGIONS = frozenset({
    "us-east-1", "us-west-1", "us-west-2", "eu-west-1",
    "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1",
})
DEFAULT_CHECKER_REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
MIN_CHECKER_REGIONS = 3
HTTPS_PORT = 443


@dataclass(frozen=True)
class RegionEndpoint:
    """One region's load balancer, as the alias records need it."""

    region: str
    alias_name: pulumi.Input[str]        # the ALB's DNS name
    alias_zone_id: pulumi.Input[str]     # the ALB's canonical hosted zone ID
    # Route on this region's health: True for the active region and a hot standby.
    evaluate_health: bool = True


@dataclass(frozen=True)
class FailoverDnsArgs:
    tier: Tier
    domain: str
    hostname: str
    zone_id: pulumi.Input[str]
    endpoints: Sequence[RegionEndpoint]
    # The region that serves (PRIMARY); None: the first endpoint's.
    active_region: str | None = None
    health_check_path: str = "/api/health"
    # Seconds between checks: 10 (fast, prod default) or 30 (standard).
    request_interval: int | None = None
    failure_threshold: int = 3
    checker_regions: Sequence[str] = DEFAULT_CHECKER_REGIONS
    # Route 53 is global; any AWS provider of the account will do.
    provider: pulumi.ProviderResource | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    # Region -> the health check an ARC Region switch plan controls for that region
    # (RegionSwitchPlan.health_check_ids). Given (even empty), each health-evaluating
    # failover record carries a CALCULATED check: its endpoint check AND ARC's, so
    # traffic leaves a region when its endpoint fails or when ARC deactivates it.
    control_health_checks: pulumi.Input[Mapping[str, str]] | None = None

    @property
    def fqdn(self) -> str:
        return f"{self.hostname}.{self.domain}"

    def regional_fqdn(self, region: str) -> str:
        return f"{self.hostname}-{region}.{self.domain}"

    @property
    def active(self) -> str:
        return self.active_region or self.endpoints[0].region


def validate(args: FailoverDnsArgs) -> int:
    """Raise `ValueError` on the first bad argument; return the request interval."""
    if not DOMAIN.match(args.domain):
        raise ValueError(f"domain '{args.domain}' must be a lower-case DNS domain")
    if not HOSTNAME_LABEL.match(args.hostname):
        raise ValueError(f"hostname '{args.hostname}' must be a single lower-case DNS label")
    regions = [e.region for e in args.endpoints]
    if not regions:
        raise ValueError("endpoints is empty: the name needs at least one region to point at")
    if len(set(regions)) != len(regions):
        raise ValueError(f"endpoints name a region twice: {regions}")
    if args.active not in regions:
        raise ValueError(f"active_region '{args.active}' is not one of the endpoints' "
                         f"regions {regions}")
    active = next(e for e in args.endpoints if e.region == args.active)
    if len(regions) > 1 and not active.evaluate_health:
        raise ValueError(f"the active region {args.active} must evaluate its health: "
                         "a PRIMARY without a health check never fails over")
    if len(regions) > 2:
        raise ValueError("failover routing has one PRIMARY and one SECONDARY: "
                         f"give at most two regions (got {regions})")
    interval = args.request_interval or (10 if args.tier == "prod" else 30)
    if interval not in (10, 30):
        raise ValueError(f"request_interval must be 10 or 30 seconds (got {interval})")
    if not 1 <= args.failure_threshold <= 10:
        raise ValueError(f"failure_threshold must be 1..10 (got {args.failure_threshold})")
    checkers = list(args.checker_regions)
    unknown = sorted(set(checkers) - CHECKER_REGIONS)
    if unknown:
        raise ValueError(f"checker_regions {unknown} are not Route 53 checker regions; "
                         f"allowed: {', '.join(sorted(CHECKER_REGIONS))}")
    if len(set(checkers)) < MIN_CHECKER_REGIONS:
        raise ValueError(f"checker_regions needs at least {MIN_CHECKER_REGIONS} distinct "
                         f"regions (got {len(set(checkers))})")
    if not args.health_check_path.startswith("/"):
        raise ValueError(f"health_check_path '{args.health_check_path}' must start with '/'")
    return interval


class FailoverDns(pulumi.ComponentResource):
    """`<hostname>.<domain>` on the active region's ALB, failing over to the other."""

    fqdn: str
    zone_id: pulumi.Output[str]
    health_check_ids: dict[str, pulumi.Output[str]]
    records: dict[str, aws.route53.Record]
    regional_records: dict[str, aws.route53.Record]

    def __init__(self, name: str, args: FailoverDnsArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        interval = validate(args)
        super().__init__("hastack:aws:FailoverDns", name, None, opts)
        self.fqdn = args.fqdn
        self.zone_id = pulumi.Output.from_input(args.zone_id)
        tags = standard_tags(args.tier, COMPONENT, args.tags)
        options = child_options(self, args.provider)
        self.health_check_ids, self.records, self.regional_records = {}, {}, {}
        single = len(args.endpoints) == 1
        for endpoint in args.endpoints:
            region = endpoint.region
            regional = args.regional_fqdn(region)
            self.regional_records[region] = self._alias(
                f"{name}-{region}-regional", regional, endpoint, False, options)
            check = aws.route53.HealthCheck(
                f"{name}-{region}",
                type="HTTPS", fqdn=regional, port=HTTPS_PORT, enable_sni=True,
                resource_path=args.health_check_path, request_interval=interval,
                failure_threshold=args.failure_threshold, regions=list(args.checker_regions),
                measure_latency=True,
                tags={**tags, "Name": f"{self.fqdn} {region}"},
                # The check probes the regional name, so it must exist first.
                opts=pulumi.ResourceOptions.merge(options, pulumi.ResourceOptions(
                    depends_on=[self.regional_records[region]])))
            self.health_check_ids[region] = check.id
            if single:
                self.records[region] = self._alias(f"{name}-record", self.fqdn, endpoint,
                                                   True, options)
                continue
            role = "PRIMARY" if region == args.active else "SECONDARY"
            record_check: pulumi.Output[str] = check.id
            if args.control_health_checks is not None and endpoint.evaluate_health:
                record_check = self._controlled(f"{name}-{region}-control", region, check,
                                                args.control_health_checks, tags, options)
            self.records[region] = aws.route53.Record(
                f"{name}-{region}-failover",
                zone_id=self.zone_id, name=self.fqdn, type="A", set_identifier=region,
                failover_routing_policies=[
                    aws.route53.RecordFailoverRoutingPolicyArgs(type=role)],
                health_check_id=record_check if endpoint.evaluate_health else None,
                aliases=[aws.route53.RecordAliasArgs(
                    name=endpoint.alias_name, zone_id=endpoint.alias_zone_id,
                    evaluate_target_health=endpoint.evaluate_health)],
                opts=options)
        self.register_outputs({
            "fqdn": self.fqdn, "zoneId": self.zone_id, "healthCheckIds": self.health_check_ids,
            "activeRegion": args.active,
        })

    def _controlled(self, resource_name: str, region: str, check: aws.route53.HealthCheck,
                    control: pulumi.Input[Mapping[str, str]], tags: Mapping[str, str],
                    opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
        """Healthy only while every child is: the endpoint check and ARC's (once listed).

        Until ARC's check is listed (a fresh plan) the only child is the endpoint check,
        so routing is exactly as without a plan; the next `pulumi up` adds ARC's.
        """
        children = pulumi.Output.all(check.id, control).apply(
            lambda v: [v[0], *([v[1][region]] if v[1].get(region) else [])])
        calculated = aws.route53.HealthCheck(
            resource_name, type="CALCULATED", child_healthchecks=children,
            child_health_threshold=children.apply(len),
            tags={**tags, "Name": f"{self.fqdn} {region} (endpoint and ARC)"}, opts=opts)
        return calculated.id

    def _alias(self, resource_name: str, fqdn: str, endpoint: RegionEndpoint,
               evaluate: bool, opts: pulumi.ResourceOptions) -> aws.route53.Record:
        return aws.route53.Record(
            resource_name, zone_id=self.zone_id, name=fqdn, type="A",
            aliases=[aws.route53.RecordAliasArgs(
                name=endpoint.alias_name, zone_id=endpoint.alias_zone_id,
                evaluate_target_health=evaluate)],
            opts=opts)
