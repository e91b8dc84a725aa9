"""GcpNetwork: one global VPC, per-region subnets with GKE ranges, NAT, private service access."""

from __future__ import annotations

import ipaddress

import pytest

from components.gcp.network import GcpNetworkArgs, RegionNetwork, carve_region
from tests.gcp.conftest import PRIMARY, SECONDARY, of_type, only, provider_region


def test_carved_ranges_are_disjoint_and_inside_the_region_cidr() -> None:
    for cidr in ("10.10.0.0/16", "10.20.0.0/20", "172.16.0.0/18"):
        layout = carve_region(cidr)
        ranges = [ipaddress.ip_network(r) for r in (
            layout.nodes, layout.pods, layout.services,
            layout.private_service_access, layout.control_plane)]
        parent = ipaddress.ip_network(cidr)
        assert all(r.subnet_of(parent) for r in ranges)
        for index, first in enumerate(ranges):
            assert not any(first.overlaps(second) for second in ranges[index + 1:])
        assert ipaddress.ip_network(layout.control_plane).prefixlen == 28


@pytest.mark.parametrize(("cidr", "message"), [
    ("8.8.0.0/16", "private IPv4"),
    ("10.10.0.0/24", "/16../20"),
])
def test_unusable_cidrs_are_refused(cidr: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        carve_region(cidr)


def test_overlapping_region_cidrs_are_refused() -> None:
    args = GcpNetworkArgs(name="x", tier="prod", project="p", regions=[
        RegionNetwork(PRIMARY, "10.10.0.0/16"), RegionNetwork(SECONDARY, "10.10.0.0/17")])
    with pytest.raises(ValueError, match="overlap"):
        args.validate()


def test_one_custom_mode_vpc_with_a_subnet_per_region(plans) -> None:
    plan = plans("prod")
    vpc = only(plan, "gcp:compute/network:Network")
    assert vpc.inputs["autoCreateSubnetworks"] is False
    subnets = of_type(plan, "gcp:compute/subnetwork:Subnetwork",
                      lambda s: s.inputs.get("purpose") is None)
    assert sorted(s.inputs["region"] for s in subnets) == sorted([PRIMARY, SECONDARY])
    for subnet in subnets:
        region = subnet.inputs["region"]
        assert provider_region(plan, subnet) == region
        assert subnet.inputs["privateIpGoogleAccess"] is True
        assert subnet.inputs["logConfig"]["metadata"] == "INCLUDE_ALL_METADATA"
        assert subnet.inputs["logConfig"]["flowSampling"] == 0.5
        names = {r["rangeName"] for r in subnet.inputs["secondaryIpRanges"]}
        assert names == {"pods", "services"}
    cidrs = {s.inputs["region"]: s.inputs["ipCidrRange"] for s in subnets}
    assert ipaddress.ip_network(cidrs[PRIMARY]).subnet_of(ipaddress.ip_network("10.10.0.0/16"))
    assert ipaddress.ip_network(cidrs[SECONDARY]).subnet_of(ipaddress.ip_network("10.20.0.0/16"))


def test_cloud_nat_per_region_for_the_platform_subnet_only(plans) -> None:
    plan = plans("prod")
    nats = of_type(plan, "gcp:compute/routerNat:RouterNat")
    routers = of_type(plan, "gcp:compute/router:Router")
    assert sorted(n.inputs["region"] for n in nats) == sorted([PRIMARY, SECONDARY])
    assert len(routers) == 2
    for nat in nats:
        assert provider_region(plan, nat) == nat.inputs["region"]
        assert nat.inputs["sourceSubnetworkIpRangesToNat"] == "LIST_OF_SUBNETWORKS"
        assert nat.inputs["subnetworks"][0]["sourceIpRangesToNats"] == ["ALL_IP_RANGES"]
        assert nat.inputs["subnetworks"][0]["name"].endswith(f"/regions/{nat.inputs['region']}"
                                                             f"/subnetworks/hastack-{nat.inputs['region']}")
        assert nat.inputs["logConfig"]["enable"] is True


def test_private_service_access_for_cloud_sql_and_memorystore(plans) -> None:
    plan = plans("prod")
    address = only(plan, "gcp:compute/globalAddress:GlobalAddress")
    assert address.inputs["purpose"] == "VPC_PEERING"
    assert address.inputs["addressType"] == "INTERNAL"
    psa = ipaddress.ip_network(f"{address.inputs['address']}/{address.inputs['prefixLength']}")
    assert str(psa) == carve_region("10.10.0.0/16").private_service_access
    connection = only(plan, "gcp:servicenetworking/connection:Connection")
    assert connection.inputs["service"] == "servicenetworking.googleapis.com"
    assert connection.inputs["reservedPeeringRanges"] == [address.inputs["name"]]


def test_dev_samples_fewer_flows_and_has_one_region(plans) -> None:
    plan = plans("dev")
    subnet = only(plan, "gcp:compute/subnetwork:Subnetwork", "-subnet")
    assert subnet.inputs["region"] == PRIMARY
    assert subnet.inputs["logConfig"]["flowSampling"] == 0.1


def test_each_region_has_a_proxy_only_subnet_for_the_regional_load_balancer(plans) -> None:
    plan = plans("prod")
    proxies = of_type(plan, "gcp:compute/subnetwork:Subnetwork",
                      lambda s: s.inputs.get("purpose") == "REGIONAL_MANAGED_PROXY")
    assert sorted(p.inputs["region"] for p in proxies) == sorted([PRIMARY, SECONDARY])
    ranges = [ipaddress.ip_network(r.inputs["ipCidrRange"])
              for r in of_type(plan, "gcp:compute/subnetwork:Subnetwork")]
    for proxy in proxies:
        assert proxy.inputs["role"] == "ACTIVE"
        own = ipaddress.ip_network(proxy.inputs["ipCidrRange"])
        assert own.prefixlen == 23  # Google's recommended size, from a /16
        assert [r for r in ranges if r != own and r.overlaps(own)] == []


@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "10.0.0.0/18", "10.0.0.0/20"])
def test_proxy_only_range_overlaps_no_other_range(cidr: str) -> None:
    layout = carve_region(cidr)
    proxy = ipaddress.ip_network(layout.proxy_only)
    others = [layout.nodes, layout.pods, layout.services, layout.private_service_access,
              layout.control_plane]
    assert proxy.subnet_of(ipaddress.ip_network(cidr))
    assert proxy.prefixlen <= 24
    assert not any(proxy.overlaps(ipaddress.ip_network(o)) for o in others)
