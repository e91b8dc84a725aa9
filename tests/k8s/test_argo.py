"""ArgoWorkflows: leader election, PDBs, archive, artifacts via IRSA/WI, CRDs, no leaked secrets."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from components.k8s import argo, charts, resilience
from components.k8s.identity import IRSA_ANNOTATION, WORKLOAD_IDENTITY_ANNOTATION
from hastack.plan.recorder import SECRET_MARKER, Registration
from hastack.plan.runner import Recording
from tests.k8s.conftest import (
    AWS_BUCKET,
    GCP_BUCKET,
    GCP_PROJECT,
    KMS_KEY_ARN,
    OIDC_ISSUER,
    OIDC_PROVIDER_ARN,
    SECRET_PREFIX,
    of_type,
    release,
    walk_strings,
)

Recorder = Callable[..., Recording]
EXPECTED_SUBJECTS = ["system:serviceaccount:argo:argo-workflow",
                     "system:serviceaccount:argo:argo-workflows-server"]


def values_of(recording: Recording) -> dict[str, Any]:
    return release(recording, argo.RELEASE).inputs["values"]


def one(recording: Recording, type_token: str) -> Registration:
    (found,) = of_type(recording, type_token)
    return found


@pytest.mark.parametrize(("tier", "server"), [("dev", 2), ("staging", 2), ("prod", 3)])
def test_ha_replicas_and_pdbs(recorder: Recorder, tier: str, server: int) -> None:
    values = values_of(recorder("argo", tier=tier))
    # >= 2 controllers is what turns on leader election in this chart.
    assert values["controller"]["replicas"] >= 2
    assert values["server"]["replicas"] == server
    for part in ("controller", "server"):
        # Enabled without a number, the chart renders `minAvailable: 0` (a no-op PDB).
        assert values[part]["pdb"] == {"enabled": True, "maxUnavailable": 1}


@pytest.mark.parametrize(("tier", "host_rule"), [("dev", "ScheduleAnyway"),
                                                  ("prod", "DoNotSchedule")])
def test_topology_spread(recorder: Recorder, tier: str, host_rule: str) -> None:
    values = values_of(recorder("argo", tier=tier))
    for part in ("controller", "server"):
        spread = {c["topologyKey"]: c for c in values[part]["topologySpreadConstraints"]}
        assert spread["topology.kubernetes.io/zone"]["whenUnsatisfiable"] == "ScheduleAnyway"
        assert spread["kubernetes.io/hostname"]["whenUnsatisfiable"] == host_rule
        # No labelSelector: the chart fills in each deployment's own selector.
        assert all("labelSelector" not in c for c in spread.values())
        assert set(values[part]["resources"]) == {"requests", "limits"}


def test_persistence_archive_and_offload(recorder: Recorder) -> None:
    recording = recorder("argo")
    persistence = values_of(recording)["controller"]["persistence"]
    assert persistence["archive"] is True and persistence["nodeStatusOffLoad"] is True
    pg = persistence["postgresql"]
    assert (pg["host"], pg["port"], pg["database"]) == ("db.us-east-1.example.internal", 5432,
                                                        "argo")
    assert pg["tableName"] == "argo_workflows"
    assert pg["ssl"] is True and pg["sslMode"] == "require"
    assert pg["userNameSecret"] == {"name": argo.DB_SECRET, "key": "username"}
    assert pg["passwordSecret"] == {"name": argo.DB_SECRET, "key": "password"}
    (secret,) = [r for r in of_type(recording, "kubernetes:core/v1:Secret")
                 if r.inputs["metadata"]["name"] == argo.DB_SECRET]
    assert secret.inputs["metadata"]["namespace"] == "argo"
    assert secret.inputs["stringData"] == SECRET_MARKER
    assert secret.urn in release(recording, argo.RELEASE).dependencies


def test_s3_artifacts_with_sdk_credentials_only(recorder: Recorder) -> None:
    values = values_of(recorder("argo", cloud="aws"))
    repo = values["artifactRepository"]
    assert repo["s3"] == {"bucket": AWS_BUCKET, "region": "us-east-1",
                          "endpoint": "s3.us-east-1.amazonaws.com", "insecure": False,
                          "useSDKCreds": True,
                          "keyFormat": resilience.ARGO_ARTIFACT_KEY_FORMAT}
    assert repo["archiveLogs"] is True
    assert values["useStaticCredentials"] is False
    text = json.dumps(values)
    for static in ("accessKeySecret", "secretKeySecret", "sessionTokenSecret",
                   "serviceAccountKeySecret"):
        assert static not in text


def test_irsa_trust_is_restricted_to_the_exact_service_accounts(recorder: Recorder) -> None:
    recording = recorder("argo", cloud="aws")
    role = one(recording, "aws:iam/role:Role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Federated": OIDC_PROVIDER_ARN}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {"StringEquals": {
        f"{OIDC_ISSUER}:sub": EXPECTED_SUBJECTS, f"{OIDC_ISSUER}:aud": "sts.amazonaws.com"}}
    assert "*" not in json.dumps(statement["Condition"])
    # The subjects are exactly the service accounts the chart creates and annotates.
    values = values_of(recording)
    namespace = release(recording, argo.RELEASE).inputs["namespace"]
    assert values["controller"]["workflowNamespaces"] == [namespace]
    annotated = {
        f"system:serviceaccount:{namespace}:{values[part]['serviceAccount']['name']}"
        for part in ("server", "workflow")
        if values[part]["serviceAccount"].get("annotations", {}).get(IRSA_ANNOTATION)
        == role.outputs["arn"]
    }
    assert sorted(annotated) == EXPECTED_SUBJECTS
    assert "annotations" not in values["controller"]["serviceAccount"]
    assert values["controller"]["workflowDefaults"]["spec"]["serviceAccountName"] == \
        argo.WORKFLOW_SA


def test_irsa_policy_is_scoped_to_the_bucket_and_its_key(recorder: Recorder) -> None:
    recording = recorder("argo", cloud="aws")
    policy = json.loads(one(recording, "aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    resources: set[str] = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        assert all("*" not in action for action in actions)
        resources.add(statement["Resource"])
    assert resources == {f"arn:aws:s3:::{AWS_BUCKET}", f"arn:aws:s3:::{AWS_BUCKET}/*",
                         KMS_KEY_ARN}
    (kms,) = [s for s in policy["Statement"] if s["Resource"] == KMS_KEY_ARN]
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}


def test_gcs_artifacts_with_workload_identity(recorder: Recorder) -> None:
    recording = recorder("argo", cloud="gcp")
    values = values_of(recording)
    assert values["artifactRepository"] == {
        "archiveLogs": True,
        "gcs": {"bucket": GCP_BUCKET, "keyFormat": resilience.ARGO_ARTIFACT_KEY_FORMAT}}
    account = one(recording, "gcp:serviceaccount/account:Account")
    email = f"{account.inputs['accountId']}@{GCP_PROJECT}.iam.gserviceaccount.com"
    bindings = of_type(recording, "gcp:serviceaccount/iAMMember:IAMMember")
    assert {b.inputs["role"] for b in bindings} == {"roles/iam.workloadIdentityUser"}
    assert sorted(b.inputs["member"] for b in bindings) == [
        f"serviceAccount:{GCP_PROJECT}.svc.id.goog[argo/argo-workflow]",
        f"serviceAccount:{GCP_PROJECT}.svc.id.goog[argo/argo-workflows-server]",
    ]
    bucket = one(recording, "gcp:storage/bucketIAMMember:BucketIAMMember")
    assert bucket.inputs["bucket"] == GCP_BUCKET
    assert bucket.inputs["role"] == "roles/storage.objectAdmin"
    assert bucket.inputs["member"] == f"serviceAccount:{email}"
    for part in ("server", "workflow"):
        assert values[part]["serviceAccount"]["annotations"] == {
            WORKLOAD_IDENTITY_ANNOTATION: email}
    assert not of_type(recording, "aws:iam/role:Role")


@pytest.mark.parametrize("tier", ["dev", "staging", "prod"])
def test_workflow_defaults_retry_collect_and_expire_per_tier(recorder: Recorder,
                                                             tier: str) -> None:
    spec = values_of(recorder("argo", tier=tier))["controller"]["workflowDefaults"]["spec"]
    table = resilience.RESILIENCE[tier]  # type: ignore[index]
    assert spec["serviceAccountName"] == argo.WORKFLOW_SA
    assert spec["retryStrategy"] == {
        "limit": str(table.step_retries), "retryPolicy": "Always",
        "backoff": {"duration": f"{table.backoff_seconds}s",
                    "factor": str(table.backoff_factor),
                    "cap": f"{table.backoff_cap_seconds}s"},
        "affinity": {"nodeAntiAffinity": {}}}
    assert spec["podGC"] == {"strategy": "OnWorkflowCompletion",
                             "deleteDelayDuration": table.pod_gc_delete_delay}
    assert spec["ttlStrategy"] == {"secondsAfterSuccess": table.ttl_after_success_seconds,
                                   "secondsAfterFailure": table.ttl_after_failure_seconds}
    assert spec["archiveLogs"] is True
    # Schema validation of these fields: tests/workflows/test_argo_templates.py.


def test_metrics_and_auth(recorder: Recorder) -> None:
    values = values_of(recorder("argo"))
    assert values["controller"]["metricsConfig"] == {"enabled": True}
    assert values["controller"]["serviceMonitor"] == {"enabled": False, "additionalLabels": {}}
    assert values["server"]["authModes"] == ["client"]


def test_service_monitor_carries_the_prometheus_selector_labels() -> None:
    from tests.k8s.conftest import record

    values = values_of(record("argo", service_monitor_labels={"release": "kube-prometheus-stack"}))
    assert values["controller"]["serviceMonitor"] == {
        "enabled": True, "additionalLabels": {"release": "kube-prometheus-stack"}}


def test_crds_never_downloaded_by_default(recorder: Recorder) -> None:
    assert values_of(recorder("argo"))["crds"] == {"install": True, "full": False, "keep": True}
    assert argo.crd_values("preinstalled") == {"install": False, "keep": True}
    assert argo.crd_values("mirror", "https://mirror.internal/crds")["upgradeJob"] == {
        "crdBaseURL": "https://mirror.internal/crds"}
    with pytest.raises(ValueError, match="crd_mirror_url"):
        argo.crd_values("mirror")


def test_release_and_its_edge_registration(recorder: Recorder) -> None:
    recording = recorder("argo")
    inputs = release(recording, argo.RELEASE).inputs
    assert (inputs["chart"], inputs["version"]) == ("argo-workflows", charts.ARGO_WORKFLOWS.version)
    assert inputs["repositoryOpts"] == {"repo": charts.ARGO_HELM_REPO}
    assert of_type(recording, "kubernetes:networking.k8s.io/v1:Ingress") == []
    binding = one(recording, "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding")
    assert binding.inputs["spec"]["serviceRef"] == {"name": "argo-workflows-server",
                                                    "port": 2746}
    assert binding.inputs["spec"]["targetType"] == "ip"
    assert release(recording, argo.RELEASE).urn in binding.dependencies
    assert recording.outputs["serviceHostname"] == "argo-workflows-server.argo.svc.cluster.local"


@pytest.mark.parametrize(("cloud", "server"), [("gcp", 1), ("aws", 0)])
def test_standby_runs_no_controller_and_a_server_only_on_a_readable_replica(
        recorder: Recorder, cloud: str, server: int) -> None:
    # GCP: the replica is readable before promotion, one server serves history.
    # AWS: the Aurora global writer endpoint answers only after the switchover;
    # ARC scales both Deployments up (region_switch.py `orchestrator_workload`).
    values = values_of(recorder("argo", cloud=cloud, role="standby"))
    assert values["controller"]["replicas"] == 0
    assert values["server"]["replicas"] == server
    assert values["controller"]["persistence"]["archive"] is True  # same wiring, ready to promote


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
@pytest.mark.parametrize("role", ["primary", "standby"])
def test_no_secret_value_in_plain_text(recorder: Recorder, cloud: str, role: str) -> None:
    recording = recorder("argo", cloud=cloud, role=role)
    for registration in recording.registrations:
        for path, text in walk_strings(registration.inputs):
            assert SECRET_PREFIX not in text, f"{registration.urn}: {path} leaks a secret"
    assert SECRET_PREFIX not in json.dumps(recording.outputs)


def test_pods_leave_an_unreachable_node_after_30_seconds(recorder: Recorder) -> None:
    values = values_of(recorder("argo", tier="prod"))
    for section in ("controller", "server"):
        seconds = {t["key"]: t["tolerationSeconds"] for t in values[section]["tolerations"]}
        assert seconds == {"node.kubernetes.io/not-ready": 30,
                           "node.kubernetes.io/unreachable": 30}


def test_a_credential_rotation_rolls_controller_and_server(recorder) -> None:  # type: ignore[no-untyped-def]
    values = values_of(recorder("argo", credentials_revision="database=r2"))
    for section in ("controller", "server"):
        assert values[section]["podAnnotations"] == {
            "hastack.io/credentials-revision": "database=r2"}
    assert "podAnnotations" not in values_of(recorder("argo"))["controller"]
