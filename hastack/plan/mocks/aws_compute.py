"""Mock outputs and data sources for hastack aws_compute resources (owned by that component family).

Network (VPC, subnets, NAT, flow logs) and EKS (node groups, launch templates,
add-ons, access entries). CloudWatch log groups are mocked in `aws_data` (one
owner per type token: a later registration silently replaces an earlier one).
Every value derives from `context.digest()`, the
resource's inputs and its provider's region, never from time or randomness.
"""

from __future__ import annotations

from typing import Any

from hastack.plan.mocks import ACCOUNT_ID, MockContext, invoke, outputs_for


def _test_net_ip(context: MockContext) -> str:
    # 203.0.113.0/24 is TEST-NET-3 (RFC 5737): never a real address.
    return f"203.0.113.{int(context.digest(4), 16) % 254 + 1}"


def _region(context: MockContext) -> str:
    return context.region or "us-east-1"


@outputs_for("aws:ec2/vpc:Vpc")
def _vpc(context: MockContext) -> dict[str, Any]:
    digest = context.digest(17)
    return {
        "arn": f"arn:aws:ec2:{_region(context)}:{ACCOUNT_ID}:vpc/vpc-{digest}",
        "defaultSecurityGroupId": f"sg-{context.digest(16)}0",
        "defaultNetworkAclId": f"acl-{context.digest(16)}0",
        "defaultRouteTableId": f"rtb-{context.digest(16)}0",
        "mainRouteTableId": f"rtb-{context.digest(16)}0",
        "ownerId": ACCOUNT_ID,
        "instanceTenancy": "default",
    }


def _zone_name(region: str, zone_id: object) -> str:
    """The offline account's name for an AZ ID: azN is the N-th letter.

    Real accounts map IDs to names arbitrarily in the older regions; the plan only
    needs a stable, plausible name.
    """
    number = str(zone_id).rsplit("-az", 1)[-1] if zone_id else "1"
    index = int(number) - 1 if number.isdigit() else 0
    return f"{region}{'abcdefghij'[index % 10]}"


@invoke("aws:index/getAvailabilityZone:getAvailabilityZone")
def _availability_zone(args: dict[str, Any], context: MockContext) -> dict[str, Any]:
    region = context.region or "us-east-1"
    zone_id = args.get("zoneId") or f"{region}-az1"
    name = _zone_name(region, zone_id)
    return {"id": name, "name": name, "zoneId": zone_id, "region": region,
            "state": "available", "groupName": region, "nameSuffix": name[-1]}


@outputs_for("aws:ec2/subnet:Subnet")
def _subnet(context: MockContext) -> dict[str, Any]:
    zone = str(context.inputs.get("availabilityZone")
               or _zone_name(_region(context), context.inputs.get("availabilityZoneId")))
    return {
        "arn": f"arn:aws:ec2:{_region(context)}:{ACCOUNT_ID}:subnet/subnet-{context.digest(17)}",
        "availabilityZone": zone,
        "ownerId": ACCOUNT_ID,
    }


@outputs_for("aws:ec2/eip:Eip")
def _eip(context: MockContext) -> dict[str, Any]:
    return {"allocationId": f"eipalloc-{context.digest(17)}", "publicIp": _test_net_ip(context),
            "domain": context.inputs.get("domain", "vpc")}


@outputs_for("aws:ec2/natGateway:NatGateway")
def _nat(context: MockContext) -> dict[str, Any]:
    host = int(context.digest(4), 16) % 254 + 1
    return {"publicIp": _test_net_ip(context),
            "privateIp": f"10.255.{int(context.digest(2), 16)}.{host}",
            "networkInterfaceId": f"eni-{context.digest(17)}"}


@outputs_for("aws:ec2/launchTemplate:LaunchTemplate")
def _launch_template(context: MockContext) -> dict[str, Any]:
    template_id = f"lt-{context.digest(17)}"
    return {
        "arn": f"arn:aws:ec2:{_region(context)}:{ACCOUNT_ID}:launch-template/{template_id}",
        "latestVersion": 1,
        "defaultVersion": 1,
        "name": context.inputs.get("name") or f"{context.name}-{context.digest(7)}",
    }


@outputs_for("aws:eks/nodeGroup:NodeGroup")
def _node_group(context: MockContext) -> dict[str, Any]:
    cluster = str(context.inputs.get("clusterName") or "cluster")
    name = str(context.inputs.get("nodeGroupName") or f"{context.name}-{context.digest(7)}")
    return {
        "id": f"{cluster}:{name}",
        "nodeGroupName": name,
        "arn": f"arn:aws:eks:{_region(context)}:{ACCOUNT_ID}:nodegroup/{cluster}/{name}/"
               f"{context.digest(8)}",
        "status": "ACTIVE",
        "resources": [{"autoscalingGroups": [{"name": f"eks-{name}-{context.digest(8)}"}],
                       "remoteAccessSecurityGroupId": ""}],
    }


@outputs_for("aws:eks/addon:Addon")
def _addon(context: MockContext) -> dict[str, Any]:
    cluster = str(context.inputs.get("clusterName") or "cluster")
    addon = str(context.inputs.get("addonName") or context.name)
    return {
        "id": f"{cluster}:{addon}",
        "arn": f"arn:aws:eks:{_region(context)}:{ACCOUNT_ID}:addon/{cluster}/{addon}/"
               f"{context.digest(8)}",
        "addonVersion": context.inputs.get("addonVersion") or "v1.0.0-eksbuild.1",
    }


@outputs_for("aws:eks/accessEntry:AccessEntry")
def _access_entry(context: MockContext) -> dict[str, Any]:
    cluster = str(context.inputs.get("clusterName") or "cluster")
    principal = str(context.inputs.get("principalArn") or "")
    return {
        "id": f"{cluster}:{principal}",
        "accessEntryArn": f"arn:aws:eks:{_region(context)}:{ACCOUNT_ID}:access-entry/{cluster}/"
                          f"{context.digest(8)}",
        "type": context.inputs.get("type") or "STANDARD",
        "userName": principal,
    }


@outputs_for("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
def _access_policy_association(context: MockContext) -> dict[str, Any]:
    cluster = str(context.inputs.get("clusterName") or "cluster")
    return {"id": f"{cluster}#{context.inputs.get('principalArn')}#"
                  f"{context.inputs.get('policyArn')}",
            "associatedAt": "2025-01-01T00:00:00Z"}
