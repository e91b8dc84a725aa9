"""RegionalEdge under the recording mock engine: what the ALB serves, and to whom."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.aws.edge import (
    LOG_DELIVERY_SERVICE,
    TLS_POLICY,
    RegionalEdge,
    RegionalEdgeArgs,
    lb_name,
    log_delivery_principal,
    short_region,
)
from components.base import Tier
from hastack.plan.recorder import Registration
from hastack.plan.runner import Recording, run_program

NODE_SG = "sg-0nodes000000000"
ZONE = "ZPUBLIC123"
_of = Recording.of_type


def _plan(tier: Tier = "prod", region: str = "us-east-1", **overrides: Any) -> Recording:
    def program() -> None:
        provider = aws.Provider("edge", region=region)
        edge = RegionalEdge(f"hastack-{tier}-{region}-edge", RegionalEdgeArgs(**{
            "name": f"hastack-{tier}", "tier": tier, "region": region,
            "domain": "example.com", "hostname": "workflows", "zone_id": ZONE,
            "vpc_id": "vpc-0123", "public_subnet_ids": ["subnet-a", "subnet-b", "subnet-c"],
            "node_security_group_id": NODE_SG, "target_port": 4200,
            "health_path": "/api/health", "provider": provider, **overrides}))
        pulumi.export("albArn", edge.alb_arn)
        pulumi.export("dnsName", edge.dns_name)
        pulumi.export("zoneId", edge.canonical_zone_id)
        pulumi.export("targetGroupArn", edge.target_group_arn)
        pulumi.export("certificateArn", edge.certificate_arn)
        pulumi.export("securityGroupId", edge.security_group_id)

    return run_program(program, project="hastack", stack="test", config={},
                       default_region=region)


@pytest.fixture(scope="module")
def prod() -> Recording:
    return _plan()


@pytest.fixture(scope="module")
def dev() -> Recording:
    return _plan("dev", "us-east-2")


def _one(recording: Recording, type_token: str, suffix: str = "") -> Registration:
    found = [r for r in _of(recording, type_token) if r.name.endswith(suffix)]
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def _listener(recording: Recording, port: int) -> Registration:
    (found,) = [r for r in _of(recording, "aws:lb/listener:Listener") if r.inputs["port"] == port]
    return found


def test_internet_facing_alb_in_the_public_subnets(prod: Recording) -> None:
    alb = _one(prod, "aws:lb/loadBalancer:LoadBalancer")
    inputs = alb.inputs
    assert inputs["loadBalancerType"] == "application" and inputs["internal"] is False
    assert inputs["subnets"] == ["subnet-a", "subnet-b", "subnet-c"]
    assert inputs["dropInvalidHeaderFields"] is True
    # A zone can be shifted away from (ARC zonal shift is off unless enabled).
    assert inputs["enableZonalShift"] is True
    assert inputs["idleTimeout"] == 3600  # websockets / log streams
    assert len(inputs["name"]) <= 32


def test_prod_alb_is_protected_and_logs_to_its_own_region(prod: Recording, dev: Recording) -> None:
    alb = _one(prod, "aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs["enableDeletionProtection"] is True and alb.protect
    bucket = _one(prod, "aws:s3/bucket:Bucket")
    assert alb.inputs["accessLogs"]["enabled"] is True
    assert alb.inputs["accessLogs"]["bucket"] == bucket.outputs["bucket"]
    # ELB writes access logs only with SSE-S3.
    sse = _one(prod, "aws:s3/bucketServerSideEncryptionConfiguration:"
                     "BucketServerSideEncryptionConfiguration")
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "AES256"}
    policy = _one(prod, "aws:s3/bucketPolicy:BucketPolicy")
    assert policy.urn in alb.dependencies  # ELB checks write access when logs are enabled
    dev_alb = _one(dev, "aws:lb/loadBalancer:LoadBalancer")
    assert dev_alb.inputs["enableDeletionProtection"] is False
    assert "accessLogs" not in dev_alb.inputs and _of(dev, "aws:s3/bucket:Bucket") == []


def test_log_bucket_policy_names_the_regions_log_writer(prod: Recording) -> None:
    document = json.loads(_one(prod, "aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    allow, deny = document["Statement"]
    assert allow["Principal"] == {"AWS": "arn:aws:iam::127311923021:root"}
    assert allow["Action"] == "s3:PutObject"
    assert allow["Resource"].endswith("/alb/AWSLogs/123456789012/*")
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_regions_opened_since_august_2022_use_the_service_principal() -> None:
    assert log_delivery_principal("us-east-1", "arn:aws:iam::127311923021:root") == {
        "AWS": "arn:aws:iam::127311923021:root"}
    assert log_delivery_principal("eu-central-2", None) == {"Service": LOG_DELIVERY_SERVICE}
    assert log_delivery_principal("il-central-1", "arn:x") == {"Service": LOG_DELIVERY_SERVICE}


def test_http_only_redirects_to_https(prod: Recording) -> None:
    http = _listener(prod, 80)
    assert http.inputs["protocol"] == "HTTP"
    (action,) = http.inputs["defaultActions"]
    assert action == {"type": "redirect", "redirect": {
        "protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}


def test_https_listener_uses_tls13_and_the_validated_certificate(prod: Recording) -> None:
    https = _listener(prod, 443)
    assert https.inputs["protocol"] == "HTTPS"
    assert https.inputs["sslPolicy"] == TLS_POLICY == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    validation = _one(prod, "aws:acm/certificateValidation:CertificateValidation")
    assert https.inputs["certificateArn"] == validation.outputs["certificateArn"]
    assert validation.urn in https.dependencies  # waits for issuance
    group = _one(prod, "aws:lb/targetGroup:TargetGroup")
    assert https.inputs["defaultActions"] == [{"type": "forward",
                                               "targetGroupArn": group.outputs["arn"]}]


def test_certificate_covers_the_shared_and_the_regional_name(prod: Recording) -> None:
    cert = _one(prod, "aws:acm/certificate:Certificate")
    assert cert.inputs["domainName"] == "workflows.example.com"
    assert cert.inputs["subjectAlternativeNames"] == ["workflows-us-east-1.example.com"]
    assert cert.inputs["validationMethod"] == "DNS"
    records = {r.name.rsplit("-", 1)[-1]: r for r in _of(prod, "aws:route53/record:Record")}
    assert set(records) == {"shared", "regional"}
    options = {o["domainName"]: o for o in cert.outputs["domainValidationOptions"]}
    for label, name in (("shared", "workflows.example.com"),
                        ("regional", "workflows-us-east-1.example.com")):
        record = records[label].inputs
        assert record["zoneId"] == ZONE and record["type"] == "CNAME"
        assert record["name"] == options[name]["resourceRecordName"]
        assert record["records"] == [options[name]["resourceRecordValue"]]
        assert record["allowOverwrite"] is True
    validation = _one(prod, "aws:acm/certificateValidation:CertificateValidation")
    assert sorted(validation.inputs["validationRecordFqdns"]) == sorted(
        r.outputs["fqdn"] for r in records.values())


def test_only_the_owning_region_writes_the_shared_validation_record() -> None:
    other = _plan(region="us-west-2", owns_shared_validation=False)
    names = [r.name for r in _of(other, "aws:route53/record:Record")]
    assert names == ["hastack-prod-us-west-2-edge-validation-regional"]


def test_shared_validation_record_is_the_same_in_every_region(prod: Recording) -> None:
    """ACM's CNAME for a name depends on account and name only: two regions, one record."""
    west = _plan(region="us-west-2")
    east = {o["domainName"]: o for o in
            _one(prod, "aws:acm/certificate:Certificate").outputs["domainValidationOptions"]}
    west_options = {o["domainName"]: o for o in
                    _one(west, "aws:acm/certificate:Certificate").outputs[
                        "domainValidationOptions"]}
    assert east["workflows.example.com"] == west_options["workflows.example.com"]


