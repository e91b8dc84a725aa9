"""The public HTTPS entry point of an orchestrator UI/API.

We create the Ingress ourselves instead of enabling the charts' own: a chart's
Ingress is invisible to the Helm Release resource, so its load-balancer address
could not become `public_endpoint`, and Pulumi's Ingress await (which waits for
`status.loadBalancer`) doubles as a "the UI is reachable" readiness gate.

Out of scope (must exist in the cluster): an ingress controller serving
`IngressSettings.class_name` and cert-manager with the ClusterIssuer named in
`IngressSettings.cluster_issuer`, which issues the TLS certificate into the
Secret named by `tls_secret_name`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class IngressSettings:
    """How the cluster exposes HTTPS (defaults: ingress-nginx + cert-manager)."""

    class_name: str = "nginx"
    cluster_issuer: str = "hastack-public"
    extra_annotations: Mapping[str, str] = field(default_factory=dict)

    def annotations(self) -> dict[str, str]:
        return {
            # cert-manager watches this and keeps the TLS Secret issued and renewed.
            "cert-manager.io/cluster-issuer": self.cluster_issuer,
            # Never serve the UI or API (bearer tokens, basic auth) over plain HTTP.
            "nginx.ingress.kubernetes.io/ssl-redirect": "true",
            "nginx.ingress.kubernetes.io/force-ssl-redirect": "true",
            # Prefect's event/log websockets and Argo's log streams are long-lived.
            "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
            "nginx.ingress.kubernetes.io/proxy-send-timeout": "3600",
            **self.extra_annotations,
        }


def tls_secret_name(hostname: str) -> str:
    return f"{hostname.replace('.', '-')}-tls"


def public_ingress(
    resource_name: str,
    *,
    name: str,
    hostname: str,
    namespace: pulumi.Input[str],
    service_name: str,
    service_port: int,
    labels: Mapping[str, str],
    settings: IngressSettings,
    opts: pulumi.ResourceOptions,
) -> k8s.networking.v1.Ingress:
    """A TLS Ingress for `hostname` routing everything to `service_name:service_port`."""
    backend = k8s.networking.v1.IngressBackendArgs(
        service=k8s.networking.v1.IngressServiceBackendArgs(
            name=service_name,
            port=k8s.networking.v1.ServiceBackendPortArgs(number=service_port),
        ),
    )
    return k8s.networking.v1.Ingress(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=name, namespace=namespace, labels=dict(labels),
            annotations=settings.annotations(),
        ),
        spec=k8s.networking.v1.IngressSpecArgs(
            ingress_class_name=settings.class_name,
            tls=[k8s.networking.v1.IngressTLSArgs(
                hosts=[hostname], secret_name=tls_secret_name(hostname))],
            rules=[k8s.networking.v1.IngressRuleArgs(
                host=hostname,
                http=k8s.networking.v1.HTTPIngressRuleValueArgs(paths=[
                    k8s.networking.v1.HTTPIngressPathArgs(
                        path="/", path_type="Prefix", backend=backend),
                ]),
            )],
        ),
        opts=opts,
    )


def load_balancer_address(ingress: k8s.networking.v1.Ingress) -> pulumi.Output[str]:
    """The address the ingress controller published (hostname on AWS, IP on GCP)."""

    def first_address(status: object) -> str:
        balancer = getattr(status, "load_balancer", None)
        entries = getattr(balancer, "ingress", None) or []
        for entry in entries:
            address = entry.hostname or entry.ip
            if address:
                return str(address)
        return ""

    return ingress.status.apply(first_address)
