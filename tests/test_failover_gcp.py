"""GCP failover steps against recorded HTTP (googleapiclient's HttpMockSequence) and a
fake Kubernetes API server on 127.0.0.1: exact URIs, methods and bodies."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from googleapiclient.http import HttpMockSequence

from hastack.failover.cli import failover_main
from hastack.failover.gcp import GcpSteps, StepFailed, discovery_services, workloads_plans
from hastack.failover.steps import Step
from hastack.kube import KubeApi
from hastack.plan.pipeline import plan_single
from tests.conftest import REPO
from tests.support.fake_http import JsonHandler, serving

PROJECT, REPLICA, PRIMARY = "acme-hastack-prod", "hastack-gcp-prod-us-east1-pg", \
    "hastack-gcp-prod-us-central1-pg"
SQL = "https://sqladmin.googleapis.com/v1/projects/acme-hastack-prod"
NOW = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
OK = {"status": "200"}
BASE = {"project": PROJECT, "instance": REPLICA, "sourceInstance": PRIMARY}


def _json(body: Any, status: str = "200") -> tuple[dict[str, str], str]:
    return {"status": status}, json.dumps(body)


def _replica(**extra: Any) -> tuple[dict[str, str], str]:
    """A DR replica as instances.get returns it: the primary as "project:instance"."""
    return _json({"name": REPLICA, "instanceType": "READ_REPLICA_INSTANCE",
                  "masterInstanceName": f"{PROJECT}:{PRIMARY}", "state": "RUNNABLE",
                  "region": "us-east1", "settings": {"edition": "ENTERPRISE_PLUS"},
                  "replicationCluster": {"drReplica": True}, **extra})


def _enterprise_replica() -> tuple[dict[str, str], str]:
    return _json({"name": REPLICA, "instanceType": "READ_REPLICA_INSTANCE",
                  "masterInstanceName": PRIMARY, "state": "RUNNABLE", "region": "us-east1",
                  "settings": {"edition": "ENTERPRISE"}})


def _standalone(name: str = REPLICA) -> tuple[dict[str, str], str]:
    return _json({"name": name, "instanceType": "CLOUD_SQL_INSTANCE",
                  "state": "RUNNABLE", "region": "us-east1"})


def _lag(*values: float) -> tuple[dict[str, str], str]:
    points = [{"interval": {"endTime": f"2026-12-02T00:5{i}:00Z"},
               "value": {"doubleValue": value}} for i, value in enumerate(values)]
    return _json({"timeSeries": [{"points": points}]} if points else {})


def _operation(status: str, errors: list[dict[str, str]] | None = None,
               operation_type: str = "PROMOTE_REPLICA", **times: str
               ) -> tuple[dict[str, str], str]:
    body: dict[str, Any] = {"kind": "sql#operation", "name": "op-1", "status": status,
                            "operationType": operation_type, **times}
    if errors:
        body["error"] = {"kind": "sql#operationErrors", "errors": errors}
    return _json(body)


class Recorded:
    """GcpSteps over one HttpMockSequence; `requests` = (method, uri, body)."""

    def __init__(self, responses: list[tuple[dict[str, str], str]], kube: Any = None,
                 accept_data_loss: bool = False) -> None:
        self.http = HttpMockSequence(responses)
        self.steps = GcpSteps(discovery_services(http=self.http),
                              kube or (lambda *_: pytest.fail("no Kubernetes call expected")),
                              rpo_target_seconds=900, accept_data_loss=accept_data_loss,
                              poll_seconds=5, sleep=lambda _s: None, now=lambda: NOW)

    @property
    def requests(self) -> list[tuple[str, str, Any]]:
        return [(method, uri, json.loads(body) if body else None)
                for uri, method, body, _headers in self.http.request_sequence]


def _uri(uri: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(uri)
    query = {k: v for k, v in parse_qs(parts.query).items() if k not in ("alt",)}
    return f"{parts.scheme}://{parts.netloc}{parts.path}", query


# --- preflight -----------------------------------------------------------------------

def _state(advanced: bool) -> Step:
    return Step("preflight", "", "us-east1", {"check": "replica-state", **BASE,
                                              "advancedDr": advanced})


def test_the_target_replica_must_still_replicate_from_the_source() -> None:
    ok = Recorded([_enterprise_replica()])
    assert "RUNNABLE replica of" in ok.steps.run(_state(False))
    assert [(m, _uri(u)[0]) for m, u, _ in ok.requests] == [
        ("GET", f"{SQL}/instances/{REPLICA}")]
    # Enterprise: after a promotion the old primary is a stale standalone; failing back
    # onto it would serve old data, so it is refused with what to do.
    stale = Recorded([_standalone()])
    with pytest.raises(StepFailed, match=r"standalone primary .*one-way.* rebuild it as a "
                                         "replica"):
        stale.steps.run(_state(False))
    other = Recorded([_enterprise_replica()])
    wrong = {**BASE, "sourceInstance": "hastack-gcp-prod-elsewhere-pg"}
    with pytest.raises(StepFailed, match="replicates from hastack-gcp-prod-us-central1-pg, "
                                         "not hastack-gcp-prod-elsewhere-pg"):
        other.steps.run(Step("preflight", "", "us-east1", {"check": "replica-state", **wrong}))


def test_advanced_dr_needs_the_target_to_be_the_designated_dr_replica() -> None:
    # The API names the primary "project:instance": still the source.
    assert "RUNNABLE DR replica of" in Recorded([_replica()]).steps.run(_state(True))
    undesignated = Recorded([_replica(replicationCluster={})])
    with pytest.raises(StepFailed, match=r"not its DR replica .*pulumi up --refresh"):
        undesignated.steps.run(_state(True))
    # After a replica failover the old primary rejoins as a replica only once its
    # region is back: until then a failback is refused with what to wait for.
    not_back = Recorded([_standalone()])
    with pytest.raises(StepFailed, match="re-attaches the old primary as a replica"):
        not_back.steps.run(_state(True))


def test_the_lag_is_read_from_cloud_monitoring_for_the_replica() -> None:
    recorded = Recorded([_lag(700.0, 3.5)])
    outcome = recorded.steps.run(Step("preflight", "", "us-east1",
                                      {"check": "replication-lag", **BASE}))
    assert outcome == "replication lag 3.5 s (RPO target 900 s)"  # the newest point
    [(method, uri, body)] = recorded.requests
    path, query = _uri(uri)
    assert (method, path, body) == (
        "GET", f"https://monitoring.googleapis.com/v3/projects/{PROJECT}/timeSeries", None)
    assert query == {
        "filter": ['metric.type = "cloudsql.googleapis.com/database/replication/replica_lag" '
                   'AND resource.type = "cloudsql_database" AND resource.labels.database_id = '
                   f'"{PROJECT}:{REPLICA}"'],
        "interval.startTime": ["2026-12-02T00:55:00Z"],
        "interval.endTime": ["2026-12-02T01:00:00Z"]}


@pytest.mark.parametrize(("points", "message"), [((), "unknown"),
                                                 ((1200.0,), "above the RPO target")])
def test_an_unknown_or_excessive_lag_is_refused_unless_accepted(
        points: tuple[float, ...], message: str) -> None:
    step = Step("preflight", "", "us-east1", {"check": "replication-lag", **BASE})
    with pytest.raises(StepFailed, match=message):
        Recorded([_lag(*points)]).steps.run(step)
    assert "s" in Recorded([_lag(*points)], accept_data_loss=True).steps.run(step)


# --- database ------------------------------------------------------------------------

def _database(operation: str = "promoteReplica", **extra: Any) -> Step:
    return Step("database", "", "us-east1", {**BASE, "operation": operation,
                                             "replicaFailover": False, "waitForZeroLag": False,
                                             **extra})


def test_promote_replica_is_followed_until_done() -> None:
    recorded = Recorded([_replica(), _operation("PENDING"), _operation("RUNNING"),
                         _operation("DONE")])
    assert "promoteReplica done, followed 10 s" in recorded.steps.run(_database())
    assert [(m, _uri(u)[0], b) for m, u, b in recorded.requests] == [
        ("GET", f"{SQL}/instances/{REPLICA}", None),
        ("POST", f"{SQL}/instances/{REPLICA}/promoteReplica", None),
        ("GET", f"{SQL}/operations/op-1", None),
        ("GET", f"{SQL}/operations/op-1", None)]
    assert _uri(recorded.requests[1][1])[1] == {}  # no `failover`: not a DR replica


def test_replica_failover_and_switchover_use_their_own_calls() -> None:
    failover = Recorded([_replica(), _operation("DONE")])
    failover.steps.run(_database(replicaFailover=True))
    assert _uri(failover.requests[1][1]) == (f"{SQL}/instances/{REPLICA}/promoteReplica",
                                             {"failover": ["true"]})
    switchover = Recorded([_replica(), _operation(
        "DONE", operation_type="SWITCHOVER", startTime="2026-12-02T01:00:02.500Z",
        endTime="2026-12-02T01:01:44.500Z")])
    # Timed by the operation's own startTime/endTime, not by the polling.
    assert "switchover done, 102 s by the operation's startTime/endTime" in \
        switchover.steps.run(_database("switchover"))
    assert (switchover.requests[1][0], _uri(switchover.requests[1][1])) == (
        "POST", (f"{SQL}/instances/{REPLICA}/switchover", {}))


def test_a_planned_promotion_waits_for_zero_lag_first() -> None:
    recorded = Recorded([_replica(), _lag(2.0), _lag(0.0), _operation("DONE")])
    recorded.steps.run(_database(waitForZeroLag=True))
    assert [_uri(u)[0].rsplit("/", 1)[-1] for _m, u, _b in recorded.requests] == [
        REPLICA, "timeSeries", "timeSeries", "promoteReplica"]


def test_a_failed_operation_is_named_with_its_errors() -> None:
    recorded = Recorded([_replica(), _operation("PENDING"), _operation("DONE", [
        {"kind": "sql#operationError", "code": "INTERNAL_ERROR",
         "message": "replica could not be promoted"}])])
    with pytest.raises(StepFailed, match="op-1 \\(PROMOTE_REPLICA\\) failed: INTERNAL_ERROR: "
                                         "replica could not be promoted"):
        recorded.steps.run(_database())


def test_an_api_error_is_reported_in_the_api_s_words() -> None:
    denied = _json({"error": {"code": 403, "status": "PERMISSION_DENIED",
                              "message": "cloudsql.instances.promoteReplica denied"}}, "403")
    with pytest.raises(StepFailed, match=r"403 PERMISSION_DENIED: cloudsql\.instances\."
                                         "promoteReplica denied"):
        Recorded([_replica(), denied]).steps.run(_database())


def test_a_rerun_after_the_promotion_finished_does_not_promote_again() -> None:
    recorded = Recorded([_standalone()])
    assert "already a primary" in recorded.steps.run(_database())
    assert len(recorded.requests) == 1


# --- workloads: a fake Kubernetes API server ---------------------------------------

class _KubeHandler(JsonHandler):
    """Deployments in memory; PATCH .../scale sets spec and status (pods start at once)."""

    deployments: dict[str, int]

    def _key(self) -> str:
        return self.path.removeprefix("/apis/apps/v1/namespaces/").replace(
            "/deployments/", "/").removesuffix("/scale")

    def do_GET(self) -> None:
        self.read_body()
        key = self._key()
        if key not in self.deployments:
            self.reply(404, {"kind": "Status", "message": f"{key} not found"})
            return
        n = self.deployments[key]
        self.reply(200, {"spec": {"replicas": n}, "status": {
            "replicas": n, "readyReplicas": n, "updatedReplicas": n}})

    def do_PATCH(self) -> None:
        body = self.read_body()
        key = self._key()
        if key not in self.deployments:
            self.reply(404, {"kind": "Status", "message": f"{key} not found"})
            return
        self.deployments[key] = body["spec"]["replicas"]
        self.reply(200, {"kind": "Scale", "spec": body["spec"]})


class FakeKube:
    """The fake API's state and a client of it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.deployments = _KubeHandler.deployments
        self.calls = _KubeHandler.calls

    def api(self, *_args: Any) -> KubeApi:
        return KubeApi(self.url, lambda: "token-1", cluster="fake")


