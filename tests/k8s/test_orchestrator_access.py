"""No open doors: own DB roles (created by a Job the release waits for), Prefect API
basic auth, flow-run bucket identity, and Prefect's deploy-time setup Job."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, cast

import pytest

from components.k8s import argo, dbrole, prefect, prefect_setup, resilience
from components.k8s.wiring import AppCredentials, DatabaseEndpoint
from hastack.plan.recorder import SECRET_MARKER, Registration
from hastack.plan.runner import Recording
from tests.k8s.conftest import AWS_BUCKET, OIDC_ISSUER, of_type, release

Recorder = Callable[..., Recording]
JOB = "kubernetes:batch/v1:Job"


def jobs(recording: Recording, purpose: str) -> list[Registration]:
    return [j for j in of_type(recording, JOB)
            if j.inputs["metadata"]["labels"].get("hastack.io/purpose") == purpose]


def env_of(job: Registration) -> dict[str, Any]:
    (container,) = job.inputs["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


@pytest.mark.parametrize(("orchestrator", "release_name", "role"), [
    ("prefect", prefect.SERVER_RELEASE, "prefect_app"),
    ("argo", argo.RELEASE, "argo_app")])
def test_primary_creates_its_own_role_before_the_release(
        recorder: Recorder, orchestrator: str, release_name: str, role: str) -> None:
    recording = recorder(orchestrator)
    (job,) = jobs(recording, dbrole.JOB_PURPOSE)
    env = env_of(job)
    # Logs in as the master user, whose password comes from a Secret, not the spec.
    assert env["PGUSER"] == orchestrator  # the test wiring's master user
    assert env["APP_ROLE"] == role != env["PGUSER"]
    assert env["PGSSLMODE"] == "require"
    for key in ("PGPASSWORD", "APP_PASSWORD"):
        assert set(env[key]["secretKeyRef"]) == {"name", "key"}
    (container,) = job.inputs["spec"]["template"]["spec"]["containers"]
    assert container["command"][:2] == ["sh", "-ec"]
    assert job.inputs["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    # pulumi-kubernetes waits for the Job; the release waits for the Job.
    assert job.urn in release(recording, release_name).dependencies
    assert "name" not in job.inputs["metadata"]  # auto-named: replaced create-first


@pytest.mark.parametrize("orchestrator", ["prefect", "argo"])
def test_standby_runs_no_role_job_but_uses_the_role(recorder: Recorder,
                                                    orchestrator: str) -> None:
    recording = recorder(orchestrator, role="standby")
    assert not jobs(recording, dbrole.JOB_PURPOSE)
    assert not jobs(recording, "prefect-setup")


def test_app_endpoint_keeps_the_host_and_swaps_the_login() -> None:
    # Stand-ins for the secret Outputs (no Pulumi engine needed to swap fields).
    MASTER_PW, APP_PW = cast(Any, object()), cast(Any, object())
    master = DatabaseEndpoint(host="h", port=5432, database="workflows",
                                      username="hastack_admin",
                                      password=MASTER_PW)
    creds = AppCredentials("prefect_app", "prefect", APP_PW)
    app = dbrole.app_endpoint(master, creds)
    assert (app.host, app.port, app.ssl_mode) == ("h", 5432, "require")
    assert (app.username, app.database) == ("prefect_app", "prefect")
    assert app.password is APP_PW and master.password is MASTER_PW


def test_prefect_api_requires_basic_auth_shared_with_the_worker(recorder: Recorder) -> None:
    recording = recorder("prefect")
    server = release(recording, prefect.SERVER_RELEASE).inputs["values"]
    worker = release(recording, prefect.WORKER_RELEASE).inputs["values"]
    auth = {"enabled": True, "existingSecret": prefect.AUTH_SECRET}
    assert server["server"]["basicAuth"] == auth
    assert worker["worker"]["selfHostedServerApiConfig"]["basicAuth"] == auth
    (secret,) = [s for s in of_type(recording, "kubernetes:core/v1:Secret")
                 if s.inputs["metadata"]["name"] == prefect.AUTH_SECRET]
    assert secret.inputs["stringData"] == SECRET_MARKER
    assert secret.urn in release(recording, prefect.SERVER_RELEASE).dependencies
    passwords = of_type(recording, "random:index/randomPassword:RandomPassword")
    assert {p.inputs["special"] for p in passwords} == {False}


@pytest.mark.parametrize("tier", ["dev", "prod"])
def test_worker_hands_the_resilience_defaults_to_flow_runs(recorder: Recorder,
                                                           tier: str) -> None:
    worker = release(recorder("prefect", tier=tier), prefect.WORKER_RELEASE).inputs["values"]
    env = {e["name"]: e["value"] for e in worker["worker"]["extraEnvVars"]}
    assert env == resilience.prefect_settings(tier)  # type: ignore[arg-type]
    assert env["PREFECT_RESULTS_PERSIST_BY_DEFAULT"] == "true"


def test_flow_runs_get_a_bucket_identity_for_exactly_their_account(recorder: Recorder) -> None:
    recording = recorder("prefect", cloud="aws")
    (account,) = of_type(recording, "kubernetes:core/v1:ServiceAccount")
    assert account.inputs["metadata"]["name"] == prefect.FLOW_RUN_SA
    assert account.inputs["automountServiceAccountToken"] is False
    (role,) = of_type(recording, "aws:iam/role:Role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    assert condition[f"{OIDC_ISSUER}:sub"] == ["system:serviceaccount:prefect:prefect-flow-run"]
    assert account.urn in release(recording, prefect.SERVER_RELEASE).dependencies
    annotations = account.inputs["metadata"]["annotations"]
    assert list(annotations) == ["eks.amazonaws.com/role-arn"]


def test_gcp_flow_runs_use_workload_identity(recorder: Recorder) -> None:
    recording = recorder("prefect", cloud="gcp")
    (account,) = of_type(recording, "kubernetes:core/v1:ServiceAccount")
    assert list(account.inputs["metadata"]["annotations"]) == ["iam.gke.io/gcp-service-account"]
    (member,) = of_type(recording, "gcp:serviceaccount/iAMMember:IAMMember")
    assert member.inputs["member"].endswith("[prefect/prefect-flow-run]")


def test_setup_job_points_result_storage_and_pool_at_the_bucket(recorder: Recorder) -> None:
    recording = recorder("prefect", cloud="aws")
    (job,) = jobs(recording, "prefect-setup")
    env = env_of(job)
    assert env[prefect_setup.ENV_RESULTS_URL] == f"s3://{AWS_BUCKET}/prefect/results"
    assert env[prefect_setup.ENV_RESULT_BLOCK] == resilience.PREFECT_RESULT_BLOCK
    assert env[prefect_setup.ENV_FLOW_RUN_SA] == prefect.FLOW_RUN_SA
    assert json.loads(env[prefect_setup.ENV_FLOW_RUN_ENV]) == {
        "HASTACK_CHECKPOINT_URL": f"s3://{AWS_BUCKET}/checkpoints"}
    assert env["PREFECT_API_AUTH_STRING"]["secretKeyRef"] == {
        "name": prefect.AUTH_SECRET, "key": prefect.AUTH_SECRET_KEY}
    (container,) = job.inputs["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-c", prefect.SETUP_PROGRAM]
    assert container["image"] == prefect.SETUP_IMAGE
    # The program must run in the stock image: nothing from hastack.
    assert "import pulumi" not in prefect.SETUP_PROGRAM
    assert "from components" not in prefect.SETUP_PROGRAM
    deps = set(job.dependencies)
    assert {release(recording, prefect.SERVER_RELEASE).urn,
            release(recording, prefect.WORKER_RELEASE).urn} <= deps


def test_argo_connects_as_its_role_to_its_database(recorder: Recorder) -> None:
    values = release(recorder("argo"), argo.RELEASE).inputs["values"]
    assert values["controller"]["persistence"]["postgresql"]["database"] == "argo"
    assert values["server"]["authModes"] == ["client"]
