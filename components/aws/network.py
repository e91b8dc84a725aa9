"""One region's VPC: public, private and database subnets in every zone, egress, flow logs.

Layout (why it looks like this):

* Three tiers of subnets per availability zone. Public subnets hold only NAT
  gateways and internet-facing load balancers; private subnets hold the EKS nodes
  and pods (the VPC CNI gives every pod a VPC address, so they are the big ones);
  database subnets have no route out of the VPC at all.
* The carving is positional and independent of `zone_count`: zone *i* always gets
  the same three CIDRs, so adding a zone later adds subnets and never moves one.
* Egress goes through a NAT gateway in the same zone (`per-zone`), so losing a
  zone never cuts egress for the others. `single` (dev only) keeps one NAT but
  still gives every zone its own private route table, so moving to `per-zone` is
  a route change, not a re-association.
* Flow logs of all traffic go to a KMS-encrypted CloudWatch log group with a
  retention period; S3 traffic from private subnets uses a gateway endpoint so
  image layers and artifacts do not pay NAT processing or leave the VPC.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.aws.kms import customer_managed_key, log_group_key_policy
from components.base import Protection, Tier, child_options, standard_tags, stateful_options
from hastack.config.model import StackConfig

COMPONENT = "Network"
TYPE_TOKEN = "hastack:aws:Network"

NatMode = Literal["per-zone", "single"]

# The carving reserves room for six zones (the most any region offers a new account).
MAX_ZONES = 6
# Private subnets: 1/8 of the VPC each (a /19 of a /16), slots 0..5.
_PRIVATE_EXTRA_BITS = 3
# Slot 6 of 8 is split into 8 public subnets, slot 7 into 8 database subnets.
_PUBLIC_SLOT, _DATABASE_SLOT = 6, 7
_SMALL_EXTRA_BITS = 3  # within a slot: 8 subnets, one per zone (2 spare)

# Tags the AWS Load Balancer Controller and the in-tree cloud provider use to
# discover where to put internet-facing and internal load balancers.
ELB_TAG = "kubernetes.io/role/elb"
INTERNAL_ELB_TAG = "kubernetes.io/role/internal-elb"


@dataclass(frozen=True)
class NetworkArgs:
    """What a region's network needs. Only the naming, tier and CIDR are required."""

    # Platform name; physical names are `<name>-<region>-<role>`.
    name: str
    region: str
    tier: Tier
    # Private IPv4 range of the VPC, /16../20 (see `carve_subnets`).
    cidr: str
    # AZ IDs (use1-az1, ...) to spread over, pinned by the caller: the same physical
    # zones in every account, and never re-read from a live "available zones" lookup,
    # so a zone reported impaired during an incident cannot move a subnet.
    zone_ids: tuple[str, ...] = ()
    # "single" is a dev-only cost saving; prod is refused.
    nat_gateways: NatMode = "per-zone"
    flow_log_retention_days: int = 365
    tags: Mapping[str, str] = field(default_factory=dict)
    # Defaults to `Protection.for_tier(tier)`.
    protection: Protection | None = None

    @staticmethod
    def from_config(config: StackConfig, name: str, region: str) -> NetworkArgs:
        """Args for `region` of a validated stack: the secondary region gets the secondary CIDR."""
        cidr = (config.network.secondary_cidr if region == config.regions.secondary
                else config.network.primary_cidr)
        return NetworkArgs(
            name=name,
            region=region,
            tier=config.tier,
            cidr=cidr,
            zone_ids=tuple(config.zones_of(region)),
            nat_gateways=config.network.nat_gateways,
            flow_log_retention_days=config.network.flow_log_retention_days,
            tags=dict(config.tags),
            protection=Protection.requested(config.protect_stateful_resources,
                                            config.deletion_protection),
        )

    @property
    def zone_count(self) -> int:
        return len(self.zone_ids)

    def validate(self) -> None:
        """Raise `ValueError` for arguments AWS would reject or the tier forbids."""
        if len(set(self.zone_ids)) != len(self.zone_ids):
            raise ValueError(f"zone_ids must be distinct, got {list(self.zone_ids)}")
        if not 2 <= self.zone_count <= MAX_ZONES:
            raise ValueError(f"zone_count must be 2..{MAX_ZONES} for a multi-AZ network, "
                             f"got {self.zone_count}")
        if self.nat_gateways not in ("per-zone", "single"):
            raise ValueError(f"nat_gateways must be 'per-zone' or 'single', got "
                             f"{self.nat_gateways!r}")
        if self.tier == "prod" and self.nat_gateways != "per-zone":
            raise ValueError("prod needs a NAT gateway per zone (nat_gateways='per-zone'); "
                             "a single NAT gateway makes one zone a single point of failure")
        if self.flow_log_retention_days < 1:
            raise ValueError("flow_log_retention_days must be >= 1")
        carve_subnets(self.cidr, self.zone_count)


