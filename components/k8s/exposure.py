"""Register an orchestrator's UI/API Service with the region's edge (the workloads side).

The load balancer, its certificate, address and DNS belong to the infrastructure
layer (components/aws/edge.py, components/gcp/edge.py); here the cluster only
attaches the pods to it, with resources that need no in-cluster controller we
would have to install besides the cloud's own:

* AWS: a `TargetGroupBinding` (elbv2.k8s.aws/v1beta1, AWS Load Balancer Controller)
  that keeps the Service's pod IPs registered in the ALB target group. `targetType`
  is `ip`, as the target group's. No `networking` block: the security-group rule
  that lets the ALB reach the pods is the edge's, so one owner manages it. The
  controller's webhook admits the object, so it depends on the controller release.
* GCP: a Gateway of GKE's managed class `gke-l7-regional-external-managed` on the
  reserved regional address (`NamedAddress`) with an HTTPS listener terminating TLS
  with the Certificate Manager certificate (the listener option
  `networking.gke.io/cert-manager-certs`, which regional Gateways take), an HTTPRoute
  to the Service, and a `HealthCheckPolicy` so the load balancer probes the
  orchestrator's health path instead of `/`.

None of these has a Pulumi await (they are custom resources), so a missing
controller shows up as the custom resource's status, not as a ten-minute hang.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from components.k8s.wiring import AwsExposure, Exposure, GcpExposure

TARGET_GROUP_BINDING_API = "elbv2.k8s.aws/v1beta1"
GATEWAY_API = "gateway.networking.k8s.io/v1"
GKE_POLICY_API = "networking.gke.io/v1"
GKE_REGIONAL_EXTERNAL_CLASS = "gke-l7-regional-external-managed"
CERT_MANAGER_CERTS_OPTION = "networking.gke.io/cert-manager-certs"
HTTPS_LISTENER = "https"


def expose_service(resource_name: str, *, exposure: Exposure | None,
                   namespace: pulumi.Input[str], service_name: str, service_port: int,
                   labels: Mapping[str, str], opts: pulumi.ResourceOptions
                   ) -> list[pulumi.Resource]:
    """The resources that put `service_name:service_port` behind the region's edge."""
    if exposure is None:
        return []
    if (exposure.aws is None) == (exposure.gcp is None):
        raise ValueError("Exposure needs exactly one of aws or gcp")
    if exposure.aws is not None:
        return [target_group_binding(resource_name, exposure.aws, namespace=namespace,
                                     service_name=service_name, service_port=service_port,
                                     labels=labels, opts=opts)]
    assert exposure.gcp is not None
    return gke_gateway(resource_name, exposure.gcp, health_path=exposure.health_path,
                       namespace=namespace, service_name=service_name,
                       service_port=service_port, labels=labels, opts=opts)


def target_group_binding(resource_name: str, aws: AwsExposure, *, namespace: pulumi.Input[str],
                         service_name: str, service_port: int, labels: Mapping[str, str],
                         opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    after = pulumi.ResourceOptions(depends_on=[aws.controller]) if aws.controller else None
    return k8s.apiextensions.CustomResource(
        f"{resource_name}-tgb",
        api_version=TARGET_GROUP_BINDING_API, kind="TargetGroupBinding",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=service_name, namespace=namespace,
                                            labels=dict(labels)),
        spec={
            "serviceRef": {"name": service_name, "port": service_port},
            "targetGroupARN": aws.target_group_arn,
            "targetType": "ip",
        },
        opts=pulumi.ResourceOptions.merge(opts, after))


def gke_gateway(resource_name: str, gcp: GcpExposure, *, health_path: str,
                namespace: pulumi.Input[str], service_name: str, service_port: int,
                labels: Mapping[str, str], opts: pulumi.ResourceOptions
                ) -> list[pulumi.Resource]:
    meta = k8s.meta.v1.ObjectMetaArgs(name=service_name, namespace=namespace,
                                      labels=dict(labels))
    gateway = k8s.apiextensions.CustomResource(
        f"{resource_name}-gateway", api_version=GATEWAY_API, kind="Gateway", metadata=meta,
        spec={
            "gatewayClassName": GKE_REGIONAL_EXTERNAL_CLASS,
            "addresses": [{"type": "NamedAddress", "value": gcp.address_name}],
            "listeners": [{
                "name": HTTPS_LISTENER, "protocol": "HTTPS", "port": 443,
                "tls": {"mode": "Terminate",
                        "options": {CERT_MANAGER_CERTS_OPTION: gcp.certificate_name}},
                # Only routes of this namespace attach: nobody else can publish here.
                "allowedRoutes": {"namespaces": {"from": "Same"}},
            }],
        },
        opts=opts)
    route = k8s.apiextensions.CustomResource(
        f"{resource_name}-route", api_version=GATEWAY_API, kind="HTTPRoute", metadata=meta,
        spec={
            "parentRefs": [{"name": service_name, "sectionName": HTTPS_LISTENER}],
            "hostnames": list(gcp.hostnames),
            "rules": [{"backendRefs": [{"name": service_name, "port": service_port}]}],
        },
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[gateway])))
    health = k8s.apiextensions.CustomResource(
        f"{resource_name}-health", api_version=GKE_POLICY_API, kind="HealthCheckPolicy",
        metadata=meta,
        spec={
            "default": {
                "checkIntervalSec": 5, "timeoutSec": 5,
                "healthyThreshold": 2, "unhealthyThreshold": 2,
                "config": {"type": "HTTP",
                           "httpHealthCheck": {"portSpecification": "USE_FIXED_PORT",
                                               "port": service_port,
                                               "requestPath": health_path}},
            },
            "targetRef": {"group": "", "kind": "Service", "name": service_name},
        },
        opts=opts)
    return [gateway, route, health]
