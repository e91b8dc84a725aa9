"""The AWS network component under the recording mock engine."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.aws.network import (
    ELB_TAG,
    INTERNAL_ELB_TAG,
    Network,
    NetworkArgs,
    carve_subnets,
)
from components.base import Tier
from hastack.config.loader import load_settings
from hastack.config.regions import AWS_REGION_AZ_IDS
from hastack.plan.recorder import Registration
from hastack.plan.runner import Recording, run_program

SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"
EIP = "aws:ec2/eip:Eip"
ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"


def _plan(tier: Tier = "prod", region: str = "us-east-1", **overrides: Any) -> Recording:
    ids = ZONE_IDS.get(region, ())
    fields: dict[str, Any] = {"zone_ids": ids[:3], "nat_gateways": "per-zone"}
    if tier == "dev":
        fields = {"zone_ids": ids[:2], "nat_gateways": "single"}
    fields.update(overrides)

    def program() -> None:
        provider = aws.Provider("regional", region=region)
        network = Network("net", NetworkArgs(name="hastack", region=region, tier=tier,
                                             cidr="10.10.0.0/16", **fields), provider=provider)
        pulumi.export("vpc_id", network.vpc_id)
        pulumi.export("azs", network.azs)
        pulumi.export("cidr", network.cidr)
        pulumi.export("private_subnet_ids", network.private_subnet_ids)
        pulumi.export("public_subnet_ids", network.public_subnet_ids)
        pulumi.export("database_subnet_ids", network.database_subnet_ids)

    return run_program(program, project="hastack", stack="test", config={})


_of = Recording.of_type
ZONE_IDS = AWS_REGION_AZ_IDS


def _one(recording: Recording, type_token: str) -> Registration:
    found = _of(recording, type_token)
    assert len(found) == 1, f"expected one {type_token}, got {len(found)}"
    return found[0]


def _subnets(recording: Recording, tier: str) -> list[Registration]:
    return _of(recording, SUBNET, lambda r: r.inputs["tags"]["hastack:subnet-tier"] == tier)


def _zone_of_subnet(recording: Recording) -> dict[str, str]:
    return {r.id: r.inputs["availabilityZoneId"] for r in _of(recording, SUBNET) if r.id}


def _table_subnets(recording: Recording) -> dict[str, set[str]]:
    tables: dict[str, set[str]] = {}
    for association in _of(recording, ASSOCIATION):
        tables.setdefault(association.inputs["routeTableId"], set()).add(
            association.inputs["subnetId"])
    return tables


@pytest.fixture(scope="module")
def prod() -> Recording:
    return _plan("prod")


@pytest.fixture(scope="module")
def dev() -> Recording:
    return _plan("dev")


def test_prod_has_three_subnets_of_each_kind_one_per_zone(prod: Recording) -> None:
    zones = ["use1-az1", "use1-az2", "use1-az4"]
    # The zone names are what the subnets report for the pinned IDs, never a lookup.
    assert prod.outputs["azs"] == ["us-east-1a", "us-east-1b", "us-east-1d"]
    for kind in ("public", "private", "database"):
        subnets = _subnets(prod, kind)
        assert sorted(s.inputs["availabilityZoneId"] for s in subnets) == zones, kind
        assert all("availabilityZone" not in s.inputs for s in subnets), kind
    assert len(prod.outputs["private_subnet_ids"]) == 3
    assert prod.outputs["cidr"] == "10.10.0.0/16"


def test_prod_has_a_nat_gateway_with_its_own_eip_in_each_zone(prod: Recording) -> None:
    nats = _of(prod, NAT)
    assert len(nats) == 3
    assert len(_of(prod, EIP)) == 3
    zone_of = _zone_of_subnet(prod)
    public_ids = {s.id for s in _subnets(prod, "public")}
    assert all(nat.inputs["subnetId"] in public_ids for nat in nats)
    assert sorted(zone_of[nat.inputs["subnetId"]] for nat in nats) == [
        "use1-az1", "use1-az2", "use1-az4"]
    assert len({nat.inputs["allocationId"] for nat in nats}) == 3


def test_each_private_route_table_egresses_through_its_own_zones_nat(prod: Recording) -> None:
    zone_of = _zone_of_subnet(prod)
    nat_zone = {nat.id: zone_of[nat.inputs["subnetId"]] for nat in _of(prod, NAT)}
    table_subnets = _table_subnets(prod)
    private_ids = {s.id for s in _subnets(prod, "private")}
    nat_routes = _of(prod, ROUTE, lambda r: "natGatewayId" in r.inputs)
    assert len(nat_routes) == 3
    covered = set()
    for route in nat_routes:
        assert route.inputs["destinationCidrBlock"] == "0.0.0.0/0"
        subnets = table_subnets[route.inputs["routeTableId"]]
        assert len(subnets) == 1 and subnets <= private_ids
        (subnet,) = subnets
        assert zone_of[subnet] == nat_zone[route.inputs["natGatewayId"]]
        covered |= subnets
    assert covered == private_ids


def test_dev_single_nat_serves_every_zone(dev: Recording) -> None:
    assert len(_of(dev, NAT)) == 1
    assert len(_of(dev, EIP)) == 1
    (nat,) = _of(dev, NAT)
    nat_routes = _of(dev, ROUTE, lambda r: "natGatewayId" in r.inputs)
    # One private route table per zone still, all pointing at the one NAT.
    assert len(nat_routes) == 2
    assert {route.inputs["natGatewayId"] for route in nat_routes} == {nat.id}
    assert len({route.inputs["routeTableId"] for route in nat_routes}) == 2


def test_public_subnets_route_to_the_internet_gateway_and_databases_nowhere(
        prod: Recording) -> None:
    igw = _one(prod, "aws:ec2/internetGateway:InternetGateway")
    table_subnets = _table_subnets(prod)
    igw_routes = _of(prod, ROUTE, lambda r: "gatewayId" in r.inputs)
    assert [r.inputs["gatewayId"] for r in igw_routes] == [igw.id]
    public_ids = {s.id for s in _subnets(prod, "public")}
    assert table_subnets[igw_routes[0].inputs["routeTableId"]] == public_ids
    database_ids = {s.id for s in _subnets(prod, "database")}
    database_tables = [t for t, subnets in table_subnets.items() if subnets & database_ids]
    assert len(database_tables) == 1
    assert table_subnets[database_tables[0]] == database_ids
    routed_tables = {r.inputs["routeTableId"] for r in _of(prod, ROUTE)}
    assert database_tables[0] not in routed_tables


def test_subnet_cidrs_are_inside_the_vpc_and_disjoint(prod: Recording) -> None:
    vpc = ipaddress.ip_network("10.10.0.0/16")
    cidrs = [ipaddress.ip_network(s.inputs["cidrBlock"]) for s in _of(prod, SUBNET)]
    assert len(cidrs) == 9
    assert all(cidr.subnet_of(vpc) for cidr in cidrs)
    for index, cidr in enumerate(cidrs):
        assert not any(cidr.overlaps(other) for other in cidrs[index + 1:])
    assert all(not s.inputs["mapPublicIpOnLaunch"] for s in _of(prod, SUBNET))


def test_carving_is_deterministic_and_stable_when_zones_are_added() -> None:
    three = carve_subnets("10.10.0.0/16", 3)
    six = carve_subnets("10.10.0.0/16", 6)
    assert six[:3] == three
    assert three[0].private == "10.10.0.0/19"
    assert three[0].public == "10.10.192.0/22"
    assert three[0].database == "10.10.224.0/22"
    assert carve_subnets("10.10.0.0/20", 2)[1].private == "10.10.2.0/23"


def test_load_balancer_discovery_tags(prod: Recording) -> None:
    for subnet in _subnets(prod, "public"):
        assert subnet.inputs["tags"][ELB_TAG] == "1"
        assert INTERNAL_ELB_TAG not in subnet.inputs["tags"]
    for subnet in _subnets(prod, "private"):
        assert subnet.inputs["tags"][INTERNAL_ELB_TAG] == "1"
        assert ELB_TAG not in subnet.inputs["tags"]
    for subnet in _subnets(prod, "database"):
        assert not {ELB_TAG, INTERNAL_ELB_TAG} & set(subnet.inputs["tags"])


def test_flow_logs_go_to_an_encrypted_log_group_with_retention(prod: Recording) -> None:
    flow_log = _one(prod, "aws:ec2/flowLog:FlowLog")
    log_group = _one(prod, "aws:cloudwatch/logGroup:LogGroup")
    key = _one(prod, "aws:kms/key:Key")
    role = _one(prod, "aws:iam/role:Role")
    vpc = _one(prod, "aws:ec2/vpc:Vpc")
    assert flow_log.inputs["vpcId"] == vpc.id
    assert flow_log.inputs["trafficType"] == "ALL"
    assert flow_log.inputs["logDestinationType"] == "cloud-watch-logs"
    assert flow_log.inputs["logDestination"] == log_group.outputs["arn"]
    assert flow_log.inputs["iamRoleArn"] == role.outputs["arn"]
    assert log_group.inputs["retentionInDays"] == 365
    assert log_group.inputs["kmsKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    policy = json.loads(key.inputs["policy"])
    logs_statement = next(s for s in policy["Statement"]
                          if s["Principal"].get("Service") == "logs.us-east-1.amazonaws.com")
    assert logs_statement["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"] == (
        log_group.outputs["arn"])
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    delivery = json.loads(_one(prod, "aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert log_group.outputs["arn"] in delivery["Statement"][0]["Resource"]


def test_flow_log_retention_follows_the_args() -> None:
    recording = _plan("staging", flow_log_retention_days=90)
    assert _one(recording, "aws:cloudwatch/logGroup:LogGroup").inputs["retentionInDays"] == 90


def test_s3_gateway_endpoint_serves_every_private_route_table(prod: Recording) -> None:
    endpoint = _one(prod, "aws:ec2/vpcEndpoint:VpcEndpoint")
    assert endpoint.inputs["vpcEndpointType"] == "Gateway"
    assert endpoint.inputs["serviceName"] == "com.amazonaws.us-east-1.s3"
    private_ids = {s.id for s in _subnets(prod, "private")}
    private_tables = {t for t, subnets in _table_subnets(prod).items() if subnets <= private_ids}
    assert len(private_tables) == 3
    assert set(endpoint.inputs["routeTableIds"]) == private_tables


def test_default_security_group_has_no_rules(prod: Recording) -> None:
    group = _one(prod, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert group.inputs.get("ingress", []) == []
    assert group.inputs.get("egress", []) == []


def test_vpc_resolves_dns_for_private_endpoints(prod: Recording) -> None:
    vpc = _one(prod, "aws:ec2/vpc:Vpc")
    assert vpc.inputs["cidrBlock"] == "10.10.0.0/16"
    assert vpc.inputs["enableDnsSupport"] is True
    assert vpc.inputs["enableDnsHostnames"] is True
    assert prod.outputs["vpc_id"] == vpc.id


def test_every_resource_uses_the_regions_provider_and_the_component_parent(
        prod: Recording) -> None:
    component = _one(prod, "hastack:aws:Network")
    provider = _one(prod, "pulumi:providers:aws")
    children = [r for r in prod.registrations if r.type.startswith("aws:")]
    assert len(children) > 30
    assert all(r.provider == provider.urn for r in children)
    assert all(r.parent == component.urn for r in children)


def test_prod_protects_the_flow_log_key_and_group_and_dev_does_not(
        prod: Recording, dev: Recording) -> None:
    for recording, expected in ((prod, True), (dev, False)):
        for token in ("aws:kms/key:Key", "aws:cloudwatch/logGroup:LogGroup"):
            found = _one(recording, token)
            assert found.protect is expected and found.retain_on_delete is expected, token


def test_a_zone_pinned_twice_is_an_error() -> None:
    with pytest.raises(ValueError, match="distinct"):
        _plan("staging", zone_ids=("use1-az1", "use1-az1", "use1-az2"))


def test_prod_refuses_a_single_nat_gateway() -> None:
    with pytest.raises(ValueError, match="per zone"):
        _plan("prod", nat_gateways="single")


@pytest.mark.parametrize("cidr", ["8.8.0.0/16", "10.10.0.0/24", "10.10.0.1/16", "fd00::/48"])
def test_unusable_vpc_cidrs_are_errors(cidr: str) -> None:
    args = NetworkArgs(name="hastack", region="us-east-1", tier="dev", cidr=cidr,
                       zone_ids=("use1-az1", "use1-az2"))
    with pytest.raises(ValueError, match="CIDR"):
        args.validate()


def test_from_config_gives_the_secondary_region_the_secondary_cidr() -> None:
    config = load_settings({
        "cloud": "aws", "tier": "prod", "orchestrator": "prefect",
        "regions": {"primary": "us-east-1", "secondary": "us-west-2"},
        "dns": {"domain": "example.com"},
    }, "test")
    primary = NetworkArgs.from_config(config, "hastack", "us-east-1")
    secondary = NetworkArgs.from_config(config, "hastack", "us-west-2")
    assert (primary.cidr, secondary.cidr) == ("10.10.0.0/16", "10.20.0.0/16")
    assert secondary.zone_ids == ("usw2-az1", "usw2-az2", "usw2-az3")
    assert secondary.zone_count == 3 and secondary.nat_gateways == "per-zone"
    assert secondary.flow_log_retention_days == 365
    assert secondary.protection is not None and secondary.protection.protect
