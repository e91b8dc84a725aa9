"""The platform's public name: a Cloud DNS failover record with a health check.

Why Cloud DNS (and not Route 53) on GCP: the zone, the record, the health check
and the endpoints then share one control plane, one IAM model and one provider;
Cloud DNS routing policies health-check *external* endpoints from three Google
regions, which is what a two-region public load balancer pair needs.
(`GcpPlatform` refuses `dns.provider: route53` until the shared Route 53
component exists, rather than silently building a record nobody asked for.)

Shape of the record (`<hostname>.<domain>`, type A):

* One region: a plain A record for the region's load balancer.
* Two regions: a `primary_backup` routing policy. Cloud DNS answers with the
  primary region's address while its health check passes and with the secondary
  region's address when it fails. `trickle_ratio=0`: no traffic reaches the warm
  standby while the primary is healthy (its API pods are scaled to zero). The
  backup is answered with plain `rrdatas`, not health-checked: the standby only
  becomes healthy *after* an operator promotes it, and DNS must already point
  there by then.
* The health check is a global HTTPS check against the health path with the
  public host name as Host header (the ingress routes by host), probing from
  exactly three source regions (a Cloud DNS requirement), every 30 s (the minimum
  for source-region checks). TTL 30 s keeps failover within about two minutes.

Prerequisite outside this component: the managed zone exists (named by
`managed_zone`, or by the domain with dots as dashes, e.g. `example-com`), and
the organization policy `constraints/compute.disableInternetNetworkEndpointGroup`
is not enforced (Cloud DNS needs it off for public health-checked records).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.base import Tier, child_options
from hastack.config.regions import GCP_REGION_ZONES

TYPE_TOKEN = "hastack:gcp:FailoverDns"
PROBE_REGION_COUNT = 3
MIN_PROBE_INTERVAL = 30
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class DnsTarget:
    region: str
    # The region's public load-balancer IPv4 address.
    address: pulumi.Input[str]


def default_probe_regions(primary: str, secondary: str) -> list[str]:
    """Both serving regions plus the nearest-named third region on the same continent."""
    continent = primary.split("-")[0]
    others = sorted(r for r in GCP_REGION_ZONES if r not in (primary, secondary))
    same = [r for r in others if r.split("-")[0] == continent]
    return [primary, secondary, (same or others)[0]]


def checked_zone(args: FailoverDnsArgs, name: str, dns_name: str) -> str:
    """The zone's name if it serves `args.domain`; a clear error otherwise."""
    if dns_name != f"{args.domain}.":
        raise ValueError(f"FailoverDns: managed zone '{name}' serves '{dns_name}', "
                         f"not '{args.domain}.'; set dns.zoneId")
    return name


@dataclass(frozen=True)
class FailoverDnsArgs:
    name: str
    tier: Tier
    project: str
    domain: str
    hostname: str
    primary: DnsTarget
    secondary: DnsTarget | None = None
    managed_zone: str | None = None
    health_check_path: str = "/api/health"
    port: int = 443
    ttl: int = 30
    probe_regions: Sequence[str] = ()

    @property
    def fqdn(self) -> str:
        return f"{self.hostname}.{self.domain}."

    @property
    def zone_name(self) -> str:
        return self.managed_zone or self.domain.replace(".", "-")

    def probes(self) -> list[str]:
        if self.probe_regions:
            return list(self.probe_regions)
        assert self.secondary is not None
        return default_probe_regions(self.primary.region, self.secondary.region)

    def validate(self) -> None:
        if not _LABEL.match(self.hostname):
            raise ValueError(f"FailoverDns: hostname '{self.hostname}' must be one DNS label")
        if not self.health_check_path.startswith("/"):
            raise ValueError("FailoverDns: health_check_path must start with '/'")
        if not 5 <= self.ttl <= 300:
            raise ValueError("FailoverDns: ttl must be 5..300 seconds to fail over in time")
        for target in (self.primary, self.secondary):
            if target is not None and isinstance(target.address, str):
                try:
                    ipaddress.IPv4Address(target.address)
                except ValueError:
                    raise ValueError(f"FailoverDns: {target.region} address "
                                     f"'{target.address}' must be an IPv4 address (Cloud DNS "
                                     f"health-checks external endpoints by IP)") from None
        if self.secondary is None:
            return
        if self.secondary.region == self.primary.region:
            raise ValueError("FailoverDns: primary and secondary must be different regions")
        probes = self.probes()
        if len(probes) != PROBE_REGION_COUNT or len(set(probes)) != PROBE_REGION_COUNT:
            raise ValueError(f"FailoverDns: Cloud DNS health checks probe from exactly "
                             f"{PROBE_REGION_COUNT} distinct regions, got {probes}")


class FailoverDns(pulumi.ComponentResource):
    fqdn: str
    record: gcp.dns.RecordSet
    health_check: gcp.compute.HealthCheck | None

    def __init__(self, resource_name: str, args: FailoverDnsArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        args.validate()
        super().__init__(TYPE_TOKEN, resource_name, None, opts)
        self.fqdn = args.fqdn
        zone = self._zone(args)
        self.health_check = None
        if args.secondary is None:
            self.record = gcp.dns.RecordSet(
                f"{resource_name}-record",
                project=args.project, managed_zone=zone, name=args.fqdn, type="A",
                ttl=args.ttl, rrdatas=[args.primary.address],
                opts=child_options(self),
            )
        else:
            self.health_check = self._health_check(resource_name, args)
            self.record = self._failover_record(resource_name, args, zone, args.secondary)
        self.register_outputs({"fqdn": self.fqdn})

    def _zone(self, args: FailoverDnsArgs) -> pulumi.Output[str]:
        """The managed zone's name, checked to serve `domain` before any record is planned."""
        found = gcp.dns.get_managed_zone_output(
            name=args.zone_name, project=args.project,
            opts=pulumi.InvokeOutputOptions(parent=self))
        return found.apply(lambda zone: checked_zone(args, zone.name, zone.dns_name))

    def _health_check(self, resource_name: str, args: FailoverDnsArgs) -> gcp.compute.HealthCheck:
        return gcp.compute.HealthCheck(
            f"{resource_name}-health",
            name=f"{args.name}-dns-health",
            project=args.project,
            https_health_check=gcp.compute.HealthCheckHttpsHealthCheckArgs(
                port=args.port,
                request_path=args.health_check_path,
                host=args.fqdn.rstrip("."),
            ),
            source_regions=args.probes(),
            check_interval_sec=MIN_PROBE_INTERVAL,
            timeout_sec=10,
            healthy_threshold=2,
            unhealthy_threshold=3,
            opts=child_options(self),
        )

    def _failover_record(self, resource_name: str, args: FailoverDnsArgs,
                         zone: pulumi.Output[str], secondary: DnsTarget) -> gcp.dns.RecordSet:
        D = gcp.dns
        assert self.health_check is not None
        return D.RecordSet(
            f"{resource_name}-record",
            project=args.project,
            managed_zone=zone,
            name=args.fqdn,
            type="A",
            ttl=args.ttl,
            routing_policy=D.RecordSetRoutingPolicyArgs(
                health_check=self.health_check.id,
                primary_backup=D.RecordSetRoutingPolicyPrimaryBackupArgs(
                    primary=D.RecordSetRoutingPolicyPrimaryBackupPrimaryArgs(
                        external_endpoints=[args.primary.address]),
                    backup_geos=[D.RecordSetRoutingPolicyPrimaryBackupBackupGeoArgs(
                        location=secondary.region, rrdatas=[secondary.address])],
                    trickle_ratio=0,
                ),
            ),
            opts=child_options(self),
        )
