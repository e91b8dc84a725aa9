"""Mock outputs for pulumi-kubernetes resources."""

from __future__ import annotations

from typing import Any

from hastack.plan.mocks import PREFIX_OUTPUT_RULES, MockContext


def _generic(context: MockContext) -> dict[str, Any]:
    metadata = dict(context.inputs.get("metadata") or {})
    metadata.setdefault("name", context.name)
    metadata.setdefault("uid", context.digest(32))
    namespace = metadata.get("namespace")
    resource_id = f"{namespace}/{metadata['name']}" if namespace else metadata["name"]
    return {"id": resource_id, "metadata": metadata}


PREFIX_OUTPUT_RULES.append(("kubernetes:", _generic))
