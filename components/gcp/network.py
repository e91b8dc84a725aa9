"""One global custom-mode VPC with a subnet, Cloud Router and Cloud NAT per region.

Layout (why it looks like this):

* A GCP VPC is global and subnets are regional, so a two-region platform is *one*
  network: the regions reach each other over Google's backbone without peering,
  and Cloud SQL's cross-region replica and the global private-service-access range
  need exactly that.
* Each region's CIDR (/16../20) is carved positionally by `carve_region`: the first
  half is the pods secondary range (GKE gives every pod a VPC address), then
  quarters of the second half for nodes, services, private service access and the
  GKE control plane's /28. Same input, same ranges: changing another setting never
  moves a range.
* Subnets have Private Google Access (private nodes reach Google APIs without
  NAT) and flow logs (`log_config`). Flow logs go to Cloud Logging, whose bucket
  retention applies; this component does not own the project's log buckets.
* Cloud NAT is a regional, Google-managed service, not a per-zone gateway, so the
  AWS "per-zone vs single NAT" choice does not exist here: one NAT per region is
  already zone-redundant.
* Private service access (an allocated VPC_PEERING range + the service networking
  connection) is what gives Cloud SQL and Memorystore private IPs in this VPC.
  It is global; the range is carved from the first region's CIDR.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from components.base import Tier, child_options

TYPE_TOKEN = "hastack:gcp:Network"
PODS_RANGE = "pods"
SERVICES_RANGE = "services"


@dataclass(frozen=True)
class RegionLayout:
    """The address ranges of one region, carved from its CIDR."""

    nodes: str
    pods: str
    services: str
    private_service_access: str
    control_plane: str
    # The regional external Application Load Balancer's Envoy proxies (GKE Gateway).
    proxy_only: str


def carve_region(cidr: str) -> RegionLayout:
    """Split a private /16../20 into pod, node, service, PSA and control-plane ranges."""
    network = ipaddress.ip_network(cidr, strict=True)
    if network.version != 4 or not network.is_private:
        raise ValueError(f"GcpNetwork: '{cidr}' must be a private IPv4 CIDR")
    if not 16 <= network.prefixlen <= 20:
        raise ValueError(f"GcpNetwork: '{cidr}' must be a /16../20 to fit every range")
    pods, rest = network.subnets(prefixlen_diff=1)
    nodes, services, psa, spare = rest.subnets(prefixlen_diff=2)
    control_plane = next(spare.subnets(new_prefix=28))
    # The last /23 (Google's recommended size; a /24 in a /20) of the spare quarter,
    # far from the control plane's /28 at its start.
    proxy_only = list(spare.subnets(new_prefix=max(spare.prefixlen + 1, 23)))[-1]
    return RegionLayout(str(nodes), str(pods), str(services), str(psa), str(control_plane),
                        str(proxy_only))


@dataclass(frozen=True)
class RegionNetwork:
    region: str
    cidr: str


@dataclass(frozen=True)
class GcpNetworkArgs:
    name: str
    tier: Tier
    project: str
    # First entry is the primary region; its CIDR also hosts the PSA range.
    regions: Sequence[RegionNetwork]
    # Share of flows sampled into flow logs; prod samples more for forensics.
    flow_sampling: float | None = None
    labels: Mapping[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        if not self.regions:
            raise ValueError("GcpNetwork: at least one region is required")
        names = [r.region for r in self.regions]
        if len(set(names)) != len(names):
            raise ValueError(f"GcpNetwork: regions must be distinct, got {names}")
        for entry in self.regions:
            carve_region(entry.cidr)  # raises a clear error for an unusable CIDR
        networks = [ipaddress.ip_network(r.cidr) for r in self.regions]
        for index, first in enumerate(networks):
            for second in networks[index + 1:]:
                if first.overlaps(second):
                    raise ValueError(f"GcpNetwork: CIDRs {first} and {second} overlap")
        sampling = self.sampling()
        if not 0 < sampling <= 1:
            raise ValueError("GcpNetwork: flow_sampling must be in (0, 1]")

    def sampling(self) -> float:
        if self.flow_sampling is not None:
            return self.flow_sampling
        return 0.5 if self.tier == "prod" else 0.1


class GcpNetwork(pulumi.ComponentResource):
    """VPC, regional subnets with GKE secondary ranges, NAT, private service access."""

    network: gcp.compute.Network
    subnets: dict[str, gcp.compute.Subnetwork]
    layouts: dict[str, RegionLayout]
    private_service_access: gcp.servicenetworking.Connection

    def __init__(self, resource_name: str, args: GcpNetworkArgs,
                 providers: Mapping[str, pulumi.ProviderResource] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        args.validate()
        super().__init__(TYPE_TOKEN, resource_name, None, opts)
        providers = providers or {}
        primary = args.regions[0].region
        global_provider = providers.get(primary)
        self.layouts = {r.region: carve_region(r.cidr) for r in args.regions}
        self.network = gcp.compute.Network(
            f"{resource_name}-vpc",
            name=f"{args.name}-vpc",
            project=args.project,
            auto_create_subnetworks=False,
            # Global dynamic routing: routes learned by one region's Cloud Router
            # (VPN/Interconnect) reach the other region too, which failover needs.
            routing_mode="GLOBAL",
            opts=child_options(self, global_provider),
        )
        self.subnets = {}
        self.proxy_subnets: dict[str, gcp.compute.Subnetwork] = {}
        for entry in args.regions:
            provider = providers.get(entry.region)
            subnet = self._subnet(resource_name, args, entry.region, provider)
            self._nat(resource_name, args, entry.region, subnet, provider)
            self.subnets[entry.region] = subnet
            self.proxy_subnets[entry.region] = self._proxy_subnet(
                resource_name, args, entry.region, provider)
        self.private_service_access = self._private_service_access(
            resource_name, args, self.layouts[primary], global_provider)
        self.register_outputs({
            "networkId": self.network.id,
            "subnets": {region: subnet.id for region, subnet in self.subnets.items()},
        })

    def _proxy_subnet(self, resource_name: str, args: GcpNetworkArgs, region: str,
                      provider: pulumi.ProviderResource | None) -> gcp.compute.Subnetwork:
        """Where a region's managed Envoy proxies (regional external ALB) take addresses."""
        return gcp.compute.Subnetwork(
            f"{resource_name}-{region}-proxy-only",
            name=f"{args.name}-{region}-proxy-only",
            project=args.project, region=region, network=self.network.id,
            ip_cidr_range=self.layouts[region].proxy_only,
            purpose="REGIONAL_MANAGED_PROXY", role="ACTIVE",
            opts=child_options(self, provider))

    def _subnet(self, resource_name: str, args: GcpNetworkArgs, region: str,
                provider: pulumi.ProviderResource | None) -> gcp.compute.Subnetwork:
        layout = self.layouts[region]
        return gcp.compute.Subnetwork(
            f"{resource_name}-{region}-subnet",
            name=f"{args.name}-{region}",
            project=args.project,
            region=region,
            network=self.network.id,
            ip_cidr_range=layout.nodes,
            secondary_ip_ranges=[
                gcp.compute.SubnetworkSecondaryIpRangeArgs(
                    range_name=PODS_RANGE, ip_cidr_range=layout.pods),
                gcp.compute.SubnetworkSecondaryIpRangeArgs(
                    range_name=SERVICES_RANGE, ip_cidr_range=layout.services),
            ],
            private_ip_google_access=True,
            log_config=gcp.compute.SubnetworkLogConfigArgs(
                aggregation_interval="INTERVAL_5_SEC",
                flow_sampling=args.sampling(),
                metadata="INCLUDE_ALL_METADATA",
            ),
            opts=child_options(self, provider),
        )

    def _nat(self, resource_name: str, args: GcpNetworkArgs, region: str,
             subnet: gcp.compute.Subnetwork, provider: pulumi.ProviderResource | None) -> None:
        router = gcp.compute.Router(
            f"{resource_name}-{region}-router",
            name=f"{args.name}-{region}-router",
            project=args.project,
            region=region,
            network=self.network.id,
            opts=child_options(self, provider),
        )
        gcp.compute.RouterNat(
            f"{resource_name}-{region}-nat",
            name=f"{args.name}-{region}-nat",
            project=args.project,
            region=region,
            router=router.name,
            nat_ip_allocate_option="AUTO_ONLY",
            # Only the platform's subnet (all its ranges: nodes and pods) gets egress.
            source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
            subnetworks=[gcp.compute.RouterNatSubnetworkArgs(
                name=subnet.id, source_ip_ranges_to_nats=["ALL_IP_RANGES"])],
            # Dynamic port allocation needs endpoint-independent mapping off; it
            # keeps busy nodes (image pulls, model downloads) from running out of ports.
            enable_dynamic_port_allocation=True,
            enable_endpoint_independent_mapping=False,
            min_ports_per_vm=64,
            max_ports_per_vm=4096,
            log_config=gcp.compute.RouterNatLogConfigArgs(enable=True, filter="ERRORS_ONLY"),
            opts=child_options(self, provider),
        )

    def _private_service_access(self, resource_name: str, args: GcpNetworkArgs,
                                layout: RegionLayout,
                                provider: pulumi.ProviderResource | None
                                ) -> gcp.servicenetworking.Connection:
        psa = ipaddress.ip_network(layout.private_service_access)
        address = gcp.compute.GlobalAddress(
            f"{resource_name}-psa-range",
            name=f"{args.name}-psa",
            project=args.project,
            purpose="VPC_PEERING",
            address_type="INTERNAL",
            address=str(psa.network_address),
            prefix_length=psa.prefixlen,
            network=self.network.id,
            opts=child_options(self, provider),
        )
        return gcp.servicenetworking.Connection(
            f"{resource_name}-psa",
            network=self.network.id,
            service="servicenetworking.googleapis.com",
            reserved_peering_ranges=[address.name],
            opts=child_options(self, provider),
        )