@dataclass(frozen=True)
class SubnetPlan:
    """The CIDRs of one zone."""

    public: str
    private: str
    database: str


def carve_subnets(vpc_cidr: str, zone_count: int) -> list[SubnetPlan]:
    """Deterministic per-zone CIDRs inside `vpc_cidr` (a private IPv4 /16../20).

    The VPC is cut into 8 equal slots: slots 0..5 are the private subnets of zones
    0..5, slot 6 is cut into 8 public subnets and slot 7 into 8 database subnets.
    A /16 gives /19 private (8 190 addresses, room for pods) and /22 public and
    database subnets; a /20 gives /23 and /26.
    """
    try:
        network = ipaddress.ip_network(vpc_cidr, strict=True)
    except ValueError as error:
        raise ValueError(f"VPC CIDR {vpc_cidr!r} is not a network address: {error}") from None
    if not isinstance(network, ipaddress.IPv4Network) or not network.is_private:
        raise ValueError(f"VPC CIDR {vpc_cidr!r} must be a private IPv4 range")
    if not 16 <= network.prefixlen <= 20:
        raise ValueError(f"VPC CIDR {vpc_cidr!r} must be /16../20 so that every zone's "
                         "subnets fit (AWS subnets are at most /16 and at least /28)")
    if not 1 <= zone_count <= MAX_ZONES:
        raise ValueError(f"zone_count must be 1..{MAX_ZONES}, got {zone_count}")
    slots = list(network.subnets(prefixlen_diff=_PRIVATE_EXTRA_BITS))
    public = list(slots[_PUBLIC_SLOT].subnets(prefixlen_diff=_SMALL_EXTRA_BITS))
    database = list(slots[_DATABASE_SLOT].subnets(prefixlen_diff=_SMALL_EXTRA_BITS))
    return [
        SubnetPlan(public=str(public[zone]), private=str(slots[zone]),
                   database=str(database[zone]))
        for zone in range(zone_count)
    ]


