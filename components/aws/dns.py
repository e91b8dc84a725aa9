"""Active/passive DNS failover with Route 53 health checks.

One name (`<hostname>.<domain>`) answers with the PRIMARY record while its health
check passes and with the SECONDARY record otherwise. Each endpoint gets its own
HTTPS health check, probed from at least three checker regions, so a single
checker region's trouble cannot fail the platform over.

The endpoints can be anything reachable over HTTPS: an AWS load balancer (alias
record, `evaluate_target_health=True`), another DNS name (CNAME, short TTL) or an
IPv4 address (A record) — so GCP stacks that keep their zone in Route 53 reuse it.

Note on Host headers: for a DNS-name endpoint Route 53 sends the endpoint's own
name as Host/SNI, so the health path must answer on any Host (the load
balancer's default rule), not only on the public hostname.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

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
MAX_TTL = 300


@dataclass(frozen=True)
class FailoverEndpoint:
    """One side of the pair: where the name points while this side is active."""

    # A DNS name (load balancer, other cloud's endpoint) or, with `target_is_ip`, an IPv4.
    target: pulumi.Input[str]
    # Hosted zone ID of the target's load balancer: makes the record an alias.
    alias_zone_id: pulumi.Input[str] | None = None
    target_is_ip: bool = False
    # Defaults to "primary" / "secondary".
    set_identifier: str | None = None


@dataclass(frozen=True)
class FailoverDnsArgs:
    tier: Tier
    domain: str
    hostname: str
    primary: FailoverEndpoint
    secondary: FailoverEndpoint | None
    # Route 53 hosted zone ID; looked up by `domain` (public zone) when absent.
    zone_id: pulumi.Input[str] | None = None
    health_check_path: str = "/api/health"
    # Seconds between checks: 10 (fast, prod default) or 30 (standard).
    request_interval: int | None = None
    failure_threshold: int = 3
    checker_regions: Sequence[str] = DEFAULT_CHECKER_REGIONS
    ttl: int = 60
    # Route 53 is global; any AWS provider of the account will do.
    provider: pulumi.ProviderResource | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


RecordKind = Literal["alias", "A", "CNAME"]


def _kind(endpoint: FailoverEndpoint) -> RecordKind:
    if endpoint.alias_zone_id is not None:
        return "alias"
    return "A" if endpoint.target_is_ip else "CNAME"


def validate(args: FailoverDnsArgs) -> tuple[FailoverEndpoint, int]:
    """Raise `ValueError` on the first bad argument; return the secondary and interval."""
    if not DOMAIN.match(args.domain):
        raise ValueError(f"domain '{args.domain}' must be a lower-case DNS domain")
    if not HOSTNAME_LABEL.match(args.hostname):
        raise ValueError(f"hostname '{args.hostname}' must be a single lower-case DNS label")
    if args.secondary is None:
        raise ValueError("secondary endpoint is missing: failover DNS needs a SECONDARY "
                         "to fail over to (use a plain record for a single endpoint)")
    interval = args.request_interval or (10 if args.tier == "prod" else 30)
    if interval not in (10, 30):
        raise ValueError(f"request_interval must be 10 or 30 seconds (got {interval})")
    if not 1 <= args.failure_threshold <= 10:
        raise ValueError(f"failure_threshold must be 1..10 (got {args.failure_threshold})")
    regions = list(args.checker_regions)
    unknown = sorted(set(regions) - CHECKER_REGIONS)
    if unknown:
        raise ValueError(f"checker_regions {unknown} are not Route 53 checker regions; "
                         f"allowed: {', '.join(sorted(CHECKER_REGIONS))}")
    if len(set(regions)) < MIN_CHECKER_REGIONS:
        raise ValueError(f"checker_regions needs at least {MIN_CHECKER_REGIONS} distinct "
                         f"regions (got {len(set(regions))})")
    if not args.health_check_path.startswith("/"):
        raise ValueError(f"health_check_path '{args.health_check_path}' must start with '/'")
    if not 1 <= args.ttl <= MAX_TTL:
        raise ValueError(f"ttl must be 1..{MAX_TTL} seconds so failover takes effect fast "
                         f"(got {args.ttl})")
    if _identifier(args.primary, "primary") == _identifier(args.secondary, "secondary"):
        raise ValueError("primary and secondary need distinct set_identifiers "
                         f"(both '{_identifier(args.primary, 'primary')}')")
    for side, endpoint in (("primary", args.primary), ("secondary", args.secondary)):
        if endpoint.alias_zone_id is not None and endpoint.target_is_ip:
            raise ValueError(f"{side}: an alias target is a DNS name, not an IP address")
    # Both failover records share one name, so they must share one record type:
    # a CNAME cannot coexist with an A record of the same name.
    kinds = {_record_type(args.primary), _record_type(args.secondary)}
    if len(kinds) > 1:
        raise ValueError("primary and secondary must produce the same record type "
                         f"(got {sorted(kinds)}); e.g. two aliases or two CNAMEs")
    return args.secondary, interval


def _identifier(endpoint: FailoverEndpoint, default: str) -> str:
    return endpoint.set_identifier or default


def _record_type(endpoint: FailoverEndpoint) -> str:
    return "CNAME" if _kind(endpoint) == "CNAME" else "A"


class FailoverDns(pulumi.ComponentResource):
    """`<hostname>.<domain>` failing over from the primary to the secondary endpoint."""

    fqdn: str
    zone_id: pulumi.Output[str]
    health_check_ids: dict[str, pulumi.Output[str]]
    records: dict[str, aws.route53.Record]

    def __init__(self, name: str, args: FailoverDnsArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("hastack:aws:FailoverDns", name, None, opts)
        secondary, interval = validate(args)
        self.fqdn = f"{args.hostname}.{args.domain}"
        tags = standard_tags(args.tier, COMPONENT, args.tags)
        options = child_options(self, args.provider)
        if args.zone_id is not None:
            self.zone_id = pulumi.Output.from_input(args.zone_id)
        else:
            zone = aws.route53.get_zone_output(
                name=args.domain, private_zone=False,
                opts=pulumi.InvokeOutputOptions(parent=self, provider=args.provider))
            self.zone_id = zone.zone_id

        self.health_check_ids = {}
        self.records = {}
        for role, endpoint in (("PRIMARY", args.primary), ("SECONDARY", secondary)):
            identifier = _identifier(endpoint, role.lower())
            check = self._health_check(f"{name}-{identifier}", endpoint, args, interval,
                                       {**tags, "Name": f"{self.fqdn} {identifier}"}, options)
            self.health_check_ids[identifier] = check.id
            self.records[identifier] = self._record(
                f"{name}-{identifier}", role, identifier, endpoint, check, args, options)

        self.register_outputs({
            "fqdn": self.fqdn,
            "zoneId": self.zone_id,
            "healthCheckIds": self.health_check_ids,
        })

    def _health_check(self, resource_name: str, endpoint: FailoverEndpoint,
                      args: FailoverDnsArgs, interval: int, tags: dict[str, str],
                      opts: pulumi.ResourceOptions) -> aws.route53.HealthCheck:
        # An IP target is probed by address with the public name as Host/SNI; a DNS
        # target is probed by its own name.
        by_ip = endpoint.target_is_ip
        return aws.route53.HealthCheck(
            resource_name,
            type="HTTPS",
            fqdn=self.fqdn if by_ip else endpoint.target,
            ip_address=endpoint.target if by_ip else None,
            port=HTTPS_PORT,
            resource_path=args.health_check_path,
            enable_sni=True,
            request_interval=interval,
            failure_threshold=args.failure_threshold,
            regions=list(args.checker_regions),
            measure_latency=True,
            tags=tags,
            opts=opts)

    def _record(self, resource_name: str, role: str, identifier: str,
                endpoint: FailoverEndpoint, check: aws.route53.HealthCheck,
                args: FailoverDnsArgs, opts: pulumi.ResourceOptions) -> aws.route53.Record:
        aliases = None
        if endpoint.alias_zone_id is not None:
            aliases = [aws.route53.RecordAliasArgs(
                name=endpoint.target, zone_id=endpoint.alias_zone_id,
                # Also follow the load balancer's own view of its targets.
                evaluate_target_health=True)]
        return aws.route53.Record(
            resource_name,
            zone_id=self.zone_id,
            name=self.fqdn,
            type=_record_type(endpoint),
            set_identifier=identifier,
            failover_routing_policies=[aws.route53.RecordFailoverRoutingPolicyArgs(type=role)],
            # Both sides carry a health check: Route 53 then also fails *back* only
            # when the primary is verifiably healthy again.
            health_check_id=check.id,
            aliases=aliases,
            # Alias records carry no TTL of their own; the others are short-lived so
            # resolvers pick up a failover within a minute.
            records=None if aliases else [endpoint.target],
            ttl=None if aliases else args.ttl,
            opts=opts)
