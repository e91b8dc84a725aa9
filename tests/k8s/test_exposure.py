"""The orchestrator's Service joins the region's edge: TargetGroupBinding on AWS, Gateway on GKE."""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components.k8s import exposure as edge
from components.k8s.wiring import AwsExposure, Exposure, GcpExposure
from hastack.plan.runner import Recording, run_program
from tests.k8s.conftest import (
    EDGE_ADDRESS_NAME,
    EDGE_CERTIFICATE_NAME,
    EDGE_HOSTNAMES,
    KUBECONFIG,
    TARGET_GROUP_ARN,
    of_type,
)

Recorder = Callable[..., Recording]
TGB = "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding"
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
HEALTH = "kubernetes:networking.gke.io/v1:HealthCheckPolicy"


def _plan(exposure: Exposure | None, with_controller: bool = False) -> Recording:
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig=KUBECONFIG)
        opts = pulumi.ResourceOptions(provider=provider)
        given = exposure
        if with_controller and given is not None and given.aws is not None:
            controller = k8s.core.v1.Namespace("controller", opts=opts)
            given = Exposure(given.health_path, aws=AwsExposure(
                given.aws.target_group_arn, controller=controller))
        edge.expose_service("ui", exposure=given, namespace="prefect",
                            service_name="prefect-server", service_port=4200,
                            labels={"hastack-tier": "prod"}, opts=opts)

    return run_program(program, project="hastack", stack="test", config={})


AWS = Exposure("/api/health", aws=AwsExposure(target_group_arn=TARGET_GROUP_ARN))
GCP = Exposure("/api/health", gcp=GcpExposure(EDGE_ADDRESS_NAME, EDGE_CERTIFICATE_NAME,
                                              EDGE_HOSTNAMES))


def test_aws_binds_the_service_to_the_target_group_by_ip() -> None:
    recording = _plan(AWS)
    (binding,) = of_type(recording, TGB)
    assert binding.inputs["apiVersion"] == "elbv2.k8s.aws/v1beta1"
    assert binding.inputs["spec"] == {"serviceRef": {"name": "prefect-server", "port": 4200},
                                      "targetGroupARN": TARGET_GROUP_ARN, "targetType": "ip"}
    # The edge owns the ALB -> pods security-group rule: the controller must not.
    assert "networking" not in binding.inputs["spec"]
    assert of_type(recording, GATEWAY) == []


def test_the_binding_waits_for_the_controller_whose_webhook_admits_it() -> None:
    recording = _plan(AWS, with_controller=True)
    (binding,) = of_type(recording, TGB)
    (controller,) = of_type(recording, "kubernetes:core/v1:Namespace")
    assert controller.urn in binding.dependencies
    assert of_type(_plan(AWS), TGB)[0].dependencies == []


def test_gcp_gateway_on_the_reserved_address_with_the_managed_certificate() -> None:
    recording = _plan(GCP)
    (gateway,) = of_type(recording, GATEWAY)
    spec = gateway.inputs["spec"]
    assert spec["gatewayClassName"] == "gke-l7-regional-external-managed"
    assert spec["addresses"] == [{"type": "NamedAddress", "value": EDGE_ADDRESS_NAME}]
    (listener,) = spec["listeners"]
    assert (listener["protocol"], listener["port"]) == ("HTTPS", 443)
    assert listener["tls"] == {"mode": "Terminate", "options": {
        "networking.gke.io/cert-manager-certs": EDGE_CERTIFICATE_NAME}}
    assert listener["allowedRoutes"] == {"namespaces": {"from": "Same"}}
    (route,) = of_type(recording, ROUTE)
    assert route.inputs["spec"]["parentRefs"] == [{"name": "prefect-server",
                                                   "sectionName": "https"}]
    assert route.inputs["spec"]["hostnames"] == EDGE_HOSTNAMES
    assert route.inputs["spec"]["rules"] == [
        {"backendRefs": [{"name": "prefect-server", "port": 4200}]}]
    assert gateway.urn in route.dependencies
    assert of_type(recording, TGB) == []


def test_gcp_load_balancer_probes_the_health_path_of_the_service() -> None:
    (policy,) = of_type(_plan(GCP), HEALTH)
    spec = policy.inputs["spec"]
    assert spec["targetRef"] == {"group": "", "kind": "Service", "name": "prefect-server"}
    check = spec["default"]["config"]
    assert check["type"] == "HTTP"
    assert check["httpHealthCheck"]["requestPath"] == "/api/health"
    assert check["httpHealthCheck"]["port"] == 4200


def test_no_exposure_keeps_the_service_internal() -> None:
    recording = _plan(None)
    assert [r for r in recording.registrations if r.custom and
            not r.type.startswith("pulumi:providers:")] == []


def test_exactly_one_cloud() -> None:
    both = Exposure("/", aws=AWS.aws, gcp=GCP.gcp)
    with pytest.raises(ValueError, match="exactly one"):
        edge.expose_service("x", exposure=both, namespace="n", service_name="s",
                            service_port=1, labels={}, opts=pulumi.ResourceOptions())