@pytest.fixture
def kube() -> Iterator[FakeKube]:
    _KubeHandler.deployments = {"prefect/prefect-server": 0, "prefect/prefect-worker": 0}
    with serving(_KubeHandler) as url:
        yield FakeKube(url)


SCALE = [{"namespace": "prefect", "name": "prefect-server", "replicas": 1},
         {"namespace": "prefect", "name": "prefect-worker", "replicas": 3}]


def test_the_standby_orchestrator_is_scaled_through_the_scale_subresource(
        kube: FakeKube) -> None:
    steps = Recorded([], kube=kube.api).steps
    outcome = steps.run(Step("workloads", "", "us-east1", {
        "scale": SCALE, "project": PROJECT, "cluster": "hastack-gcp-prod-us-east1"}))
    assert "prefect/prefect-server=1, prefect/prefect-worker=3 ready" in outcome
    patches = [c for c in kube.calls if c[0] == "PATCH"]
    assert patches == [
        ("PATCH", "/apis/apps/v1/namespaces/prefect/deployments/prefect-server/scale",
         {"spec": {"replicas": 1}}, "application/merge-patch+json", "Bearer token-1"),
        ("PATCH", "/apis/apps/v1/namespaces/prefect/deployments/prefect-worker/scale",
         {"spec": {"replicas": 3}}, "application/merge-patch+json", "Bearer token-1")]
    assert kube.deployments == {"prefect/prefect-server": 1, "prefect/prefect-worker": 3}


