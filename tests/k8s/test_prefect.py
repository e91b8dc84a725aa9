"""PrefectServer: HA values per tier, wiring to Secrets, PDBs, standby, and no leaked secrets."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components.k8s import charts, prefect, prefect_standby
from components.k8s.secrets import postgres_asyncpg_url, redis_url
from components.k8s.wiring import CacheEndpoint, DatabaseEndpoint, OrchestratorWiring
from hastack.plan.recorder import SECRET_MARKER
from hastack.plan.runner import Recording, run_program
from tests.k8s.conftest import (
    DB_PASSWORD,
    KUBECONFIG,
    REDIS_TOKEN,
    SECRET_PREFIX,
    TARGET_GROUP_ARN,
    of_type,
    release,
    walk_strings,
)

Recorder = Callable[..., Recording]
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
TGB = "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def server_values(recording: Recording) -> dict[str, Any]:
    return release(recording, prefect.SERVER_RELEASE).inputs["values"]


def worker_values(recording: Recording) -> dict[str, Any]:
    return release(recording, prefect.WORKER_RELEASE).inputs["values"]


@pytest.mark.parametrize(("tier", "api", "background"),
                         [("dev", 2, 2), ("staging", 2, 2), ("prod", 3, 2)])
def test_replicas_per_tier(recorder: Recorder, tier: str, api: int, background: int) -> None:
    values = server_values(recorder("prefect", tier=tier))
    assert values["server"]["replicaCount"] == api
    assert values["backgroundServices"]["replicaCount"] == background
    assert worker_values(recorder("prefect", tier=tier))["worker"]["replicaCount"] >= 2


def test_requested_replicas_above_the_floor_are_kept(recorder: Recorder) -> None:
    values = server_values(recorder("prefect", tier="dev", server_replicas=5))
    assert values["server"]["replicaCount"] == 5


def test_split_background_services_with_redis_tls(recorder: Recorder) -> None:
    values = server_values(recorder("prefect"))
    background = values["backgroundServices"]
    # The chart injects Redis messaging only in this mode ...
    assert background["runAsSeparateDeployment"] is True
    redis = background["messaging"]["redis"]
    assert redis["host"] == "redis.us-east-1.example.internal" and redis["port"] == 6379
    assert redis["ssl"] is True
    assert redis["existingSecret"] == prefect.REDIS_SECRET
    assert redis["existingSecretPasswordKey"] == prefect.REDIS_PASSWORD_KEY
    assert "password" not in redis
    docket = background["messaging"]["docket"]
    assert docket == {"existingSecret": prefect.REDIS_SECRET,
                      "existingSecretKey": prefect.DOCKET_URL_KEY}
    # ... and then refuses anything but an X.Y.Z tag.
    assert re.fullmatch(r"\d+\.\d+\.\d+", values["global"]["prefect"]["image"]["prefectTag"])
    assert values["global"]["prefect"]["image"]["prefectTag"] == charts.PREFECT_VERSION
    assert "redis" not in values  # never the bundled Redis subchart
    assert values["migrations"]["enabled"] is True


def test_external_database_only_through_our_secret(recorder: Recorder) -> None:
    recording = recorder("prefect")
    values = server_values(recording)
    assert values["postgresql"] == {"enabled": False}
    assert values["externalDatabase"] == {
        "existingSecret": prefect.DB_SECRET, "connectionStringSecretKey": prefect.DB_SECRET_KEY}
    assert values["secret"] == {"create": False, "name": prefect.DB_SECRET}
    secrets = {r.inputs["metadata"]["name"]: r for r in of_type(recording,
                                                               "kubernetes:core/v1:Secret")}
    assert set(secrets) == {prefect.DB_SECRET, prefect.REDIS_SECRET, prefect.AUTH_SECRET,
                            "prefect-app-bootstrap"}
    for secret in secrets.values():
        assert secret.inputs["stringData"] == SECRET_MARKER
        assert "stringData" in secret.secret_inputs
        assert {"data", "stringData"} <= set(secret.additional_secret_outputs)
        assert secret.inputs["metadata"]["namespace"] == "prefect"
    # The release is installed only after the Secrets it references exist.
    server = release(recording, prefect.SERVER_RELEASE)
    assert {s.urn for n, s in secrets.items() if n != "prefect-app-bootstrap"} <= set(
        server.dependencies)


def test_connection_urls_are_built_from_the_secret_outputs() -> None:
    def program() -> None:
        db = DatabaseEndpoint(host="db.internal", port=5432, database="prefect",
                              username="prefect", password=pulumi.Output.secret(DB_PASSWORD))
        cache = CacheEndpoint(host="redis.internal", port=6379,
                              auth_token=pulumi.Output.secret(REDIS_TOKEN))
        pulumi.export("db", postgres_asyncpg_url(db))
        pulumi.export("dbPlain", pulumi.Output.unsecret(postgres_asyncpg_url(db)))
        pulumi.export("docketPlain", pulumi.Output.unsecret(redis_url(cache)))

    recording = run_program(program, project="hastack", stack="test", config={})
    assert recording.outputs["db"] == SECRET_MARKER
    assert recording.outputs["dbPlain"] == (
        f"postgresql+asyncpg://prefect:{quote(DB_PASSWORD, safe='')}"
        "@db.internal:5432/prefect?ssl=require")
    assert recording.outputs["docketPlain"] == (
        f"rediss://:{quote(REDIS_TOKEN, safe='')}@redis.internal:6379/0")


def test_server_pdb_selects_exactly_the_chart_server_pods(recorder: Recorder) -> None:
    recording = recorder("prefect")
    (pdb,) = of_type(recording, PDB)
    server = release(recording, prefect.SERVER_RELEASE)
    spec = pdb.inputs["spec"]
    assert spec["maxUnavailable"] == 1
    assert spec["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "prefect-server",
        "app.kubernetes.io/instance": server.inputs["name"],
        "app.kubernetes.io/component": "server",
    }
    assert pdb.inputs["metadata"]["namespace"] == server.inputs["namespace"]


@pytest.mark.parametrize(("tier", "hard"), [("dev", False), ("prod", True)])
def test_api_pods_spread_over_zones_and_nodes(recorder: Recorder, tier: str, hard: bool) -> None:
    affinity = server_values(recorder("prefect", tier=tier))["server"]["affinity"]
    anti = affinity["podAntiAffinity"]
    preferred = anti["preferredDuringSchedulingIgnoredDuringExecution"]
    zone = [t for t in preferred if t["podAffinityTerm"]["topologyKey"]
            == "topology.kubernetes.io/zone"]
    assert zone and zone[0]["podAffinityTerm"]["labelSelector"]["matchLabels"] == \
        prefect.server_pod_labels()
    required = anti.get("requiredDuringSchedulingIgnoredDuringExecution", [])
    assert bool(required) is hard
    if hard:
        assert required[0]["topologyKey"] == "kubernetes.io/hostname"


def test_resources_are_set(recorder: Recorder) -> None:
    values = server_values(recorder("prefect"))
    for block in (values["server"], values["backgroundServices"],
                  worker_values(recorder("prefect"))["worker"]):
        assert set(block["resources"]) == {"requests", "limits"}


def test_worker_talks_to_the_in_cluster_server(recorder: Recorder) -> None:
    recording = recorder("prefect")
    server = server_values(recording)
    worker = worker_values(recording)["worker"]
    assert worker["apiConfig"] == "selfHostedServer"
    namespace = release(recording, prefect.SERVER_RELEASE).inputs["namespace"]
    assert worker["selfHostedServerApiConfig"]["apiUrl"] == (
        f"http://{server['fullnameOverride']}.{namespace}.svc.cluster.local:4200/api")
    assert worker["config"]["workPool"] == "kubernetes-pool"
    assert worker["podDisruptionBudget"] == {"maxUnavailable": 1}
    assert worker["image"]["prefectTag"].startswith(f"{charts.PREFECT_VERSION}-")
    assert recording.outputs["serviceHostname"] == "prefect-server.prefect.svc.cluster.local"


def test_releases_are_pinned_helm_releases(recorder: Recorder) -> None:
    recording = recorder("prefect")
    for name, chart in ((prefect.SERVER_RELEASE, charts.PREFECT_SERVER),
                        (prefect.WORKER_RELEASE, charts.PREFECT_WORKER)):
        inputs = release(recording, name).inputs
        assert (inputs["chart"], inputs["version"]) == (chart.name, chart.version)
        assert inputs["repositoryOpts"] == {"repo": charts.PREFECT_HELM_REPO}
        assert inputs["name"] == name and inputs["namespace"] == "prefect"
        assert inputs["waitForJobs"] is True and inputs["atomic"] is True


def test_the_api_service_joins_the_regions_edge(recorder: Recorder) -> None:
    recording = recorder("prefect")
    assert of_type(recording, "kubernetes:networking.k8s.io/v1:Ingress") == []
    (binding,) = of_type(recording, TGB)
    assert binding.inputs["spec"] == {
        "serviceRef": {"name": "prefect-server", "port": 4200},
        "targetGroupARN": TARGET_GROUP_ARN, "targetType": "ip"}
    assert binding.inputs["metadata"]["namespace"] == "prefect"
    server = release(recording, prefect.SERVER_RELEASE)
    assert server.urn in binding.dependencies  # the Service is the chart's
    host = "prefect.us-east-1.workflows.example.com"
    assert server_values(recording)["server"]["uiConfig"]["prefectUiApiUrl"] == \
        f"https://{host}/api"
    assert server_values(recording)["ingress"]["enabled"] is False  # the edge is ours
    assert server_values(recording)["gateway"]["enabled"] is False


def test_no_annotation_assumes_ingress_nginx_or_cert_manager(recorder: Recorder) -> None:
    for cloud in ("aws", "gcp"):
        for registration in recorder("prefect", cloud=cloud).registrations:
            for path, text in walk_strings(registration.inputs):
                assert "nginx" not in text and "cert-manager.io" not in text, \
                    f"{registration.urn}: {path} = {text}"


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_standby_keeps_everything_installed_but_nothing_writing(recorder: Recorder,
                                                                cloud: str) -> None:
    recording = recorder("prefect", cloud=cloud, role="standby")
    values = server_values(recording)
    assert values["server"]["replicaCount"] == 0
    assert values["backgroundServices"]["runAsSeparateDeployment"] is False
    assert values["migrations"]["enabled"] is False
    assert worker_values(recording)["worker"]["replicaCount"] == 0
    assert of_type(recording, PDB)
    assert of_type(recording, TGB) or cloud == "gcp"
    # Nothing runs before promotion: every Deployment of ours is at zero.
    assert all(d.inputs["spec"]["replicas"] == 0 for d in of_type(recording, DEPLOYMENT))


def _env(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in entries}


def test_gcp_standby_keeps_the_chart_single_deployment_shape(recorder: Recorder) -> None:
    # `hastack failover` starts one such API pod there (hastack/failover/deployments.py).
    recording = recorder("prefect", cloud="gcp", role="standby")
    server = server_values(recording)["server"]
    assert "extraArgs" not in server
    assert "PREFECT_MESSAGING_BROKER" not in _env(server.get("env", []))
    assert not of_type(recording, DEPLOYMENT)


def test_aws_standby_api_pods_start_without_services_on_the_shared_redis(
        recorder: Recorder) -> None:
    server = server_values(recorder("prefect", cloud="aws", role="standby"))["server"]
    assert server["extraArgs"] == ["--no-services"]
    env = _env(server["env"])
    # What the chart gives the API pods of the primary shape (backgroundServices.envVars).
    assert env["PREFECT_MESSAGING_BROKER"] == env["PREFECT_MESSAGING_CACHE"] == \
        "prefect_redis.messaging"
    assert env["PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE"] == "prefect_redis.lease_storage"
    assert env["PREFECT_SERVER_EVENTS_CAUSAL_ORDERING"] == "prefect_redis.ordering"
    assert env["PREFECT_SERVER_DATABASE_MIGRATE_ON_START"] == "false"
    assert env["PREFECT_REDIS_MESSAGING_HOST"] == "redis.us-east-1.example.internal"
    assert env["PREFECT_REDIS_MESSAGING_PORT"] == "6379"
    assert env["PREFECT_REDIS_MESSAGING_SSL"] == "true"
    assert env["PREFECT_REDIS_MESSAGING_PASSWORD"] == {"secretKeyRef": {
        "name": prefect.REDIS_SECRET, "key": prefect.REDIS_PASSWORD_KEY}}
    assert env["PREFECT_SERVER_DOCKET_URL"] == {"secretKeyRef": {
        "name": prefect.REDIS_SECRET, "key": prefect.DOCKET_URL_KEY}}


def test_aws_standby_has_one_set_of_background_services_for_arc_to_scale(
        recorder: Recorder) -> None:
    recording = recorder("prefect", cloud="aws", role="standby")
    (deployment,) = of_type(recording, DEPLOYMENT)
    assert deployment.inputs["metadata"]["name"] == prefect_standby.STANDBY_BACKGROUND_DEPLOYMENT
    spec = deployment.inputs["spec"]
    assert spec["replicas"] == 0
    labels = spec["template"]["metadata"]["labels"]
    assert spec["selector"]["matchLabels"] == labels
    # Not the API's pods nor the chart's background pods: no selector overlaps.
    assert labels != prefect.server_pod_labels() and labels != prefect.background_pod_labels()
    pod = spec["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    (container,) = pod["containers"]
    assert container["args"] == ["prefect", "server", "services", "start"]
    assert container["image"] == f"prefecthq/prefect:{charts.PREFECT_SERVER_IMAGE_TAG}"
    env = _env(container["env"])
    assert env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] == {"secretKeyRef": {
        "name": prefect.DB_SECRET, "key": prefect.DB_SECRET_KEY}}
    # The same Docket, broker and leases as the API pods ARC starts next to it.
    api = _env(server_values(recording)["server"]["env"])
    assert {k: env[k] for k in api} == api
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/home/prefect", "/tmp"}
    # It only waits for the Secrets it reads, not for a database.
    secrets = {r.urn for r in of_type(recording, "kubernetes:core/v1:Secret")}
    assert secrets <= set(deployment.dependencies)


def test_primary_renders_no_standby_services(recorder: Recorder) -> None:
    recording = recorder("prefect", cloud="aws", role="primary")
    assert not of_type(recording, DEPLOYMENT)
    assert "extraArgs" not in server_values(recording)["server"]


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
@pytest.mark.parametrize("role", ["primary", "standby"])
def test_no_secret_value_in_plain_text(recorder: Recorder, cloud: str, role: str) -> None:
    recording = recorder("prefect", cloud=cloud, role=role)
    for registration in recording.registrations:
        for path, text in walk_strings(registration.inputs):
            assert SECRET_PREFIX not in text, f"{registration.urn}: {path} leaks a secret"
    assert SECRET_PREFIX not in json.dumps(recording.outputs)


def test_the_secret_scan_would_see_a_leak() -> None:
    # Control: the same scan over a program that does leak finds it.
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig=KUBECONFIG)
        leaked = pulumi.Output.unsecret(pulumi.Output.secret(DB_PASSWORD))
        k8s.core.v1.ConfigMap("leak", data={"password": leaked},
                              opts=pulumi.ResourceOptions(provider=provider))

    recording = run_program(program, project="hastack", stack="test", config={})
    found = [text for r in recording.registrations for _, text in walk_strings(r.inputs)
             if SECRET_PREFIX in text]
    assert found


def test_primary_without_redis_is_refused() -> None:
    wiring = OrchestratorWiring(
        name="x", tier="prod", orchestrator="prefect", role="primary", region="r", zones=[],
        kubernetes_provider=None,  # type: ignore[arg-type]
        public_hostname="h", database=None, cache=None, artifacts=None)
    with pytest.raises(ValueError, match="Redis"):
        prefect.server_values(wiring)


@pytest.mark.parametrize(("tier", "protected"), [("dev", False), ("prod", True)])
def test_prod_protects_the_namespace(recorder: Recorder, tier: str, protected: bool) -> None:
    (ns,) = of_type(recorder("prefect", tier=tier), "kubernetes:core/v1:Namespace")
    assert ns.protect is protected and ns.retain_on_delete is protected


def test_gcp_pods_trust_memorystores_private_ca(recorder: Recorder) -> None:
    from components.k8s import trust

    recording = recorder("prefect", cloud="gcp")
    values = server_values(recording)
    (configmap,) = of_type(recording, "kubernetes:core/v1:ConfigMap")
    assert configmap.inputs["metadata"]["name"] == trust.CA_CONFIGMAP
    assert configmap.inputs["data"][trust.CA_KEY].startswith("-----BEGIN CERTIFICATE-----")
    for section in ("server", "backgroundServices"):
        pod = values[section]
        assert {"name": "SSL_CERT_FILE", "value": trust.BUNDLE_FILE} in pod["env"]
        (init,) = pod["extraInitContainers"]
        assert trust.SYSTEM_BUNDLE in init["command"][-1]  # system CAs kept, CA appended
        assert init["image"] == f"prefecthq/prefect:{charts.PREFECT_SERVER_IMAGE_TAG}"
        assert {v["name"] for v in pod["extraVolumes"]} == {"private-ca", "trust-bundle"}
        assert pod["extraVolumeMounts"][0]["mountPath"] == trust.BUNDLE_DIR
    # The release waits for the CA to exist, or the init container cannot start.
    assert configmap.urn in release(recording, prefect.SERVER_RELEASE).dependencies


def test_aws_pods_keep_the_system_trust_store(recorder: Recorder) -> None:
    recording = recorder("prefect", cloud="aws")
    values = server_values(recording)
    assert not of_type(recording, "kubernetes:core/v1:ConfigMap")
    for section in ("server", "backgroundServices"):
        assert "env" not in values[section] and "extraInitContainers" not in values[section]


def test_pods_leave_an_unreachable_node_after_30_seconds(recorder: Recorder) -> None:
    server = server_values(recorder("prefect", tier="prod"))
    worker = worker_values(recorder("prefect", tier="prod"))
    for section in (server["server"], server["backgroundServices"], worker["worker"]):
        tolerations = {t["key"]: t for t in section["tolerations"]}
        for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
            assert tolerations[key] == {"key": key, "operator": "Exists",
                                        "effect": "NoExecute", "tolerationSeconds": 30}


def test_a_credential_rotation_rolls_the_pods_that_read_the_secrets(recorder: Recorder) -> None:
    before = server_values(recorder("prefect"))
    assert "podAnnotations" not in before["server"]
    after = server_values(recorder("prefect", credentials_revision="database=2026-12"))
    for section in ("server", "backgroundServices"):
        assert after[section]["podAnnotations"] == {
            "hastack.io/credentials-revision": "database=2026-12"}


def _python(program: str, *args: str, env: dict[str, str] | None = None) -> int:
    return subprocess.run([sys.executable, "-c", program, *args], env=env,
                          stderr=subprocess.DEVNULL, check=False).returncode


def test_standby_services_probes_check_what_they_claim(recorder: Recorder) -> None:
    (deployment,) = of_type(recorder("prefect", cloud="aws", role="standby"), DEPLOYMENT)
    (container,) = deployment.inputs["spec"]["template"]["spec"]["containers"]
    ready, live = prefect_standby.SERVICES_READY_CHECK, prefect_standby.SERVICES_LIVE_CHECK
    assert container["readinessProbe"]["exec"]["command"] == ["python", "-c", ready]
    assert container["livenessProbe"]["exec"]["command"] == ["python", "-c", live]
    # Live: a process whose command line ends in `services start` (here: the check itself).
    assert _python(prefect_standby.SERVICES_LIVE_CHECK, "services", "start") == 0
    assert _python(prefect_standby.SERVICES_LIVE_CHECK) == 1
    # Ready: both the database and Redis named in the pod's env accept a connection.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        env = {**os.environ, "PREFECT_REDIS_MESSAGING_HOST": "127.0.0.1",
               "PREFECT_REDIS_MESSAGING_PORT": str(port),
               "PREFECT_SERVER_DATABASE_CONNECTION_URL":
                   f"postgresql+asyncpg://prefect:p%40ss@127.0.0.1:{port}/prefect"}
        assert _python(prefect_standby.SERVICES_READY_CHECK, env=env) == 0
    assert _python(prefect_standby.SERVICES_READY_CHECK, env=env) == 1   # nothing listens now
