"""The platform's public names on Cloud DNS: failover onto the regions' reserved addresses.

Why Cloud DNS (and not Route 53) on GCP: the zone, the records, the health check
and the endpoints then share one control plane, one IAM model and one provider;
Cloud DNS routing policies health-check *external* endpoints from three Google
regions, which is what a two-region public load balancer pair needs.
(`GcpPlatform` refuses `dns.provider: route53` until the shared Route 53
component exists, rather than silently building a record nobody asked for.)

Records (type A, onto each region's reserved static IP, known at plan time):

* `<hostname>-<region>.<domain>` per region: the region's own name (its
  certificate carries it; operators reach one region directly).
* `<hostname>.<domain>`: one region, a plain record; two regions, a
  `primary_backup` policy. Cloud DNS answers with the active region's address while
  its health check passes, and with the backup's once every primary target is
  unhealthy. The active region follows `active_region`, so a failover is an
  in-place update of this one record set. `trickle_ratio=0`: no traffic reaches
  the standby while the active region is healthy. A hot standby's address is a
  health-checked backup target; a warm standby's (`evaluate_health=False`, pods at
  zero, nothing to answer the probe) is a plain backup rrdata, so DNS already points
  there while it warms up (the same decision as components/aws/dns.py).
* The health check is a global HTTPS check against the health path with the
  shared name as Host header (the HTTPRoute serves both names), probing from
  exactly three source regions, every 30 s (the minimum for source-region checks;
  facts.md 6.8). TTL 30 s keeps failover within about two minutes.

The zone (`managed_zone`): created by the stack (`dns.createZone`), named
(`dns.zoneId`), or looked up by the domain-with-dashes convention at preview, where
a zone that is missing or serves another domain is one clear error
(`cloud_dns_zone`). Outside this component: the organization policy
`constraints/compute.disableInternetNetworkEndpointGroup` must not be enforced
(Cloud DNS needs it off for public health-checked records).
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
    # The region's reserved external IPv4 address.
    address: pulumi.Input[str]
    # Route on this region's health: True for the active region and a hot standby.
    evaluate_health: bool = True


def default_probe_regions(primary: str, secondary: str) -> list[str]:
    """Both serving regions plus the nearest-named third region on the same continent."""
    continent = primary.split("-")[0]
    others = sorted(r for r in GCP_REGION_ZONES if r not in (primary, secondary))
    same = [r for r in others if r.split("-")[0] == continent]
    return [primary, secondary, (same or others)[0]]


def checked_zone(domain: str, name: str, dns_name: str, settings_key: str = "dns") -> str:
    """The zone's name if it serves `domain`; a clear error otherwise."""
    if dns_name != f"{domain}.":
        raise ValueError(f"{settings_key}: managed zone '{name}' serves '{dns_name}', "
                         f"not '{domain}.'; set dns.zoneId to the zone that serves it")
    return name


@dataclass(frozen=True)
class CloudDnsZone:
    name: pulumi.Output[str]
    name_servers: pulumi.Output[Sequence[str]] | None = None


def cloud_dns_zone(resource_name: str, *, project: str, domain: str, zone_name: str | None,
                   create: bool, protect: bool, settings_key: str,
                   opts: pulumi.ResourceOptions) -> CloudDnsZone:
    """The managed zone to put the records in: created, named, or looked up (checked)."""
    if create:
        zone = gcp.dns.ManagedZone(
            resource_name, name=domain.replace(".", "-"), project=project,
            dns_name=f"{domain}.", visibility="public",
            description=f"hastack: {domain}", force_destroy=False,
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
                protect=protect, retain_on_delete=protect)))
        return CloudDnsZone(zone.name, zone.name_servers)
    name = zone_name or domain.replace(".", "-")
    try:
        found = gcp.dns.get_managed_zone(name=name, project=project,
                                         opts=pulumi.InvokeOptions(parent=opts.parent,
                                                                   provider=opts.provider))
    except Exception as error:  # the provider's 404 for a zone that does not exist
        raise ValueError(
            f"{settings_key}: no Cloud DNS managed zone '{name}' in project {project} "
            f"({error}); set dns.zoneId to the zone's name, or dns.createZone: true to "
            "create it in this stack") from None
    return CloudDnsZone(pulumi.Output.from_input(
        checked_zone(domain, found.name, found.dns_name, settings_key)))