def test_the_gke_api_is_reached_through_its_dns_endpoint_with_the_caller_s_token() -> None:
    from hastack.kube import gke_kube_api

    class Credentials:
        valid, token = True, "ya29.caller"

    http = HttpMockSequence([_json({
        "name": "hastack-gcp-prod-us-east1", "endpoint": "10.70.224.2",
        "controlPlaneEndpointsConfig": {"dnsEndpointConfig": {
            "endpoint": "gke-0123456789abcdef.us-east1.gke.goog",
            "allowExternalTraffic": True}}})])
    api = gke_kube_api(discovery_services(http=http), Credentials(), PROJECT, "us-east1",
                       "hastack-gcp-prod-us-east1")
    assert api.base_url == "https://gke-0123456789abcdef.us-east1.gke.goog"
    assert api.token() == "ya29.caller"
    [(uri, method, _body, _headers)] = http.request_sequence
    assert (method, _uri(uri)[0]) == (
        "GET", "https://container.googleapis.com/v1/projects/acme-hastack-prod/locations/"
               "us-east1/clusters/hastack-gcp-prod-us-east1")


def test_a_missing_deployment_is_a_named_failure(kube: FakeKube) -> None:
    steps = Recorded([], kube=kube.api).steps
    with pytest.raises(StepFailed, match="404 prefect/argo not found: has the workloads "
                                         "stack of this region been deployed"):
        steps.run(Step("workloads", "", "us-east1", {"scale": [
            {"namespace": "prefect", "name": "argo", "replicas": 1}],
            "project": PROJECT, "cluster": "c"}))