def test_target_group_registers_pod_ips_and_probes_the_health_path(prod: Recording,
                                                                   dev: Recording) -> None:
    group = _one(prod, "aws:lb/targetGroup:TargetGroup").inputs
    assert group["targetType"] == "ip" and group["port"] == 4200
    assert group["protocol"] == "HTTP" and group["vpcId"] == "vpc-0123"
    check = group["healthCheck"]
    assert check["path"] == "/api/health" and check["port"] == "traffic-port"
    # facts.md 4.14: 10 s x 2 in prod (20 s) instead of the 30 s x 5 default (150 s).
    assert (check["interval"], check["healthyThreshold"], check["unhealthyThreshold"]) == (
        10, 2, 2)
    assert check["timeout"] < check["interval"]
    assert _one(dev, "aws:lb/targetGroup:TargetGroup").inputs["healthCheck"]["interval"] == 30


def test_only_the_alb_reaches_the_pods(prod: Recording) -> None:
    sg = _one(prod, "aws:ec2/securityGroup:SecurityGroup")
    assert "ingress" not in sg.inputs and "egress" not in sg.inputs
    ingress = _of(prod, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    public = [r.inputs for r in ingress if r.inputs.get("cidrIpv4") == "0.0.0.0/0"]
    assert sorted(r["fromPort"] for r in public) == [80, 443]
    assert all(r["fromPort"] == r["toPort"] and r["ipProtocol"] == "tcp" for r in public)
    (pods,) = [r.inputs for r in ingress if r.inputs["securityGroupId"] == NODE_SG]
    assert pods["referencedSecurityGroupId"] == sg.id
    assert (pods["fromPort"], pods["toPort"], pods["ipProtocol"]) == (4200, 4200, "tcp")
    assert "cidrIpv4" not in pods
    (egress,) = _of(prod, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    assert egress.inputs["referencedSecurityGroupId"] == NODE_SG
    assert (egress.inputs["fromPort"], egress.inputs["toPort"]) == (4200, 4200)


def test_outputs(prod: Recording) -> None:
    outputs = prod.outputs
    assert outputs["dnsName"].endswith(".us-east-1.elb.amazonaws.com")
    assert outputs["zoneId"] == "Z35SXDOTRQ7X7K"
    assert outputs["targetGroupArn"].startswith("arn:aws:elasticloadbalancing:us-east-1:")
    assert outputs["certificateArn"].startswith("arn:aws:acm:us-east-1:")
    assert outputs["securityGroupId"].startswith("sg-")


@pytest.mark.parametrize(("changes", "message"), [
    ({"target_port": 0}, "not a TCP port"),
    ({"health_path": "api/health"}, "start with '/'"),
    ({"idle_timeout": 5000}, "idle_timeout"),
])
def test_bad_arguments_are_refused_before_anything_is_registered(changes: dict[str, Any],
                                                                  message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _plan(**changes)


def test_names_fit_the_32_character_limit_and_regions_stay_distinct() -> None:
    assert short_region("us-east-1") == "use1"
    assert short_region("ap-southeast-2") == "apse2" != short_region("ap-south-2")
    long = lb_name("hastack-a-very-long-environment-name-use1", "alb")
    assert len(long) <= 32 and long.endswith("-alb")
    assert lb_name("hastack-prod-use1", "tg") == "hastack-prod-use1-tg"
