"""The Google APIs a fresh project must have enabled before anything else is created.

A new project has almost none of them on, and the first resource of a disabled API
fails with "API has not been used in project ... or it is disabled". Every
component of the GCP platform depends on these, so `pulumi up` on a fresh project
enables them first. `disable_on_destroy=False`: destroying the stack (or removing
an API from this list) must never switch off an API that other workloads in the
project may use.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp

TYPE_TOKEN = "hastack:gcp:ProjectServices"

# Each API with the resources that need it. Enabling an API through the Service
# Usage API needs serviceusage.googleapis.com itself, which a new project has on.
REQUIRED_APIS: tuple[tuple[str, str], ...] = (
    ("compute.googleapis.com", "VPC, subnets, Cloud NAT, addresses, health checks"),
    ("container.googleapis.com", "GKE clusters and node pools"),
    ("binaryauthorization.googleapis.com", "the project's Binary Authorization policy"),
    ("sqladmin.googleapis.com", "Cloud SQL instances, databases, users"),
    ("servicenetworking.googleapis.com", "private services access for Cloud SQL/Memorystore"),
    ("redis.googleapis.com", "Memorystore for Redis"),
    ("cloudkms.googleapis.com", "customer-managed keys"),
    ("secretmanager.googleapis.com", "database and cache credentials"),
    ("dns.googleapis.com", "Cloud DNS records and routing policies"),
    ("storage.googleapis.com", "artifact buckets"),
    ("iam.googleapis.com", "service accounts"),
    ("iamcredentials.googleapis.com", "Workload Identity token exchange for pods"),
    ("cloudresourcemanager.googleapis.com", "project IAM bindings and the project number"),
    ("monitoring.googleapis.com", "GKE system metrics"),
    ("logging.googleapis.com", "GKE and Cloud SQL logs"),
)

DEFAULT_APIS: tuple[str, ...] = tuple(entry[0] for entry in REQUIRED_APIS)


class ProjectServices(pulumi.ComponentResource):
    """Enable `apis` on `project`; other components depend on `self.services`."""

    services: list[gcp.projects.Service]

    def __init__(self, name: str, project: str,
                 apis: Sequence[str] = DEFAULT_APIS,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        if len(set(apis)) != len(apis):
            raise ValueError("ProjectServices: each API may be listed once")
        self.services = [
            gcp.projects.Service(
                f"{name}-{api.split('.')[0]}", project=project, service=api,
                disable_on_destroy=False,
                opts=pulumi.ResourceOptions(parent=self))
            for api in apis
        ]
        self.register_outputs({"services": list(apis)})