# --- the whole command: a failed operation leaves the stack file; a rerun resumes ---

@pytest.fixture
def project(tmp_path: Path, plan_once_per_content: None) -> Path:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "stacks", tmp_path / "stacks")
    return tmp_path


def _cluster() -> tuple[dict[str, str], str]:
    return _json({"name": "hastack-gcp-prod-us-east1", "status": "RUNNING"})


def test_unplanned_gcp_failover_fails_halfway_and_resumes(
        project: Path, kube: FakeKube, capsys: pytest.CaptureFixture[str]) -> None:
    stack_file = project / "stacks" / "Pulumi.gcp-prod.yaml"
    before = stack_file.read_text()
    args = ["gcp-prod", "--to", "us-east1", "--mode", "unplanned", "--yes",
            "--root", str(project)]
    first = Recorded([_cluster(), _replica(), _lag(4.0), _replica(), _operation("PENDING"),
                      _operation("DONE", [{"code": "INTERNAL_ERROR", "message": "boom"}])],
                     kube=kube.api)
    assert failover_main(args, cloud_runner=first.steps.run) == 1
    err = capsys.readouterr().err
    assert "step 4 (database" in err and "INTERNAL_ERROR: boom" in err
    assert "Traceback" not in err
    assert stack_file.read_text() == before
    assert kube.calls == []  # nothing scaled before the database moved

    second = Recorded([_replica(), _operation("DONE")], kube=kube.api)
    assert failover_main(args, cloud_runner=second.steps.run) == 0
    assert [_uri(u)[0].rsplit("/", 1)[-1] for _m, u, _b in second.requests] == [
        REPLICA, "promoteReplica"]  # the preflight is not run again
    # gcp-prod is Enterprise Plus with a DR replica: a replica failover, which
    # re-attaches the old primary as a replica when its region is back.
    assert _uri(second.requests[1][1])[1] == {"failover": ["true"]}
    assert kube.deployments == {"prefect/prefect-server": 1, "prefect/prefect-worker": 3}
    assert stack_file.read_text() == before.replace("hastack:activeRegion: us-central1",
                                                    "hastack:activeRegion: us-east1")
    out = capsys.readouterr().out
    # Refreshed first: the API swapped the roles, the state must read them.
    assert "pulumi up --refresh --stack gcp-prod" in out

    # The next plan keeps us-east1 the writer and its orchestrator at the active shape:
    # nothing the `pulumi up` that follows does demotes it.
    infrastructure = plan_single(project, "gcp-prod", project / "out")
    contract = infrastructure.plan["outputs"]["workloads"]
    assert contract["activeRegion"] == "us-east1"
    assert contract["regions"]["us-east1"]["role"] == "active"
    east_db = next(r for r in infrastructure.plan["resources"]
                   if r["type"] == "gcp:sql/databaseInstance:DatabaseInstance"
                   and r["region"] == "us-east1")
    assert "masterInstanceName" not in east_db["inputs"]
    assert east_db["inputs"]["instanceType"] == "CLOUD_SQL_INSTANCE"
    assert east_db["inputs"]["settings"]["backupConfiguration"]["pointInTimeRecoveryEnabled"]
    assert east_db["inputs"]["replicationCluster"]["failoverDrReplicaName"] == (
        f"{PROJECT}:{PRIMARY}")
    east = workloads_plans(project, infrastructure, project / "out")["us-east1"]
    server = next(r["inputs"]["values"] for r in east["resources"]
                  if r["type"] == "kubernetes:helm.sh/v3:Release"
                  and r["inputs"]["chart"] == "prefect-server")
    assert server["server"]["replicaCount"] == 3
    assert server["backgroundServices"]["runAsSeparateDeployment"] is True