class Network(pulumi.ComponentResource):
    """A multi-AZ VPC for one region. See the module docstring for the layout."""

    vpc_id: pulumi.Output[str]
    cidr: str
    # Pinned AZ IDs, and the account's names for them (read back from the subnets).
    zone_ids: list[str]
    azs: list[pulumi.Output[str]]
    public_subnet_ids: pulumi.Output[list[str]]
    private_subnet_ids: pulumi.Output[list[str]]
    database_subnet_ids: pulumi.Output[list[str]]
    private_route_table_ids: pulumi.Output[list[str]]
    nat_gateway_ids: pulumi.Output[list[str]]
    flow_log_group_name: str

    def __init__(self, resource_name: str, args: NetworkArgs, *,
                 provider: pulumi.ProviderResource | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, resource_name, None, opts)
        args.validate()
        self._args = args
        self._prefix = resource_name
        self._provider = provider
        self._protection = args.protection or Protection.for_tier(args.tier)
        self._base = f"{args.name}-{args.region}"
        self._tags = standard_tags(args.tier, COMPONENT, args.tags)
        invoke_opts = pulumi.InvokeOptions(parent=self, provider=provider)
        invoke_output = pulumi.InvokeOutputOptions(parent=self, provider=provider)
        self._partition = aws.get_partition(opts=invoke_opts)
        self._account_id = aws.get_caller_identity(opts=invoke_opts).account_id

        self.cidr = args.cidr
        self.zone_ids = list(args.zone_ids)
        plans = carve_subnets(args.cidr, args.zone_count)

        vpc = aws.ec2.Vpc(
            f"{resource_name}-vpc",
            cidr_block=args.cidr,
            # Both are needed for EKS private endpoints and interface endpoints to resolve.
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=self._named("vpc"),
            opts=self._child(),
        )
        self._lock_default_security_group(vpc)
        igw = aws.ec2.InternetGateway(
            f"{resource_name}-igw", vpc_id=vpc.id, tags=self._named("igw"), opts=self._child())

        public = [self._subnet(vpc, zone, index, plan.public, "public", {ELB_TAG: "1"})
                  for index, (zone, plan) in enumerate(zip(self.zone_ids, plans, strict=True))]
        private = [self._subnet(vpc, zone, index, plan.private, "private",
                                {INTERNAL_ELB_TAG: "1"})
                   for index, (zone, plan) in enumerate(zip(self.zone_ids, plans, strict=True))]
        database = [self._subnet(vpc, zone, index, plan.database, "database", {})
                    for index, (zone, plan) in enumerate(zip(self.zone_ids, plans, strict=True))]
        # Zone names are this account's aliases of the pinned IDs. Looking one up by
        # `zone_id` is a mapping, not an availability query: without `state` the data
        # source returns the zone whatever its state (pulumi-aws get_availability_zone:
        # "state - Specific availability zone state to require"), so an impaired zone
        # never changes the answer; and unlike the subnets' outputs it is known at preview.
        self.azs = [aws.get_availability_zone_output(zone_id=zone_id, opts=invoke_output).name
                    for zone_id in self.zone_ids]

        self._public_routes(vpc, igw, public)
        nats = self._nat_gateways(public, igw)
        private_tables = self._private_routes(vpc, private, nats)
        self._database_routes(vpc, database)
        self._s3_endpoint(vpc, private_tables)
        self._flow_logs(vpc)

        self.vpc_id = vpc.id
        self.public_subnet_ids = _ids(public)
        self.private_subnet_ids = _ids(private)
        self.database_subnet_ids = _ids(database)
        self.private_route_table_ids = _ids(private_tables)
        self.nat_gateway_ids = _ids(nats)
        self.register_outputs({
            "vpc_id": self.vpc_id,
            "cidr": self.cidr,
            "zone_ids": self.zone_ids,
            "azs": self.azs,
            "public_subnet_ids": self.public_subnet_ids,
            "private_subnet_ids": self.private_subnet_ids,
            "database_subnet_ids": self.database_subnet_ids,
            "nat_gateway_ids": self.nat_gateway_ids,
        })

    # -- helpers ---------------------------------------------------------------------

    def _child(self, **kwargs: object) -> pulumi.ResourceOptions:
        return child_options(self, self._provider, **kwargs)

    def _stateful(self, **kwargs: object) -> pulumi.ResourceOptions:
        return stateful_options(self._protection, self._child(**kwargs))

    def _named(self, role: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        return {**self._tags, "Name": f"{self._base}-{role}", **(extra or {})}

    def _lock_default_security_group(self, vpc: aws.ec2.Vpc) -> None:
        # Adopting the default security group with no rules removes its allow-all
        # rules, so nothing can silently fall back to it (CIS AWS 5.4).
        aws.ec2.DefaultSecurityGroup(
            f"{self._prefix}-default-sg", vpc_id=vpc.id, ingress=[], egress=[],
            tags=self._named("default-deny"), opts=self._child())

    def _subnet(self, vpc: aws.ec2.Vpc, zone: str, index: int, cidr: str, tier: str,
                extra_tags: Mapping[str, str]) -> aws.ec2.Subnet:
        return aws.ec2.Subnet(
            f"{self._prefix}-{tier}-{index}",
            vpc_id=vpc.id,
            cidr_block=cidr,
            availability_zone_id=zone,
            # Nothing gets a public address by accident; load balancers and NAT
            # gateways bring their own.
            map_public_ip_on_launch=False,
            tags=self._named(f"{tier}-{zone}", {"hastack:subnet-tier": tier, **extra_tags}),
            opts=self._child(),
        )

    def _public_routes(self, vpc: aws.ec2.Vpc, igw: aws.ec2.InternetGateway,
                       subnets: Sequence[aws.ec2.Subnet]) -> None:
        table = aws.ec2.RouteTable(
            f"{self._prefix}-public-rt", vpc_id=vpc.id, tags=self._named("public"),
            opts=self._child())
        aws.ec2.Route(
            f"{self._prefix}-public-default", route_table_id=table.id,
            destination_cidr_block="0.0.0.0/0", gateway_id=igw.id, opts=self._child())
        for index, subnet in enumerate(subnets):
            aws.ec2.RouteTableAssociation(
                f"{self._prefix}-public-rta-{index}", route_table_id=table.id,
                subnet_id=subnet.id, opts=self._child())

    def _nat_gateways(self, public: Sequence[aws.ec2.Subnet],
                      igw: aws.ec2.InternetGateway) -> list[aws.ec2.NatGateway]:
        count = len(public) if self._args.nat_gateways == "per-zone" else 1
        nats = []
        for index in range(count):
            eip = aws.ec2.Eip(
                f"{self._prefix}-nat-eip-{index}", domain="vpc",
                tags=self._named(f"nat-{self.zone_ids[index]}"),
                # An EIP in a VPC needs the internet gateway attached first.
                opts=self._child(depends_on=[igw]))
            nats.append(aws.ec2.NatGateway(
                f"{self._prefix}-nat-{index}",
                allocation_id=eip.id,
                subnet_id=public[index].id,
                connectivity_type="public",
                tags=self._named(f"nat-{self.zone_ids[index]}"),
                opts=self._child(depends_on=[igw]),
            ))
        return nats

    def _private_routes(self, vpc: aws.ec2.Vpc, subnets: Sequence[aws.ec2.Subnet],
                        nats: Sequence[aws.ec2.NatGateway]) -> list[aws.ec2.RouteTable]:
        tables = []
        for index, subnet in enumerate(subnets):
            # per-zone: zone i uses NAT i; single: every zone uses NAT 0.
            nat = nats[index] if len(nats) > 1 else nats[0]
            table = aws.ec2.RouteTable(
                f"{self._prefix}-private-rt-{index}", vpc_id=vpc.id,
                tags=self._named(f"private-{self.zone_ids[index]}"), opts=self._child())
            aws.ec2.Route(
                f"{self._prefix}-private-default-{index}", route_table_id=table.id,
                destination_cidr_block="0.0.0.0/0", nat_gateway_id=nat.id, opts=self._child())
            aws.ec2.RouteTableAssociation(
                f"{self._prefix}-private-rta-{index}", route_table_id=table.id,
                subnet_id=subnet.id, opts=self._child())
            tables.append(table)
        return tables

    def _database_routes(self, vpc: aws.ec2.Vpc, subnets: Sequence[aws.ec2.Subnet]) -> None:
        # Local routes only: databases neither reach nor are reachable from outside the VPC.
        table = aws.ec2.RouteTable(
            f"{self._prefix}-database-rt", vpc_id=vpc.id, tags=self._named("database"),
            opts=self._child())
        for index, subnet in enumerate(subnets):
            aws.ec2.RouteTableAssociation(
                f"{self._prefix}-database-rta-{index}", route_table_id=table.id,
                subnet_id=subnet.id, opts=self._child())

    def _s3_endpoint(self, vpc: aws.ec2.Vpc, tables: Sequence[aws.ec2.RouteTable]) -> None:
        aws.ec2.VpcEndpoint(
            f"{self._prefix}-s3",
            vpc_id=vpc.id,
            service_name=f"{self._partition.reverse_dns_prefix}.{self._args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[table.id for table in tables],
            tags=self._named("s3"),
            opts=self._child(),
        )

    def _flow_logs(self, vpc: aws.ec2.Vpc) -> None:
        partition = self._partition.partition
        region = self._args.region
        account = self._account_id
        log_group_name = f"/hastack/{self._base}/vpc-flow-logs"
        self.flow_log_group_name = log_group_name
        key = customer_managed_key(
            f"{self._prefix}-flow-logs-key",
            description=f"Encrypts the VPC flow logs of {self._base}",
            tier=self._args.tier, protection=self._protection,
            tags=self._named("flow-logs"), opts=self._child(),
            policy=log_group_key_policy(partition, account, region,
                                        self._partition.dns_suffix, log_group_name))
        log_group = aws.cloudwatch.LogGroup(
            f"{self._prefix}-flow-logs",
            name=log_group_name,
            retention_in_days=self._args.flow_log_retention_days,
            kms_key_id=key.arn,
            tags=self._named("flow-logs"),
            opts=self._stateful(),
        )
        role = aws.iam.Role(
            f"{self._prefix}-flow-logs-role",
            description=f"VPC flow log delivery for {self._base}",
            assume_role_policy=_flow_logs_trust(partition, account, region),
            tags=self._tags,
            opts=self._child(),
        )
        policy = aws.iam.RolePolicy(
            f"{self._prefix}-flow-logs-delivery",
            role=role.id,
            policy=log_group.arn.apply(
                lambda arn: _flow_logs_delivery(arn, partition, region, account)),
            opts=self._child(),
        )
        aws.ec2.FlowLog(
            f"{self._prefix}-flow-log",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            tags=self._named("flow-log"),
            # Delivery fails until the role may write to the group.
            opts=self._child(depends_on=[policy]),
        )


def _flow_logs_trust(partition: str, account_id: str, region: str) -> str:
    # Scoped to this account's flow logs in this region (confused-deputy protection).
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account_id},
                "ArnLike": {"aws:SourceArn":
                            f"arn:{partition}:ec2:{region}:{account_id}:vpc-flow-log/*"},
            },
        }],
    }, sort_keys=True)


def _flow_logs_delivery(log_group_arn: str, partition: str, region: str,
                        account_id: str) -> str:
    group = log_group_arn.removesuffix(":*")
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents",
                           "logs:DescribeLogStreams"],
                "Resource": [group, f"{group}:*"],
            },
            {
                "Effect": "Allow",
                "Action": "logs:DescribeLogGroups",
                "Resource": f"arn:{partition}:logs:{region}:{account_id}:log-group:*",
            },
        ],
    }, sort_keys=True)


def _ids(resources: Sequence[pulumi.CustomResource]) -> pulumi.Output[list[str]]:
    return pulumi.Output.all(*[resource.id for resource in resources]).apply(list)
