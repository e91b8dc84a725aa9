"""Mock outputs for pulumi-kubernetes resources."""

from __future__ import annotations

from typing import Any

from hastack.plan.mocks import PREFIX_OUTPUT_RULES, MockContext, outputs_for


def _generic(context: MockContext) -> dict[str, Any]:
    metadata = dict(context.inputs.get("metadata") or {})
    metadata.setdefault("name", context.name)
    metadata.setdefault("uid", context.digest(32))
    namespace = metadata.get("namespace")
    resource_id = f"{namespace}/{metadata['name']}" if namespace else metadata["name"]
    return {"id": resource_id, "metadata": metadata}


PREFIX_OUTPUT_RULES.append(("kubernetes:", _generic))


@outputs_for("kubernetes:networking.k8s.io/v1:Ingress")
def _ingress(context: MockContext) -> dict[str, Any]:
    # The address an ingress controller publishes once its load balancer exists.
    # `.invalid` (RFC 2606) so a mock address can never resolve.
    name = (context.inputs.get("metadata") or {}).get("name") or context.name
    hostname = f"{name}-{context.digest(10)}.lb.hastack.invalid"
    return {"status": {"loadBalancer": {"ingress": [{"hostname": hostname}]}}}


@outputs_for("kubernetes:helm.sh/v3:Release")
def _release(context: MockContext) -> dict[str, Any]:
    inputs = context.inputs
    name = str(inputs.get("name") or context.name)
    namespace = str(inputs.get("namespace") or "default")
    return {
        "id": f"{namespace}/{name}",
        "status": {
            "name": name,
            "namespace": namespace,
            "chart": inputs.get("chart", ""),
            "version": inputs.get("version", ""),
            "revision": 1,
            "status": "deployed",
        },
    }