def _home_replica() -> tuple[dict[str, str], str]:
    """After the failover: the home instance is a DR replica of the us-east1 primary."""
    return _json({"name": PRIMARY, "instanceType": "READ_REPLICA_INSTANCE",
                  "masterInstanceName": f"{PROJECT}:{REPLICA}", "state": "RUNNABLE",
                  "region": "us-central1", "settings": {"edition": "ENTERPRISE_PLUS"},
                  "replicationCluster": {"drReplica": True}})


def test_failback_after_a_failover_is_a_switchover_to_the_home_region(
        project: Path, kube: FakeKube, capsys: pytest.CaptureFixture[str]) -> None:
    stack_file = project / "stacks" / "Pulumi.gcp-prod.yaml"
    committed = stack_file.read_text()
    stack_file.write_text(committed.replace("hastack:activeRegion: us-central1",
                                            "hastack:activeRegion: us-east1"))
    recorded = Recorded([
        _json({"name": "hastack-gcp-prod-us-central1", "status": "RUNNING"}),
        _home_replica(),                                   # preflight: DR replica
        _home_replica(),                                   # database: not yet primary
        _operation("RUNNING", operation_type="SWITCHOVER"),
        _operation("DONE", operation_type="SWITCHOVER")], kube=kube.api)
    code = failover_main(["gcp-prod", "--yes", "--root", str(project)], failback=True,
                         cloud_runner=recorded.steps.run)
    assert code == 0, capsys.readouterr().err
    central = "https://container.googleapis.com/v1/projects/acme-hastack-prod/locations/" \
              "us-central1/clusters/hastack-gcp-prod-us-central1"
    assert [(m, _uri(u)) for m, u, _b in recorded.requests] == [
        ("GET", (central, {})),
        ("GET", (f"{SQL}/instances/{PRIMARY}", {})),
        ("GET", (f"{SQL}/instances/{PRIMARY}", {})),
        ("POST", (f"{SQL}/instances/{PRIMARY}/switchover", {})),
        ("GET", (f"{SQL}/operations/op-1", {}))]
    # A switchover loses nothing: no lag gate and no Monitoring call, and the home
    # region's orchestrator is scaled up once the database moved.
    assert kube.deployments == {"prefect/prefect-server": 1, "prefect/prefect-worker": 3}
    assert stack_file.read_text() == committed


def test_failback_on_enterprise_is_refused_while_the_old_primary_is_standalone(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack_file = project / "stacks" / "Pulumi.gcp-prod.yaml"
    text = stack_file.read_text().replace("hastack:activeRegion: us-central1",
                                          "hastack:activeRegion: us-east1")
    stack_file.write_text(text.replace("    backupRetentionDays: 21", "    backupRetentionDays: "
                                       "21\n    edition: ENTERPRISE\n    instanceClass: "
                                       "db-custom-8-30720"))
    before = stack_file.read_text()
    recorded = Recorded([_json({"name": "hastack-gcp-prod-us-central1", "status": "RUNNING"}),
                         _standalone(PRIMARY)])
    code = failover_main(["gcp-prod", "--yes", "--root", str(project)], failback=True,
                         cloud_runner=recorded.steps.run)
    err = capsys.readouterr().err
    assert code == 1 and "one-way" in err and "Traceback" not in err
    assert "switchover" not in [_uri(u)[0].rsplit("/", 1)[-1] for _m, u, _b in
                                recorded.requests]
    assert stack_file.read_text() == before


def test_without_google_credentials_the_run_is_refused_cleanly(
        project: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(project / "missing.json"))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(project / "no-gcloud"))
    code = failover_main(["gcp-prod", "--to", "us-east1", "--mode", "planned", "--yes",
                          "--root", str(project)])
    err = capsys.readouterr().err
    assert code == 2 and "no Google credentials" in err and "Traceback" not in err
    assert not (project / "build" / "failover" / "gcp-prod.json").exists()


