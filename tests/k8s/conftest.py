"""Wirings as the cloud platforms would build them, and recorded plans of the components."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pytest

from components.base import Tier
from components.k8s.orchestrator import OrchestratorDeployment, deploy_orchestrator
from components.k8s.wiring import (
    ArtifactStore,
    AwsExposure,
    CacheEndpoint,
    DatabaseEndpoint,
    Exposure,
    GcpExposure,
    OrchestratorWiring,
)
from hastack.plan.recorder import Registration
from hastack.plan.runner import Recording, run_program

# Every secret in the fake wirings starts with this, so a leak is easy to find.
SECRET_PREFIX = "s3cr3t-"
DB_PASSWORD = f"{SECRET_PREFIX}db-p@ss/word:1"
REDIS_TOKEN = f"{SECRET_PREFIX}redis-token"

KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: "https://k8s.test.invalid"}}]
contexts: [{name: test, context: {cluster: test, user: test}}]
current-context: test
users: [{name: test, user: {token: not-a-real-token}}]
"""

OIDC_ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123456789"
OIDC_PROVIDER_ARN = f"arn:aws:iam::123456789012:oidc-provider/{OIDC_ISSUER}"
KMS_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
AWS_BUCKET = "hastack-artifacts-use1"
GCP_BUCKET = "hastack-artifacts-usc1"
GCP_PROJECT = "hastack-test"


TARGET_GROUP_ARN = ("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/"
                    "hastack-prod-use1-tg/0123456789abcdef")
EDGE_ADDRESS_NAME = "hastack-prod-us-central1-edge"
EDGE_CERTIFICATE_NAME = "hastack-prod-us-central1-edge"
EDGE_HOSTNAMES = ["workflows.example.com", "workflows-us-central1.example.com"]


def exposure(cloud: str, health_path: str = "/api/health") -> Exposure:
    """The region's edge as the infrastructure layer hands it over."""
    if cloud == "aws":
        return Exposure(health_path, aws=AwsExposure(target_group_arn=TARGET_GROUP_ARN))
    return Exposure(health_path, gcp=GcpExposure(
        address_name=EDGE_ADDRESS_NAME, certificate_name=EDGE_CERTIFICATE_NAME,
        hostnames=EDGE_HOSTNAMES))


PRIVATE_CA = ("-----BEGIN CERTIFICATE-----\nTU9DSy1NRU1PUllTVE9SRS1DQQ==\n"
              "-----END CERTIFICATE-----\n")


def artifact_store(cloud: str) -> ArtifactStore:
    if cloud == "aws":
        return ArtifactStore(
            cloud="aws", bucket=AWS_BUCKET, region="us-east-1",
            aws_oidc_provider_arn=OIDC_PROVIDER_ARN, aws_oidc_issuer=OIDC_ISSUER,
            aws_kms_key_arn=KMS_KEY_ARN,
            aws_provider=aws.Provider("aws-use1", region="us-east-1"))
    return ArtifactStore(
        cloud="gcp", bucket=GCP_BUCKET, region="us-central1", gcp_project=GCP_PROJECT,
        gcp_provider=gcp.Provider("gcp-usc1", project=GCP_PROJECT, region="us-central1"))


def make_wiring(orchestrator: str, *, cloud: str = "aws", tier: Tier = "prod",
                role: str = "primary", **overrides: Any) -> OrchestratorWiring:
    """A wiring like the platforms hand over; call inside a running program."""
    region = "us-east-1" if cloud == "aws" else "us-central1"
    fields: dict[str, Any] = {
        "name": f"hastack-{region}-{role}",
        "tier": tier,
        "orchestrator": orchestrator,
        "role": role,
        "region": region,
        "zones": [f"{region}a", f"{region}b", f"{region}c"],
        "kubernetes_provider": k8s.Provider("k8s", kubeconfig=KUBECONFIG),
        "public_hostname": f"{orchestrator}.{region}.workflows.example.com",
        "database": DatabaseEndpoint(
            host=f"db.{region}.example.internal", port=5432, database=orchestrator,
            username=orchestrator, password=pulumi.Output.secret(DB_PASSWORD)),
        "cache": CacheEndpoint(host=f"redis.{region}.example.internal", port=6379,
                               auth_token=pulumi.Output.secret(REDIS_TOKEN),
                               # Memorystore's per-instance CA; ElastiCache uses a public one.
                               ca_certificate=PRIVATE_CA if cloud == "gcp" else None),
        "artifacts": artifact_store(cloud),
        "exposure": exposure(cloud),
        # As the workloads stack sets it (components/workloads/platform.py).
        "standby_database": "global-writer" if cloud == "aws" else "replica",
    }
    fields.update(overrides)
    return OrchestratorWiring(**fields)


def record(orchestrator: str, **kwargs: Any) -> Recording:
    """Plan `deploy_orchestrator` for one wiring; exports what it returns."""

    def program() -> None:
        deployment: OrchestratorDeployment = deploy_orchestrator(
            make_wiring(orchestrator, **kwargs), pulumi.ResourceOptions())
        pulumi.export("namespace", deployment.namespace)
        pulumi.export("serviceHostname", deployment.service_hostname)

    return run_program(program, project="hastack", stack="test", config={})


of_type = Recording.of_type


def release(recording: Recording, release_name: str) -> Registration:
    (found,) = [r for r in of_type(recording, "kubernetes:helm.sh/v3:Release")
                if r.inputs.get("name") == release_name]
    return found


def walk_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every (path, string) in a nested structure."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk_strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk_strings(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


@pytest.fixture(scope="session")
def recorder() -> Callable[..., Recording]:
    """Plans are pure functions of their arguments: record each combination once."""
    cache: dict[tuple[Any, ...], Recording] = {}

    def get(orchestrator: str, **kwargs: Any) -> Recording:
        key = (orchestrator, *sorted(kwargs.items()))
        if key not in cache:
            cache[key] = record(orchestrator, **kwargs)
        return cache[key]

    return get
