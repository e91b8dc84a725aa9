"""Google-managed service agents that must be allowed to use a customer-managed key.

A CMEK-protected resource is encrypted by the *service's* agent, not by the
deployer, so every key grants `roles/cloudkms.cryptoKeyEncrypterDecrypter` to the
agent of the service that uses it. The agents are per project and named from the
project *number*, which is looked up once per component.

Cloud SQL's agent is only created on first use of the API, so it is created
explicitly with a `ServiceIdentity` (Cloud SQL's CMEK guide asks for exactly this
step); Cloud Storage's is returned (and created) by its own data source. GKE's and
Memorystore's agents exist as soon as their APIs are enabled.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp

# Domain of each service agent: service-<project number>@<domain>.
AGENT_DOMAINS = {
    "container": "container-engine-robot.iam.gserviceaccount.com",
    "redis": "cloud-redis.iam.gserviceaccount.com",
}


def project_number(project: str, parent: pulumi.Resource,
                   provider: pulumi.ProviderResource | None,
                   depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.Output[str]:
    # `depends_on`: the project's APIs. An invoke does not inherit its parent
    # component's dependencies (pulumi/pulumi#24436), so it is passed explicitly.
    result = gcp.organizations.get_project_output(
        project_id=project,
        opts=pulumi.InvokeOutputOptions(parent=parent, provider=provider,
                                        depends_on=list(depends_on) or None),
    )
    return result.number


def agent_member(service: str, number: pulumi.Input[str]) -> pulumi.Output[str]:
    """IAM member string of a service agent named from the project number."""
    domain = AGENT_DOMAINS[service]
    return pulumi.Output.concat("serviceAccount:service-", number, "@", domain)


def cloudsql_agent(name: str, project: str, parent: pulumi.Resource,
                   provider: pulumi.ProviderResource | None) -> gcp.projects.ServiceIdentity:
    """Make sure Cloud SQL's service agent exists before a key is granted to it."""
    return gcp.projects.ServiceIdentity(
        f"{name}-sqladmin-agent",
        project=project,
        service="sqladmin.googleapis.com",
        opts=pulumi.ResourceOptions(parent=parent, provider=provider),
    )


def storage_agent_member(project: str, parent: pulumi.Resource,
                         provider: pulumi.ProviderResource | None,
                         depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.Output[str]:
    result = gcp.storage.get_project_service_account_output(
        project=project,
        opts=pulumi.InvokeOutputOptions(parent=parent, provider=provider,
                                        depends_on=list(depends_on) or None),
    )
    return result.member
