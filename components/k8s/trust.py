"""Trusting a private CA in the orchestrator's pods (Memorystore's server CA).

ElastiCache presents certificates from a public CA, so the image's system bundle
verifies them. Memorystore's in-transit encryption uses a per-instance private
CA, which no image trusts. Replacing the system bundle would break every other
TLS connection, so an init container writes a bundle of the image's system CAs
plus the private CA to an emptyDir, and `SSL_CERT_FILE` points Python's default
SSL context (which redis-py uses for `rediss://`) at it.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

CA_CONFIGMAP = "hastack-redis-ca"
CA_KEY = "ca.pem"
BUNDLE_DIR = "/etc/hastack/trust"
BUNDLE_FILE = f"{BUNDLE_DIR}/ca-bundle.pem"
# Where Debian-based images (the Prefect images are) keep the system CA bundle.
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def ca_configmap(resource_name: str, *, namespace: pulumi.Input[str],
                 ca_certificate: pulumi.Input[str], labels: dict[str, str],
                 opts: pulumi.ResourceOptions) -> k8s.core.v1.ConfigMap:
    """The private CA as a ConfigMap: a CA certificate is public, not a secret."""
    return k8s.core.v1.ConfigMap(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=CA_CONFIGMAP, namespace=namespace,
                                            labels=labels),
        data={CA_KEY: ca_certificate},
        opts=opts,
    )


def pod_trust_values(image: str) -> dict[str, Any]:
    """Chart values (per pod section) that make the pod trust the CA in `CA_CONFIGMAP`."""
    return {
        "extraVolumes": [
            {"name": "private-ca", "configMap": {"name": CA_CONFIGMAP}},
            {"name": "trust-bundle", "emptyDir": {"sizeLimit": "1Mi"}},
        ],
        "extraInitContainers": [{
            "name": "trust-bundle",
            "image": image,
            "command": ["sh", "-c",
                        f"cat {SYSTEM_BUNDLE} /private-ca/{CA_KEY} > {BUNDLE_DIR}/ca-bundle.pem"],
            "volumeMounts": [
                {"name": "private-ca", "mountPath": "/private-ca", "readOnly": True},
                {"name": "trust-bundle", "mountPath": BUNDLE_DIR},
            ],
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"},
                          "limits": {"cpu": "100m", "memory": "32Mi"}},
            # Reads world-readable files and writes to an emptyDir: nobody needs no rights.
            "securityContext": {"runAsNonRoot": True, "runAsUser": 65534,
                                "allowPrivilegeEscalation": False,
                                "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]}},
        }],
        "extraVolumeMounts": [
            {"name": "trust-bundle", "mountPath": BUNDLE_DIR, "readOnly": True},
        ],
        "env": [{"name": "SSL_CERT_FILE", "value": BUNDLE_FILE}],
    }
