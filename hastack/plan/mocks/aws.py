"""Mock outputs and data sources for pulumi-aws resources."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hastack.config.regions import AWS_REGION_ZONES, zones_of
from hastack.plan.mocks import (
    ACCOUNT_ID,
    ID_RULES,
    PREFIX_OUTPUT_RULES,
    InvokeFailure,
    MockContext,
    invoke,
    outputs_for,
)

# IDs that AWS gives a resource kind, by type token: prefix + hex digest.
_ID_PREFIXES = {
    "aws:ec2/vpc:Vpc": "vpc-",
    "aws:ec2/subnet:Subnet": "subnet-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
    "aws:ec2/natGateway:NatGateway": "nat-",
    "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/eip:Eip": "eipalloc-",
    "aws:ec2/routeTable:RouteTable": "rtb-",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
    "aws:ec2/flowLog:FlowLog": "fl-",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr-",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr-",
    "aws:route53/healthCheck:HealthCheck": "hc-",
}


def _service_and_kind(type_token: str) -> tuple[str, str]:
    # "aws:rds/cluster:Cluster" -> ("rds", "cluster")
    module_and_member = type_token.split(":")[1]
    service, _, kind = module_and_member.partition("/")
    return service, kind or service


def _physical_name(context: MockContext) -> str:
    return str(context.inputs.get("name") or f"{context.name}-{context.digest(7)}")


def _generic(context: MockContext) -> dict[str, Any]:
    service, kind = _service_and_kind(context.type)
    region = context.region or ""
    arn = f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{kind}/{_physical_name(context)}"
    return {"arn": arn, "tagsAll": context.inputs.get("tags", {})}


PREFIX_OUTPUT_RULES.append(("aws:", _generic))

def _prefixed_id(prefix: str) -> Callable[[MockContext], str]:
    def make(context: MockContext) -> str:
        return f"{prefix}{context.digest(17)}"

    return make


for _token, _prefix in _ID_PREFIXES.items():
    ID_RULES[_token] = _prefixed_id(_prefix)


@outputs_for("aws:s3/bucket:Bucket")
def _bucket(context: MockContext) -> dict[str, Any]:
    name = str(context.inputs.get("bucket") or f"{context.name}-{context.digest(7)}")
    return {
        "id": name,
        "bucket": name,
        "arn": f"arn:aws:s3:::{name}",
        "bucketRegionalDomainName": f"{name}.s3.{context.region}.amazonaws.com",
        "region": context.region,
    }


@outputs_for("aws:iam/role:Role")
def _role(context: MockContext) -> dict[str, Any]:
    name = _physical_name(context)
    return {"id": name, "name": name, "arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"}


@outputs_for("aws:iam/policy:Policy")
def _policy(context: MockContext) -> dict[str, Any]:
    name = _physical_name(context)
    arn = f"arn:aws:iam::{ACCOUNT_ID}:policy/{name}"
    return {"id": arn, "name": name, "arn": arn}


@outputs_for("aws:kms/key:Key")
def _kms_key(context: MockContext) -> dict[str, Any]:
    digest = context.digest(32)
    key_id = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
    return {"id": key_id, "keyId": key_id,
            "arn": f"arn:aws:kms:{context.region}:{ACCOUNT_ID}:key/{key_id}"}


@outputs_for("aws:secretsmanager/secret:Secret")
def _secret(context: MockContext) -> dict[str, Any]:
    name = _physical_name(context)
    arn = f"arn:aws:secretsmanager:{context.region}:{ACCOUNT_ID}:secret:{name}-{context.digest(6)}"
    return {"id": arn, "arn": arn, "name": name}


@outputs_for("aws:eks/cluster:Cluster")
def _eks_cluster(context: MockContext) -> dict[str, Any]:
    name = _physical_name(context)
    oidc = context.digest(32).upper()
    return {
        "id": name,
        "name": name,
        "arn": f"arn:aws:eks:{context.region}:{ACCOUNT_ID}:cluster/{name}",
        "endpoint": f"https://{oidc}.gr7.{context.region}.eks.amazonaws.com",
        "certificateAuthority": {"data": "TU9DSy1DQS1EQVRB"},
        "identities": [{"oidcs": [{
            "issuer": f"https://oidc.eks.{context.region}.amazonaws.com/id/{oidc}",
        }]}],
        # The security group EKS makes for the control plane and managed nodes.
        "vpcConfig": {"clusterSecurityGroupId": f"sg-{context.digest(17)}"},
        "platformVersion": "eks.1",
        "status": "ACTIVE",
        "clusterId": context.digest(36),
    }


@outputs_for("aws:rds/cluster:Cluster")
def _rds_cluster(context: MockContext) -> dict[str, Any]:
    name = str(context.inputs.get("clusterIdentifier") or _physical_name(context))
    host = f"{name}.cluster-{context.digest(12)}.{context.region}.rds.amazonaws.com"
    return {
        "id": name,
        "clusterIdentifier": name,
        "arn": f"arn:aws:rds:{context.region}:{ACCOUNT_ID}:cluster:{name}",
        "endpoint": host,
        "readerEndpoint": host.replace(".cluster-", ".cluster-ro-"),
        "port": 5432,
        "clusterResourceId": f"cluster-{context.digest(26).upper()}",
    }


@outputs_for("aws:rds/clusterInstance:ClusterInstance")
def _rds_instance(context: MockContext) -> dict[str, Any]:
    name = str(context.inputs.get("identifier") or _physical_name(context))
    return {
        "id": name,
        "identifier": name,
        "arn": f"arn:aws:rds:{context.region}:{ACCOUNT_ID}:db:{name}",
        "endpoint": f"{name}.{context.digest(12)}.{context.region}.rds.amazonaws.com",
        "port": 5432,
    }


@outputs_for("aws:rds/globalCluster:GlobalCluster")
def _global_cluster(context: MockContext) -> dict[str, Any]:
    name = str(context.inputs.get("globalClusterIdentifier") or _physical_name(context))
    return {
        "id": name,
        "arn": f"arn:aws:rds::{ACCOUNT_ID}:global-cluster:{name}",
        "globalClusterResourceId": f"cluster-{context.digest(26).upper()}",
        "endpoint": f"{name}.global-{context.digest(12)}.global.rds.amazonaws.com",
    }


@outputs_for("aws:elasticache/replicationGroup:ReplicationGroup")
def _replication_group(context: MockContext) -> dict[str, Any]:
    name = str(context.inputs.get("replicationGroupId") or context.name)
    base = f"{name}.{context.digest(6)}.ng.0001.{_short_region(context.region)}.cache.amazonaws.com"
    return {
        "id": name,
        "arn": f"arn:aws:elasticache:{context.region}:{ACCOUNT_ID}:replicationgroup:{name}",
        "primaryEndpointAddress": f"master.{base}",
        "readerEndpointAddress": f"replica.{base}",
        "port": 6379,
    }


def _short_region(region: str | None) -> str:
    parts = (region or "us-east-1").split("-")
    return f"{parts[0]}{parts[1][0]}{parts[-1]}"


@outputs_for("aws:route53/zone:Zone")
def _zone(context: MockContext) -> dict[str, Any]:
    return {"zoneId": f"Z{context.digest(20).upper()}",
            "nameServers": [f"ns-{i}.awsdns-0{i}.net" for i in range(1, 5)]}


@outputs_for("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
def _oidc_provider(context: MockContext) -> dict[str, Any]:
    url = str(context.inputs.get("url", "")).removeprefix("https://")
    arn = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{url}"
    return {"id": arn, "arn": arn}


@invoke("aws:index/getAvailabilityZones:getAvailabilityZones")
def _azs(args: dict[str, Any], context: MockContext) -> dict[str, Any]:
    region = context.region or "us-east-1"
    names = zones_of("aws", region) if region in AWS_REGION_ZONES else [f"{region}a", f"{region}b"]
    short = _short_region(region)
    return {
        "names": names,
        "zoneIds": [f"{short}-az{index + 1}" for index in range(len(names))],
        "id": region,
        "state": args.get("state", "available"),
        "groupNames": [region],
    }


@invoke("aws:index/getCallerIdentity:getCallerIdentity")
def _caller(_args: dict[str, Any], _context: MockContext) -> dict[str, Any]:
    return {
        "accountId": ACCOUNT_ID,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:role/hastack-deployer",
        "userId": "AROAMOCKDEPLOYER:pulumi",
        "id": ACCOUNT_ID,
    }


@invoke("aws:index/getPartition:getPartition")
def _partition(_args: dict[str, Any], _context: MockContext) -> dict[str, Any]:
    return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws",
            "reverseDnsPrefix": "com.amazonaws"}


@invoke("aws:index/getRegion:getRegion")
def _region(_args: dict[str, Any], context: MockContext) -> dict[str, Any]:
    region = context.region or "us-east-1"
    return {"name": region, "region": region, "id": region,
            "endpoint": f"ec2.{region}.amazonaws.com", "description": region}


# The public hosted zones the offline account has: the stack files' and the tests'
# domains. Any other lookup fails as the provider does, so a stack that names a zone
# nobody created fails its plan instead of planning records into nowhere.
EXISTING_PUBLIC_ZONES = frozenset({
    "example.com", "workflows.example.com", "dev.workflows.example.com",
    "staging.workflows.example.com",
})


@invoke("aws:route53/getZone:getZone")
def _get_zone(args: dict[str, Any], context: MockContext) -> dict[str, Any]:
    name = str(args.get("name") or "").rstrip(".")
    if args.get("zoneId") is None and name not in EXISTING_PUBLIC_ZONES:
        raise InvokeFailure("name", f"no matching Route 53 Hosted Zone found for '{name}'")
    fallback = "Z" + MockContext("zone", name, None, None, {}).digest(20).upper()
    zone_id = args.get("zoneId") or fallback
    return {"zoneId": zone_id, "id": zone_id, "name": f"{name}.",
            "arn": f"arn:aws:route53:::hostedzone/{zone_id}", "privateZone": False,
            "nameServers": [f"ns-{i}.awsdns-0{i}.net" for i in range(1, 5)]}


@outputs_for("aws:sqs/queue:Queue")
def _queue(context: MockContext) -> dict[str, Any]:
    name = _physical_name(context)
    url = f"https://sqs.{context.region}.amazonaws.com/{ACCOUNT_ID}/{name}"
    return {"id": url, "url": url, "name": name,
            "arn": f"arn:aws:sqs:{context.region}:{ACCOUNT_ID}:{name}"}


@invoke("aws:elb/getServiceAccount:getServiceAccount")
def _elb_account(_args: dict[str, Any], context: MockContext) -> dict[str, Any]:
    # The regional ELB account (us-east-1's is 127311923021 in the ELB docs' table).
    account = "127311923021" if context.region == "us-east-1" else "797873946194"
    return {"id": account, "arn": f"arn:aws:iam::{account}:root", "region": context.region}


@outputs_for("aws:lb/loadBalancer:LoadBalancer")
def _load_balancer(context: MockContext) -> dict[str, Any]:
    name = str(context.inputs.get("name") or context.name)
    region = context.region or "us-east-1"
    digest = context.digest(16)
    return {"arn": f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT_ID}:loadbalancer/app/"
                   f"{name}/{digest}",
            "dnsName": f"{name}-{int(digest[:8], 16)}.{region}.elb.amazonaws.com",
            # The ALB canonical hosted zone of the region (ELB endpoints table).
            "zoneId": ALB_ZONE_IDS.get(region, "Z" + digest[:13].upper())}


ALB_ZONE_IDS = {"us-east-1": "Z35SXDOTRQ7X7K", "us-east-2": "Z3AADJGX6KTTL2",
                "us-west-2": "Z1H1FL5HABSF5", "us-west-1": "Z368ELLRRE2KJ0"}


@outputs_for("aws:lb/targetGroup:TargetGroup")
def _target_group(context: MockContext) -> dict[str, Any]:
    name = str(context.inputs.get("name") or context.name)
    return {"arn": f"arn:aws:elasticloadbalancing:{context.region}:{ACCOUNT_ID}:targetgroup/"
                   f"{name}/{context.digest(16)}"}


@outputs_for("aws:acm/certificate:Certificate")
def _certificate(context: MockContext) -> dict[str, Any]:
    """ACM's validation record depends on the account and the name only, not the region."""
    names = [context.inputs.get("domainName"), *(context.inputs.get("subjectAlternativeNames")
                                                 or [])]
    options = []
    for name in [str(n) for n in names if n]:
        token = MockContext("acm", name, None, None, {}).digest(32)
        options.append({"domainName": name, "resourceRecordName": f"_{token}.{name}.",
                        "resourceRecordType": "CNAME",
                        "resourceRecordValue": f"_{token[::-1]}.mhbtsbpdnt.acm-validations.aws."})
    return {"arn": f"arn:aws:acm:{context.region}:{ACCOUNT_ID}:certificate/{context.digest(32)}",
            "domainValidationOptions": options, "status": "PENDING_VALIDATION"}


@outputs_for("aws:acm/certificateValidation:CertificateValidation")
def _certificate_validation(context: MockContext) -> dict[str, Any]:
    return {"certificateArn": context.inputs.get("certificateArn")}


@invoke("aws:arcregionswitch/getRoute53HealthChecks:getRoute53HealthChecks")
def _arc_health_checks(args: dict[str, Any], _context: MockContext) -> dict[str, Any]:
    # A fresh deployment: ARC has not listed health checks for the new plan yet, so the
    # failover records keep their endpoint checks (region_switch.py, phase one).
    return {"planArn": args.get("planArn"), "healthChecks": []}
