"""One region's public edge on GCP: a reserved address and a certificate, known at plan time.

Owned by the infrastructure layer. The load balancer itself (a regional external
Application Load Balancer) is created by GKE's Gateway controller from the
workloads layer's Gateway (components/k8s/exposure.py), which names what this
component reserves:

* a regional static external IPv4 address (the Gateway's `NamedAddress`), so Cloud
  DNS can point at, and health-check, an address that exists before any cluster
  object does and survives the Gateway being re-created;
* a Google-managed Certificate Manager certificate *in the region* (regional
  Gateways take regional certificates) for the shared name and the region's own
  name, authorised by DNS: one regional DNS authorization per name (the
  pulumi-gcp 10.2 regional example pairs a regional certificate with DNS
  authorizations of the same location; their default type there is
  PER_PROJECT_RECORD) and a CNAME per authorization in the Cloud DNS zone.

The CNAME of a PER_PROJECT_RECORD authorization is per project and domain, so the
shared name's record is expected to be the same for every region: one region
creates it (`shared_validation_record`), which refuses, at
`pulumi up`, authorizations whose records differ instead of leaving a certificate
that never issues.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from components.base import Tier, child_options, standard_labels

TYPE_TOKEN = "hastack:gcp:RegionalEdge"


@dataclass(frozen=True)
class GcpRegionalEdgeArgs:
    name: str          # platform name, e.g. "hastack-gcp-prod"
    tier: Tier
    project: str
    region: str
    domain: str
    hostname: str
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def shared_fqdn(self) -> str:
        return f"{self.hostname}.{self.domain}"

    @property
    def regional_fqdn(self) -> str:
        return f"{self.hostname}-{self.region}.{self.domain}"


def _field(record: object, key: str) -> str:
    """A DNS resource record's field (typed output object, or a plain dict in some engines)."""
    if isinstance(record, Mapping):
        return str(record.get(key, ""))
    return str(getattr(record, key, ""))


class GcpRegionalEdge(pulumi.ComponentResource):
    address: gcp.compute.Address
    address_name: pulumi.Output[str]
    ip_address: pulumi.Output[str]
    certificate_name: pulumi.Output[str]
    authorizations: dict[str, gcp.certificatemanager.DnsAuthorization]
    hostnames: list[str]
    region: str

    def __init__(self, resource_name: str, args: GcpRegionalEdgeArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, resource_name, None, opts)
        child = child_options(self)
        labels = standard_labels(args.tier, "RegionalEdge", args.labels)
        base = f"{args.name}-{args.region}"
        self.region = args.region
        self.hostnames = [args.shared_fqdn, args.regional_fqdn]
        self.address = gcp.compute.Address(
            f"{resource_name}-ip", name=f"{base}-edge", project=args.project,
            region=args.region, address_type="EXTERNAL", ip_version="IPV4",
            description=f"{args.shared_fqdn} in {args.region} (GKE Gateway NamedAddress)",
            labels=labels, opts=child)
        self.authorizations = {
            label: gcp.certificatemanager.DnsAuthorization(
                f"{resource_name}-auth-{label}", name=f"{base}-{label}", project=args.project,
                location=args.region, domain=domain, labels=labels, opts=child)
            for label, domain in (("shared", args.shared_fqdn),
                                  ("regional", args.regional_fqdn))}
        certificate = gcp.certificatemanager.Certificate(
            f"{resource_name}-cert", name=f"{base}-edge", project=args.project,
            location=args.region,
            description=f"{args.shared_fqdn}, {args.regional_fqdn}",
            managed=gcp.certificatemanager.CertificateManagedArgs(
                domains=self.hostnames,
                dns_authorizations=[a.id for a in self.authorizations.values()]),
            labels=labels, opts=child)
        self.address_name = self.address.name
        self.ip_address = self.address.address
        self.certificate_name = certificate.name
        self.register_outputs({"addressName": self.address_name, "ipAddress": self.ip_address,
                               "certificateName": self.certificate_name,
                               "hostnames": self.hostnames})

    def validation_record(self, resource_name: str, project: str,
                          managed_zone: pulumi.Input[str], label: str,
                          opts: pulumi.ResourceOptions) -> gcp.dns.RecordSet:
        """The CNAME that proves control of one of this certificate's names."""
        record = self.authorizations[label].dns_resource_records.apply(lambda r: r[0])
        return gcp.dns.RecordSet(
            resource_name, project=project, managed_zone=managed_zone,
            name=record.apply(lambda r: _field(r, "name")),
            type=record.apply(lambda r: _field(r, "type")),
            ttl=300, rrdatas=[record.apply(lambda r: _field(r, "data"))], opts=opts)


def shared_validation_record(resource_name: str, edges: Sequence[GcpRegionalEdge],
                             project: str, managed_zone: pulumi.Input[str],
                             opts: pulumi.ResourceOptions) -> gcp.dns.RecordSet:
    """One CNAME for the shared name, valid for every region's authorization of it."""
    records = [e.authorizations["shared"].dns_resource_records.apply(lambda r: r[0])
               for e in edges]

    def same(values: list[object]) -> object:
        keys = {(_field(v, "name"), _field(v, "data")) for v in values}
        if len(keys) != 1:
            raise ValueError("the regions' DNS authorizations for the shared name want "
                             f"different CNAMEs {sorted(map(str, keys))}; one record cannot "
                             "serve them all")
        return values[0]

    record = pulumi.Output.all(*records).apply(same)
    return gcp.dns.RecordSet(
        resource_name, project=project, managed_zone=managed_zone,
        name=record.apply(lambda r: _field(r, "name")),
        type=record.apply(lambda r: _field(r, "type")), ttl=300,
        rrdatas=[record.apply(lambda r: _field(r, "data"))], opts=opts)
