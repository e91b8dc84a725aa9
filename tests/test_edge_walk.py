"""The served path, walked in the real prod and gcp-prod plans, for both regions:

name -> DNS record -> load balancer (address) -> HTTPS listener + certificate
     -> target group / Gateway -> the orchestrator's Service -> its pods.

Every hop is followed by the value the next resource really receives (an ARN, a DNS
name, an IP, a Service name), not by resource names, so a wiring mistake anywhere
breaks the walk at that hop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from components.k8s import prefect
from hastack.plan.pipeline import PlanResult
from hastack.plan.recorder import Registration
from hastack.plan.runner import Recording

# The committed environments' plans are the session's (tests/conftest.py).

AWS_REGIONS = ("us-east-1", "us-west-2")
GCP_REGIONS = ("us-central1", "us-east1")


Walk = Callable[[str], dict[str, Recording]]


@pytest.fixture(scope="module")
def recordings(environment_plan: Callable[[str], list[PlanResult]]) -> Walk:
    """recordings(env): the infrastructure plan (key "") and each region's workloads
    plan, as `up` runs them."""

    def get(environment: str) -> dict[str, Recording]:
        results = environment_plan(environment)
        plans = {"": results[0].recording}
        for result in results[1:]:
            plans[result.stack.removeprefix(f"{environment}-")] = result.recording
        return plans

    return get


def _all(recording: Recording, type_token: str, **inputs: Any) -> list[Registration]:
    return [r for r in recording.of_type(type_token)
            if all(r.inputs.get(k) == v for k, v in inputs.items())]


def _one(found: list[Registration], what: str) -> Registration:
    assert len(found) == 1, f"{what}: expected one, got {[r.name for r in found]}"
    return found[0]


def _with_output(recording: Recording, type_token: str, key: str, value: Any) -> Registration:
    return _one([r for r in recording.of_type(type_token) if r.outputs.get(key) == value],
                f"{type_token} with {key}={value}")


def _pods_behind(recording: Recording, namespace: str, service: str, port: int,
                 provider: str | None) -> Registration:
    """The Helm release whose chart renders `service` (and its pods) in that cluster."""
    release = _one([r for r in recording.of_type("kubernetes:helm.sh/v3:Release")
                    if r.inputs["values"].get("fullnameOverride") == service
                    and r.provider == provider], f"release rendering Service {service}")
    assert release.property_dependencies.get("namespace") or \
        release.inputs["namespace"] == namespace
    assert port == prefect.SERVER_PORT
    # The chart's Service selects the API pods by these labels; our PDB selects the same.
    pdb = _one([r for r in recording.of_type("kubernetes:policy/v1:PodDisruptionBudget")
                if r.provider == provider
                and r.inputs["spec"]["selector"]["matchLabels"] == prefect.server_pod_labels()],
               "PDB over the API pods")
    assert pdb.inputs["metadata"]["namespace"] == namespace
    return release


# --- AWS -------------------------------------------------------------------------------


@pytest.mark.parametrize("region", AWS_REGIONS)
def test_prod_name_reaches_the_pods_through_each_regions_alb(region: str,
                                                            recordings: Walk) -> None:
    env = recordings("prod")
    plan, workloads = env[""], env[region]
    shared = "workflows.workflows.example.com"
    regional = f"workflows-{region}.workflows.example.com"
    record = _one(_all(plan, "aws:route53/record:Record", name=shared, setIdentifier=region),
                  f"failover record {region}")
    (alias,) = record.inputs["aliases"]
    alb = _with_output(plan, "aws:lb/loadBalancer:LoadBalancer", "dnsName", alias["name"])
    assert alias["zoneId"] == alb.outputs["zoneId"]
    assert region in alb.outputs["arn"] and alb.inputs["internal"] is False
    regional_record = _one(_all(plan, "aws:route53/record:Record", name=regional),
                           "regional record")
    assert regional_record.inputs["aliases"][0]["name"] == alias["name"]
    check = _one(_all(plan, "aws:route53/healthCheck:HealthCheck", fqdn=regional),
                 "health check of the regional name")
    assert check.inputs["enableSni"] is True and check.inputs["port"] == 443

    listeners = _all(plan, "aws:lb/listener:Listener", loadBalancerArn=alb.outputs["arn"])
    https = _one([lst for lst in listeners if lst.inputs["port"] == 443], "HTTPS listener")
    http = _one([lst for lst in listeners if lst.inputs["port"] == 80], "HTTP listener")
    assert http.inputs["defaultActions"][0]["type"] == "redirect"
    validation = _with_output(plan, "aws:acm/certificateValidation:CertificateValidation",
                              "certificateArn", https.inputs["certificateArn"])
    certificate = _with_output(plan, "aws:acm/certificate:Certificate", "arn",
                               validation.inputs["certificateArn"])
    assert certificate.inputs["domainName"] == shared
    assert certificate.inputs["subjectAlternativeNames"] == [regional]
    zone = record.inputs["zoneId"]
    for option in certificate.outputs["domainValidationOptions"]:
        # Each name's CNAME is in the zone (the shared one written once, by the primary).
        assert _all(plan, "aws:route53/record:Record", zoneId=zone,
                    name=option["resourceRecordName"]), option["domainName"]

    (forward,) = https.inputs["defaultActions"]
    group = _with_output(plan, "aws:lb/targetGroup:TargetGroup", "arn",
                         forward["targetGroupArn"])
    assert group.inputs["targetType"] == "ip"
    # The workloads stack of this region received the ARN through its StackReference.
    binding = _one([b for b in workloads.of_type(
        "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding")
                    if b.inputs["spec"]["targetGroupARN"] == group.outputs["arn"]],
                   "TargetGroupBinding of the target group")
    service = binding.inputs["spec"]["serviceRef"]
    assert service["port"] == group.inputs["port"]
    release = _pods_behind(workloads, binding.inputs["metadata"]["namespace"],
                           service["name"], service["port"], binding.provider)
    replicas = release.inputs["values"]["server"]["replicaCount"]
    # The primary serves; the warm standby's pods start on failover (record: no check).
    assert (replicas > 0) == (region == "us-east-1")
    assert ("healthCheckId" in record.inputs) == (region == "us-east-1")


# --- GCP -------------------------------------------------------------------------------


@pytest.mark.parametrize("region", GCP_REGIONS)
def test_gcp_prod_name_reaches_the_pods_through_each_regions_gateway(
        region: str, recordings: Walk) -> None:
    env = recordings("gcp-prod")
    plan, workloads = env[""], env[region]
    shared = "workflows.gcp.example.com"
    regional = f"workflows-{region}.gcp.example.com"
    address = _one(_all(plan, "gcp:compute/address:Address", region=region), "address")
    ip = address.outputs["address"]
    record = _one(_all(plan, "gcp:dns/recordSet:RecordSet", name=f"{shared}."), "record")
    policy = record.inputs["routingPolicy"]["primaryBackup"]
    if region == "us-central1":
        assert policy["primary"]["externalEndpoints"] == [ip]
    else:
        assert policy["backupGeos"] == [{"location": region, "rrdatas": [ip]}]
    own = _one(_all(plan, "gcp:dns/recordSet:RecordSet", name=f"{regional}."), "regional")
    assert own.inputs["rrdatas"] == [ip]

    gateway = _one([g for g in workloads.of_type(
        "kubernetes:gateway.networking.k8s.io/v1:Gateway")
                    if g.inputs["spec"]["addresses"] == [
                        {"type": "NamedAddress", "value": address.inputs["name"]}]],
                   "Gateway on the reserved address")
    (listener,) = gateway.inputs["spec"]["listeners"]
    assert (listener["protocol"], listener["port"]) == ("HTTPS", 443)
    cert_name = listener["tls"]["options"]["networking.gke.io/cert-manager-certs"]
    certificate = _one(_all(plan, "gcp:certificatemanager/certificate:Certificate",
                            name=cert_name), "certificate")
    assert certificate.inputs["location"] == region
    assert certificate.inputs["managed"]["domains"] == [shared, regional]
    for authorization in plan.of_type("gcp:certificatemanager/dnsAuthorization:DnsAuthorization"):
        if authorization.inputs["location"] == region:
            (cname,) = authorization.outputs["dnsResourceRecords"]
            assert _all(plan, "gcp:dns/recordSet:RecordSet", name=cname["name"],
                        rrdatas=[cname["data"]]), authorization.inputs["domain"]

    route = _one([r for r in workloads.of_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")
                  if r.provider == gateway.provider], "HTTPRoute")
    assert route.inputs["spec"]["parentRefs"][0]["name"] == gateway.inputs["metadata"]["name"]
    assert shared in route.inputs["spec"]["hostnames"]
    (backend,) = route.inputs["spec"]["rules"][0]["backendRefs"]
    health = _one([h for h in workloads.of_type("kubernetes:networking.gke.io/v1:HealthCheckPolicy")
                   if h.provider == gateway.provider], "HealthCheckPolicy")
    assert health.inputs["spec"]["targetRef"]["name"] == backend["name"]
    assert health.inputs["spec"]["default"]["config"]["httpHealthCheck"]["requestPath"] == \
        "/api/health"
    release = _pods_behind(workloads, gateway.inputs["metadata"]["namespace"],
                           backend["name"], backend["port"], gateway.provider)
    assert (release.inputs["values"]["server"]["replicaCount"] > 0) == (region == "us-central1")
