"""Cloud identities that let specific Kubernetes service accounts use the artifact bucket.

No static keys anywhere: on AWS the pods get a web-identity token for an IAM role
(IRSA), on GCP they impersonate a Google service account (Workload Identity). In
both cases the trust is restricted to the *exact* service accounts listed, never
to a namespace or to the whole cluster, and the permissions to the one bucket.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from components.base import Tier, standard_tags
from components.k8s.wiring import ArtifactStore

IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
WORKLOAD_IDENTITY_ANNOTATION = "iam.gke.io/gcp-service-account"


@dataclass(frozen=True)
class ServiceAccountRef:
    """A Kubernetes service account, as the cloud's token exchange names it."""

    namespace: str
    name: str

    @property
    def irsa_subject(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.name}"

    def workload_identity_member(self, project: str) -> str:
        return f"serviceAccount:{project}.svc.id.goog[{self.namespace}/{self.name}]"


@dataclass(frozen=True)
class ArtifactIdentity:
    """What the chart must put on the service accounts: one annotation."""

    annotation_key: str
    annotation_value: pulumi.Output[str]

    def annotations(self) -> dict[str, pulumi.Output[str]]:
        return {self.annotation_key: self.annotation_value}


def artifact_identity(name: str, store: ArtifactStore, accounts: Sequence[ServiceAccountRef],
                      tier: Tier, parent: pulumi.Resource, purpose: str = "Argo Workflows"
                      ) -> ArtifactIdentity:
    """The IRSA role (AWS) or Workload Identity service account (GCP) for `accounts`."""
    if not accounts:
        raise ValueError("artifact access needs at least one service account")
    if store.cloud == "aws":
        return _irsa_role(name, store, accounts, tier, parent, purpose)
    return _workload_identity(name, store, accounts, parent, purpose)


# --- AWS: IRSA ---------------------------------------------------------------------------


def _strip_scheme(issuer: str) -> str:
    # The condition keys are "<issuer host/path>:sub"; a leading https:// never matches.
    return issuer.removeprefix("https://")


def irsa_trust_policy(provider_arn: str, issuer: str, subjects: Sequence[str]) -> str:
    """Trust only the cluster's OIDC provider, only for STS, only for these accounts."""
    host = _strip_scheme(issuer)
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ExactServiceAccountsOnly",
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                f"{host}:sub": sorted(subjects),
                f"{host}:aud": "sts.amazonaws.com",
            }},
        }],
    }, sort_keys=True)


def bucket_access_policy(partition: str, bucket: str, region: str, kms_key_arn: str | None
                         ) -> str:
    """Read/write/delete objects in one bucket (+ its KMS key, only through S3)."""
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    statements: list[dict[str, Any]] = [
        {"Sid": "ListTheBucket", "Effect": "Allow",
         "Action": ["s3:ListBucket", "s3:GetBucketLocation"], "Resource": bucket_arn},
        # DeleteObject: Argo's artifact garbage collection removes what workflows wrote.
        {"Sid": "ObjectsInTheBucket", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
         "Resource": f"{bucket_arn}/*"},
    ]
    if kms_key_arn:
        statements.append({
            "Sid": "BucketKeyViaS3", "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": kms_key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
        })
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def _irsa_role(name: str, store: ArtifactStore, accounts: Sequence[ServiceAccountRef],
               tier: Tier, parent: pulumi.Resource, purpose: str) -> ArtifactIdentity:
    # Imported here: a GCP plan should not pay for loading the AWS SDK (and vice versa).
    import pulumi_aws as aws

    if store.aws_oidc_provider_arn is None or store.aws_oidc_issuer is None:
        raise ValueError("IRSA needs ArtifactStore.aws_oidc_provider_arn and aws_oidc_issuer")
    opts = pulumi.ResourceOptions(parent=parent, provider=store.aws_provider)
    subjects = [account.irsa_subject for account in accounts]
    provider_arn = pulumi.Output.from_input(store.aws_oidc_provider_arn)
    trust = pulumi.Output.all(provider_arn, store.aws_oidc_issuer).apply(
        lambda parts: irsa_trust_policy(str(parts[0]), str(parts[1]), subjects))
    role = aws.iam.Role(
        f"{name}-artifacts",
        assume_role_policy=trust,
        description=f"{purpose} artifact access (IRSA) for exact service accounts",
        max_session_duration=3600,
        tags=standard_tags(tier, "ArgoWorkflows" if purpose == "Argo Workflows"
                           else "PrefectServer"),
        opts=opts,
    )
    # The partition comes from the provider ARN so GovCloud/China need no special case.
    partition = provider_arn.apply(lambda arn: arn.split(":")[1] if arn.count(":") > 1 else "aws")
    policy = pulumi.Output.all(partition, store.bucket, store.aws_kms_key_arn).apply(
        lambda parts: bucket_access_policy(str(parts[0]), str(parts[1]), store.region,
                                           str(parts[2]) if parts[2] else None))
    aws.iam.RolePolicy(f"{name}-artifacts-bucket", role=role.id, policy=policy, opts=opts)
    return ArtifactIdentity(IRSA_ANNOTATION, role.arn)


# --- GCP: Workload Identity --------------------------------------------------------------


def gcp_account_id(name: str, prefix: str = "argo-art") -> str:
    """A valid, stable account id (6-30 chars, [a-z][-a-z0-9]*) derived from `name`."""
    return f"{prefix}-{hashlib.sha256(name.encode()).hexdigest()[:12]}"


def _workload_identity(name: str, store: ArtifactStore, accounts: Sequence[ServiceAccountRef],
                       parent: pulumi.Resource, purpose: str) -> ArtifactIdentity:
    import pulumi_gcp as gcp  # only GCP plans load the GCP SDK

    if not store.gcp_project:
        raise ValueError("Workload Identity needs ArtifactStore.gcp_project")
    project = store.gcp_project
    opts = pulumi.ResourceOptions(parent=parent, provider=store.gcp_provider)
    account = gcp.serviceaccount.Account(
        f"{name}-artifacts",
        account_id=gcp_account_id(
            name, "argo-art" if purpose == "Argo Workflows" else "flow-art"),
        display_name=f"{purpose} artifact access (Workload Identity)",
        project=project,
        opts=opts,
    )
    # GCP derives the e-mail from account id and project; spelling it out keeps the
    # annotation known at preview time.
    email = account.account_id.apply(
        lambda account_id: f"{account_id}@{project}.iam.gserviceaccount.com")
    for ref in accounts:
        gcp.serviceaccount.IAMMember(
            f"{name}-wi-{ref.name}",
            service_account_id=account.name,
            role="roles/iam.workloadIdentityUser",
            member=ref.workload_identity_member(project),
            opts=opts,
        )
    gcp.storage.BucketIAMMember(
        f"{name}-artifacts-bucket",
        bucket=store.bucket,
        role="roles/storage.objectAdmin",
        member=email.apply(lambda value: f"serviceAccount:{value}"),
        opts=opts,
    )
    return ArtifactIdentity(WORKLOAD_IDENTITY_ANNOTATION, email)
