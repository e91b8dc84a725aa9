"""Mock outputs and data sources for pulumi-gcp resources."""

from __future__ import annotations

from typing import Any

from hastack.config.regions import GCP_REGION_ZONES, zones_of
from hastack.plan.mocks import PREFIX_OUTPUT_RULES, MockContext, invoke


def _generic(context: MockContext) -> dict[str, Any]:
    name = str(context.inputs.get("name") or f"{context.name}-{context.digest(7)}")
    project = context.inputs.get("project") or context.project or "mock-project"
    location = context.inputs.get("location") or context.inputs.get("region") or context.region
    return {
        "id": f"projects/{project}/locations/{location}/{context.name}",
        "name": name,
        "selfLink": f"https://www.googleapis.com/mock/v1/projects/{project}/{name}",
        "project": project,
    }


PREFIX_OUTPUT_RULES.append(("gcp:", _generic))


@invoke("gcp:compute/getZones:getZones")
def _zones(args: dict[str, Any], context: MockContext) -> dict[str, Any]:
    region = args.get("region") or context.region or "us-central1"
    names = zones_of("gcp", region) if region in GCP_REGION_ZONES else [f"{region}-a"]
    return {"names": names, "id": region, "region": region,
            "project": args.get("project") or context.project}


@invoke("gcp:organizations/getProject:getProject")
def _project(args: dict[str, Any], context: MockContext) -> dict[str, Any]:
    project = args.get("projectId") or context.project or "mock-project"
    return {"projectId": project, "number": "123456789012", "name": project, "id": project}


@invoke("gcp:organizations/getClientConfig:getClientConfig")
def _client_config(_args: dict[str, Any], context: MockContext) -> dict[str, Any]:
    return {"project": context.project or "mock-project", "region": context.region or "",
            "accessToken": "mock-access-token", "id": "client-config", "zone": ""}