@dataclass(frozen=True)
class FailoverDnsArgs:
    name: str
    tier: Tier
    project: str
    domain: str
    hostname: str
    managed_zone: pulumi.Input[str]
    targets: Sequence[DnsTarget]
    # The region that serves; None: the first target's.
    active_region: str | None = None
    health_check_path: str = "/api/health"
    port: int = 443
    ttl: int = 30
    probe_regions: Sequence[str] = ()

    @property
    def fqdn(self) -> str:
        return f"{self.hostname}.{self.domain}."

    def regional_fqdn(self, region: str) -> str:
        return f"{self.hostname}-{region}.{self.domain}."

    @property
    def active(self) -> str:
        return self.active_region or self.targets[0].region

    def standby(self) -> DnsTarget | None:
        return next((t for t in self.targets if t.region != self.active), None)

    def probes(self) -> list[str]:
        if self.probe_regions:
            return list(self.probe_regions)
        standby = self.standby()
        assert standby is not None
        return default_probe_regions(self.active, standby.region)

    def validate(self) -> None:
        if not _LABEL.match(self.hostname):
            raise ValueError(f"FailoverDns: hostname '{self.hostname}' must be one DNS label")
        if not self.health_check_path.startswith("/"):
            raise ValueError("FailoverDns: health_check_path must start with '/'")
        if not 5 <= self.ttl <= 300:
            raise ValueError("FailoverDns: ttl must be 5..300 seconds to fail over in time")
        regions = [t.region for t in self.targets]
        if not 1 <= len(regions) <= 2 or len(set(regions)) != len(regions):
            raise ValueError(f"FailoverDns: one or two distinct regions, got {regions}")
        if self.active not in regions:
            raise ValueError(f"FailoverDns: active_region '{self.active}' is not one of "
                             f"{regions}")
        for target in self.targets:
            if isinstance(target.address, str):
                try:
                    ipaddress.IPv4Address(target.address)
                except ValueError:
                    raise ValueError(f"FailoverDns: {target.region} address "
                                     f"'{target.address}' must be an IPv4 address (Cloud DNS "
                                     f"health-checks external endpoints by IP)") from None
        if len(regions) == 1:
            return
        probes = self.probes()
        if len(probes) != PROBE_REGION_COUNT or len(set(probes)) != PROBE_REGION_COUNT:
            raise ValueError(f"FailoverDns: Cloud DNS health checks probe from exactly "
                             f"{PROBE_REGION_COUNT} distinct regions, got {probes}")


class FailoverDns(pulumi.ComponentResource):
    fqdn: str
    record: gcp.dns.RecordSet
    regional_records: dict[str, gcp.dns.RecordSet]
    health_check: gcp.compute.HealthCheck | None

    def __init__(self, resource_name: str, args: FailoverDnsArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        args.validate()
        super().__init__(TYPE_TOKEN, resource_name, None, opts)
        self.fqdn = args.fqdn
        zone = args.managed_zone
        self.regional_records = {
            t.region: gcp.dns.RecordSet(
                f"{resource_name}-{t.region}-regional", project=args.project,
                managed_zone=zone, name=args.regional_fqdn(t.region), type="A",
                ttl=args.ttl, rrdatas=[t.address], opts=child_options(self))
            for t in args.targets}
        self.health_check = None
        standby = args.standby()
        active = next(t for t in args.targets if t.region == args.active)
        if standby is None:
            self.record = gcp.dns.RecordSet(
                f"{resource_name}-record",
                project=args.project, managed_zone=zone, name=args.fqdn, type="A",
                ttl=args.ttl, rrdatas=[active.address],
                opts=child_options(self),
            )
        else:
            self.health_check = self._health_check(resource_name, args)
            self.record = self._failover_record(resource_name, args, zone, active, standby)
        self.register_outputs({"fqdn": self.fqdn, "activeRegion": args.active})

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
                         zone: pulumi.Input[str], active: DnsTarget,
                         standby: DnsTarget) -> gcp.dns.RecordSet:
        D = gcp.dns
        assert self.health_check is not None
        backup = (D.RecordSetRoutingPolicyPrimaryBackupBackupGeoArgs(
            location=standby.region,
            health_checked_targets=D.RecordSetRoutingPolicyPrimaryBackupBackupGeoHealthCheckedTargetsArgs(
                external_endpoints=[standby.address]))
            if standby.evaluate_health else
            D.RecordSetRoutingPolicyPrimaryBackupBackupGeoArgs(
                location=standby.region, rrdatas=[standby.address]))
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
                        external_endpoints=[active.address]),
                    backup_geos=[backup],
                    trickle_ratio=0,
                ),
            ),
            opts=child_options(self),
        )
