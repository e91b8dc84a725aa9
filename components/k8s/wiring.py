"""What a cloud platform hands the orchestrator releases.

The AWS and GCP platforms build the same `OrchestratorWiring`, so the Prefect and
Argo components never branch on cloud except for workload identity (IRSA on AWS,
Workload Identity on GCP), which `ArtifactStore` carries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

from components.base import Tier


@dataclass(frozen=True)
class DatabaseEndpoint:
    """PostgreSQL the orchestrator stores its state in. `password` is a Pulumi secret."""

    host: pulumi.Input[str]
    port: pulumi.Input[int]
    database: str
    username: str
    password: pulumi.Output[str]
    # Why TLS: Aurora enforces rds.force_ssl=1 and Cloud SQL ENCRYPTED_ONLY.
    ssl_mode: str = "require"


@dataclass(frozen=True)
class CacheEndpoint:
    """Redis (ElastiCache or Memorystore), always TLS with an AUTH token (a Pulumi secret)."""

    host: pulumi.Input[str]
    port: pulumi.Input[int]
    auth_token: pulumi.Output[str]
    tls: bool = True
    # Memorystore's server CA must be trusted explicitly; ElastiCache uses a public CA.
    ca_certificate: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class ArtifactStore:
    """The artifact bucket and the identity plumbing to reach it without static keys."""

    cloud: Literal["aws", "gcp"]
    bucket: pulumi.Input[str]
    region: str
    # AWS (IRSA): the cluster's OIDC provider and issuer (without https://), and the bucket's key.
    aws_oidc_provider_arn: pulumi.Input[str] | None = None
    aws_oidc_issuer: pulumi.Input[str] | None = None
    aws_kms_key_arn: pulumi.Input[str] | None = None
    aws_provider: pulumi.ProviderResource | None = None
    # GCP (Workload Identity): project that owns the bucket and the cluster's workload pool.
    gcp_project: str | None = None
    gcp_provider: pulumi.ProviderResource | None = None


@dataclass(frozen=True)
class AppCredentials:
    """The orchestrator's own credentials, generated once per environment (not per region).

    Once, because both regions must agree: the database role and its password live in
    the primary database and replicate to the standby's replica, and users and workers
    keep the same API password when DNS fails over. Values are Pulumi secrets.
    """

    database_role: str
    database_name: str
    database_password: pulumi.Output[str]
    # Prefect's HTTP basic auth password (user `API_AUTH_USER`); None for Argo.
    api_password: pulumi.Output[str] | None = None


@dataclass(frozen=True)
class AwsExposure:
    """The region's ALB target group (infrastructure layer) the pods are registered in."""

    target_group_arn: pulumi.Input[str]
    # The AWS Load Balancer Controller release: its webhook admits TargetGroupBindings.
    controller: pulumi.Resource | None = None


@dataclass(frozen=True)
class GcpExposure:
    """The region's reserved IP and Certificate Manager certificate (infrastructure layer)."""

    address_name: pulumi.Input[str]
    certificate_name: pulumi.Input[str]
    # The names the listener serves: the shared one and this region's own.
    hostnames: Sequence[str]


@dataclass(frozen=True)
class Exposure:
    """How the orchestrator's UI/API Service is reached from the internet (one cloud set)."""

    health_path: str
    aws: AwsExposure | None = None
    gcp: GcpExposure | None = None


@dataclass(frozen=True)
class OrchestratorWiring:
    """One region's orchestrator deployment inputs."""

    name: str
    tier: Tier
    orchestrator: Literal["prefect", "argo"]
    # "primary" serves traffic; "standby" is the warm standby in the secondary region.
    role: Literal["primary", "standby"]
    region: str
    zones: list[str]
    kubernetes_provider: k8s.Provider
    public_hostname: str
    database: DatabaseEndpoint | None
    cache: CacheEndpoint | None
    artifacts: ArtifactStore | None
    server_replicas: int = 2
    worker_replicas: int = 2
    # Upper bound of the workers' HPA (its minimum is worker_replicas).
    worker_max_replicas: int = 4
    controller_replicas: int = 2
    work_pool: str = "kubernetes-pool"
    labels: dict[str, str] = field(default_factory=dict)
    # None: the orchestrator logs in as `database.username` (the master user); the
    # platforms always pass credentials (see components/k8s/credentials.py).
    credentials: AppCredentials | None = None
    # None: the Service stays cluster-internal (no public edge in this stack).
    exposure: Exposure | None = None
    # Changes whenever a credential is rotated; stamped on the pods that read the
    # credential Secrets, so a rotation rolls them (env from a Secret is read once).
    credentials_revision: str | None = None
    # Labels a Prometheus selects ServiceMonitors by; empty = no ServiceMonitor (the
    # prometheus-operator CRDs would be missing and the release would fail).
    service_monitor_labels: dict[str, str] = field(default_factory=dict)
    # Releases the orchestrator's own releases must wait for (the monitoring stack,
    # whose CRDs the ServiceMonitor needs). A component's depends_on does not reach
    # its children, so the components add these to their Helm releases.
    release_depends_on: tuple[pulumi.Resource, ...] = ()
    # What `database` is on a standby before its region is promoted (see the
    # `_standby_overrides` of argo.py and prefect.py):
    #   "replica": the region's read replica, readable now and writable in place once
    #       promoted (GCP: the Cloud SQL replica keeps its IP); `hastack failover`
    #       scales the standby's pods itself;
    #   "global-writer": the Aurora global writer endpoint, which answers from this
    #       region only after the switchover (no cross-region connectivity): nothing
    #       may connect before, and an ARC Region switch execution scales the
    #       standby's Deployments to the active region's counts in place.
    standby_database: Literal["replica", "global-writer"] = "replica"


REVISION_ANNOTATION = "hastack.io/credentials-revision"


def revision_annotations(wiring: OrchestratorWiring) -> dict[str, str]:
    """Pod annotations that change with the credentials (empty before any rotation)."""
    if not wiring.credentials_revision:
        return {}
    return {REVISION_ANNOTATION: wiring.credentials_revision}