# --- the steps, from the committed plans (no engine run) ------------------------------

def _golden(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((REPO / "tests" / "golden" / f"{name}.json").read_text())
    return loaded


def _gcp_plan(mode: str, advanced: bool = False) -> list[Step]:
    """gcp-prod's committed plan (Enterprise Plus, DR replica designated), or with
    `advanced=False` the same pair as Enterprise without a DR replica."""
    from hastack.failover.steps import build_steps

    infrastructure = _golden("gcp-prod")
    for instance in infrastructure["resources"]:
        if instance["type"] == "gcp:sql/databaseInstance:DatabaseInstance":
            assert instance["inputs"]["settings"]["edition"] == "ENTERPRISE_PLUS"
            if not advanced:
                instance["inputs"]["settings"]["edition"] = "ENTERPRISE"
                instance["inputs"].pop("replicationCluster", None)
    workloads = {region: _golden(f"gcp-prod-{region}") for region in ("us-central1",
                                                                      "us-east1")}
    return list(build_steps(infrastructure, "us-east1", mode,  # type: ignore[arg-type]
                            "stacks/Pulumi.gcp-prod.yaml", workloads).steps)


def test_a_planned_promotion_stops_the_old_writers_first() -> None:
    steps = _gcp_plan("planned")
    kinds = [(s.kind, s.region) for s in steps]
    stop = kinds.index(("workloads", "us-central1"))
    assert kinds.index(("database", "us-east1")) == stop + 1
    assert steps[stop].details["scale"] == [
        {"namespace": "prefect", "name": "prefect-server", "replicas": 0},
        {"namespace": "prefect", "name": "prefect-worker", "replicas": 0}]
    database = steps[stop + 1]
    assert (database.details["operation"], database.details["waitForZeroLag"]) == (
        "promoteReplica", True)
    # The standby scales to the active plan's counts (the worker HPA's floor).
    scale_up = next(s for s in steps if s.kind == "workloads" and "scale" in s.details
                    and s.region == "us-east1")
    assert scale_up.details["scale"] == SCALE
    assert scale_up.details["cluster"] == "hastack-gcp-prod-us-east1"


@pytest.mark.parametrize(("mode", "operation", "replica_failover"), [
    ("planned", "switchover", False), ("unplanned", "promoteReplica", True)])
def test_enterprise_plus_with_a_dr_replica_uses_advanced_dr(
        mode: str, operation: str, replica_failover: bool) -> None:
    steps = _gcp_plan(mode, advanced=True)
    database = next(s for s in steps if s.kind == "database")
    assert (database.details["operation"], database.details["replicaFailover"]) == (
        operation, replica_failover)
    # A switchover loses nothing and keeps the old primary as the DR replica: no
    # lag gate, no stopping of the old region's writers.
    lag_checks = [s for s in steps if s.details.get("check") == "replication-lag"]
    assert bool(lag_checks) == (mode == "unplanned")
    assert not [s for s in steps if s.kind == "workloads" and s.region == "us-central1"
                and "scale" in s.details]


@pytest.mark.parametrize(("args", "message"), [
    (["--to", "us-central1", "--mode", "planned"], "already the active region"),
    (["--to", "europe-west1", "--mode", "unplanned"], "not a region of gcp-prod"),
])
def test_impossible_gcp_requests_are_refused_before_any_call(
        project: Path, args: list[str], message: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    before = (project / "stacks" / "Pulumi.gcp-prod.yaml").read_text()
    code = failover_main(["gcp-prod", *args, "--yes", "--root", str(project)],
                         cloud_runner=lambda step: pytest.fail(f"cloud call: {step}"))
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert (project / "stacks" / "Pulumi.gcp-prod.yaml").read_text() == before
