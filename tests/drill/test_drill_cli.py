"""`hastack drill`: dry-run phases, refusals that start nothing, and timed AWS drills.

FIS and RDS run against moto; ElastiCache DescribeEvents (absent from moto), RDS events
with failover records (moto records none) and ARC Region switch go through botocore's
Stubber with the exact request shapes. No sleeps: the clock is injected.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from hastack.drill.cli import Runtime, drill_main
from hastack.drill.clock import Clock
from tests.conftest import REPO

T0 = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
ACCOUNT = "123456789012"
CLUSTER_ARN = f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:hastack-prod-aurora-us-east-1-cluster"
GROUP_ARN = f"arn:aws:elasticache:us-east-1:{ACCOUNT}:replicationgroup:hastack-prod-us-east-1"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "stacks", tmp_path / "stacks")
    shutil.copy(REPO / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    return tmp_path


def _no_cloud() -> Callable[[str, str], Any]:
    def refuse(service: str, region: str) -> Any:
        raise AssertionError(f"a cloud call ({service} in {region}) where none may happen")
    return refuse


def _clock() -> tuple[Clock, list[float]]:
    slept: list[float] = []
    return Clock(now=lambda: T0, sleep=slept.append, poll_seconds=15, max_polls=50), slept


def _refused(project: Path, capsys: pytest.CaptureFixture[str], *argv: str,
             outputs: dict[str, Any] | None = None) -> str:
    args = [*argv, "--root", str(project), "--yes"]
    if outputs is not None:
        (project / "outputs.json").write_text(json.dumps(outputs))
        args += ["--outputs", str(project / "outputs.json")]
    runtime = Runtime(aws=_no_cloud, gcp=_no_cloud, clock=_clock()[0],
                      assess=lambda root, env: pytest.fail("assessed a refused drill"))
    assert drill_main(args, runtime) == 2
    assert not (project / "build" / "drill").exists()
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    return err


@pytest.mark.parametrize(("env", "scenario", "first", "last"), [
    ("prod", "writer", "start", "edge"), ("prod", "zone", "start", "edge"),
    ("prod", "region", "start", "execution"), ("gcp-prod", "cache", "cache-failover",
                                               "cache-failover")])
def test_dry_run_prints_the_ordered_phases_without_a_cloud_call(
        project: Path, env: str, scenario: str, first: str, last: str) -> None:
    out = project / "phases.json"
    runtime = Runtime(aws=_no_cloud, gcp=_no_cloud,
                      assess=lambda root, env: pytest.fail("assessed a dry run"))
    assert drill_main([env, "--scenario", scenario, "--dry-run", "--json", str(out),
                       "--root", str(project)], runtime) == 0
    doc = json.loads(out.read_text())
    names = [p["name"] for p in doc["phases"]]
    assert (names[0], names[-1]) == (first, last)
    assert doc["region"] == ("us-west-2" if scenario == "region" else
                             "us-east-1" if env == "prod" else "us-central1")
    if scenario == "zone":
        assert names.index("Stop-Instances") < names.index("database-failover")


def test_unknown_scenario_is_refused(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "unknown scenario 'disk'" in _refused(project, capsys, "prod", "--scenario", "disk")


def test_region_drill_of_a_one_region_env_is_refused(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "needs a second region" in _refused(project, capsys, "dev", "--scenario", "region")


def test_gcp_region_drill_on_enterprise_points_to_planned_failover(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = project / "stacks" / "Pulumi.gcp-prod.yaml"
    stack.write_text(stack.read_text().replace(
        "    backupRetentionDays: 21", "    backupRetentionDays: 21\n    edition: ENTERPRISE\n"
        "    instanceClass: db-custom-8-30720"))
    err = _refused(project, capsys, "gcp-prod", "--scenario", "region")
    assert "Advanced DR switchover" in err and "database.edition ENTERPRISE" in err
    assert "hastack failover ENV --to REGION --mode planned" in err


def test_gcp_region_drill_dry_run_shows_the_switchover_to_the_standby(
        project: Path) -> None:
    out = project / "phases.json"
    runtime = Runtime(aws=_no_cloud, gcp=_no_cloud,
                      assess=lambda root, env: pytest.fail("assessed a dry run"))
    assert drill_main(["gcp-prod", "--scenario", "region", "--dry-run", "--json", str(out),
                       "--root", str(project)], runtime) == 0
    doc = json.loads(out.read_text())
    assert doc["region"] == "us-east1"
    assert [p["name"] for p in doc["phases"]] == ["preflight", "database-switchover",
                                                  "scale-up", "config"]
    assert "hastack failback" in doc["phases"][-1]["description"]


def test_missing_template_is_refused(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _refused(project, capsys, "prod", "--scenario", "cache",
                   outputs={"drillTemplates": {"writer": {"us-east-1": "EXT1"}}})
    assert "no cache drill template for us-east-1" in err
    assert "drillTemplates.cache.us-east-1" in err


def test_missing_outputs_and_standby_writer_are_refused(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "--outputs FILE" in _refused(project, capsys, "prod", "--scenario", "node")
    err = _refused(project, capsys, "prod", "--scenario", "writer", "--region", "us-west-2")
    assert "global secondary" in err
    assert "already active" in _refused(project, capsys, "prod", "--scenario", "region",
                                        "--region", "us-east-1")


def test_unconfirmed_drill_starts_nothing(project: Path) -> None:
    (project / "o.json").write_text(json.dumps({"drillTemplates": {"node": {
        "us-east-1": "EXT1"}}}))
    runtime = Runtime(aws=_no_cloud, clock=_clock()[0], confirm=lambda prompt: "staging",
                      assess=lambda root, env: {"domains": {"nodeFailure": {}}})
    assert drill_main(["prod", "--scenario", "node", "--outputs", str(project / "o.json"),
                       "--root", str(project)], runtime) == 2
    assert not (project / "build" / "drill").exists()


@pytest.fixture(scope="module")
def modeled(environment_plan: Callable[[str], list[Any]]) -> dict[str, Any]:
    """`hastack assess`'s output for prod, from the session's plans of the committed stacks."""
    from hastack.assess.cli import assess_plans

    return assess_plans([r.plan for r in environment_plan("prod")])


def _fis_template(fis: Any, targets: dict[str, Any], actions: dict[str, Any]) -> str:
    created = fis.create_experiment_template(
        clientToken="t", description="drill", roleArn=f"arn:aws:iam::{ACCOUNT}:role/fis",
        stopConditions=[{"source": "aws:cloudwatch:alarm",
                         "value": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:a"}],
        targets=targets, actions=actions)
    return str(created["experimentTemplate"]["id"])


@mock_aws
def test_writer_drill_on_moto_writes_a_report_beside_the_model(
        project: Path, modeled: dict[str, Any]) -> None:
    fis = boto3.client("fis", region_name="us-east-1")
    template = _fis_template(
        fis, {"Clusters-Target": {"resourceType": "aws:rds:cluster", "selectionMode": "ALL",
                                  "resourceArns": [CLUSTER_ARN]}},
        {"Failover-RDS": {"actionId": "aws:rds:failover-db-cluster",
                          "targets": {"Clusters": "Clusters-Target"}}})
    (project / "o.json").write_text(json.dumps({"drillTemplates": {"writer": {
        "us-east-1": template}}}))
    clock, slept = _clock()
    runtime = Runtime(aws=lambda: lambda s, r: boto3.client(s, region_name=r), clock=clock,
                      assess=lambda root, env: modeled, confirm=lambda prompt: "prod")
    assert drill_main(["prod", "--scenario", "writer", "--outputs", str(project / "o.json"),
                       "--root", str(project)], runtime) == 0
    experiments = fis.list_experiments()["experiments"]
    assert [e["experimentTemplateId"] for e in experiments] == [template]
    assert fis.list_tags_for_resource(resourceArn=experiments[0]["arn"])["tags"] == {
        "hastack:drill": "writer", "hastack:environment": "prod"}
    report = project / "build" / "drill" / "prod-writer-20261202T010000Z.json"
    doc = json.loads(report.read_text())
    assert doc["status"] == "completed" and doc["domain"] == "zoneFailure"
    zone = modeled["domains"]["zoneFailure"]
    assert doc["modeled"] == {"rtoSeconds": zone["rtoSeconds"], "rpoSeconds": zone["rpoSeconds"],
                              "terms": zone["terms"]}
    # The stack file's own zone targets (stacks/Pulumi.prod.yaml, over the tier's).
    from hastack.stacks import load_environment
    target = load_environment(REPO, "prod").recovery.zone_failure
    assert target is not None
    assert doc["targets"] == {"rtoSeconds": target.rto_seconds, "rpoSeconds": target.rpo_seconds}
    assert [p["term"] for p in doc["phases"]] == ["experiment", "Failover-RDS"]
    # moto records no failover events: the term is there, unmeasured, not invented.
    (database,) = doc["measured"]["terms"]
    assert database["term"] == "database-failover" and database["seconds"] is None
    assert database["resource"] == "hastack-prod-aurora-us-east-1-cluster"
    assert doc["measured"]["rtoSeconds"] is None and doc["rtoMet"] is None
    md = report.with_suffix(".md").read_text()
    assert "# Drill: writer on prod (us-east-1)" in md
    assert f"| modeled | {zone['rtoSeconds']:g} |" in md
    assert all(s == 15 for s in slept)


def _stubbed(service: str, region: str) -> tuple[Any, Stubber]:
    client = boto3.client(service, region_name=region, aws_access_key_id="x",
                          aws_secret_access_key="x")
    return client, Stubber(client)


def test_zone_measures_rds_elasticache_and_target_health_from_their_events(
        tmp_path: Path) -> None:
    from hastack.drill import aws

    start = T0
    template = {"targets": {
        "C": {"resourceType": "aws:rds:cluster", "resourceArns": [CLUSTER_ARN]},
        "R": {"resourceType": "aws:elasticache:replicationgroup", "resourceArns": [GROUP_ARN]}}}
    experiment = {"id": "EXP1", "startTime": start, "endTime": start + timedelta(minutes=10),
                  "state": {"status": "completed"}, "actions": {
                      "Pause-ElastiCache": {
                          "actionId": "aws:elasticache:replicationgroup-interrupt-az-power",
                          "startTime": start + timedelta(seconds=5),
                          "endTime": start + timedelta(minutes=10),
                          "state": {"status": "completed"}},
                      "Failover-RDS": {"actionId": "aws:rds:failover-db-cluster",
                                       "startTime": start + timedelta(seconds=4),
                                       "endTime": start + timedelta(seconds=6),
                                       "state": {"status": "completed"}}}}
    rds, rds_stub = _stubbed("rds", "us-east-1")
    rds_stub.add_response("describe_events", {"Events": [
        {"Message": "Started cross AZ failover to DB instance: b", "Date": start +
         timedelta(seconds=7), "SourceIdentifier": "c"},
        {"Message": "Completed failover to DB instance: b", "Date": start +
         timedelta(seconds=41), "SourceIdentifier": "c"}]},
        {"SourceIdentifier": "hastack-prod-aurora-us-east-1-cluster",
         "SourceType": "db-cluster", "EventCategories": ["failover"], "StartTime": start,
         "EndTime": start + timedelta(minutes=25)})
    cache, cache_stub = _stubbed("elasticache", "us-east-1")
    cache_stub.add_response("describe_events", {"Events": [
        {"Message": "Failover from primary node 0001 to replica node 0002 completed",
         "Date": start + timedelta(seconds=33), "SourceIdentifier": "g"}]},
        {"SourceIdentifier": "hastack-prod-us-east-1", "SourceType": "replication-group",
         "StartTime": start, "EndTime": start + timedelta(minutes=25)})
    clients = {"rds": rds, "elasticache": cache}
    samples = [{"at": "2026-12-02T01:00:15Z", "healthy": 2},
               {"at": "2026-12-02T01:00:30Z", "healthy": 0},
               {"at": "2026-12-02T01:01:15Z", "healthy": 1}]
    with rds_stub, cache_stub:
        measured = aws.measure({"experiment": experiment, "template": template,
                                "region": "us-east-1", "targetHealth": samples},
                               lambda service, region: clients[service])
    terms = {t["term"]: t for t in measured["terms"]}
    assert terms["database-failover"]["seconds"] == 34.0
    assert terms["database-failover"]["from"] == "2026-12-02T01:00:07Z"
    assert terms["cache-failover"]["seconds"] == 28.0  # power cut (FIS) -> failover completed
    assert terms["edge"]["seconds"] == 45.0
    assert [p["term"] for p in measured["phases"]] == ["experiment", "Failover-RDS",
                                                       "Pause-ElastiCache"]

    from hastack.drill.report import document, markdown
    doc = document(environment="prod", cloud="aws", scenario="zone", region="us-east-1",
                   started_at="2026-12-02T01:00:00Z", domain="zoneFailure",
                   modeled={"rtoSeconds": 70, "rpoSeconds": 0, "targetRtoSeconds": 90,
                            "targetRpoSeconds": 0, "terms": []}, measured=measured)
    assert doc["measured"]["rtoSeconds"] == 45.0 and doc["rtoMet"] is True
    assert "| edge | 45 | 2026-12-02T01:00:30Z | 2026-12-02T01:01:15Z |" in markdown(doc)


PLAN_ARN = f"arn:aws:arc-region-switch::{ACCOUNT}:plan/hastack-prod:abc123"


def test_region_drill_runs_the_plan_gracefully_in_the_region_it_activates() -> None:
    from hastack.drill import region

    arc, stub = _stubbed("arc-region-switch", "us-west-2")
    stub.add_response("start_plan_execution", {"executionId": "ex-1"},
                      {"planArn": PLAN_ARN, "targetRegion": "us-west-2", "action": "activate",
                       "mode": "graceful", "comment": "hastack drill prod"})
    base = {"planArn": PLAN_ARN, "executionId": "ex-1", "startTime": T0, "mode": "graceful",
            "executionAction": "activate", "executionRegion": "us-west-2"}
    stub.add_response("get_plan_execution", {**base, "executionState": "pendingManualApproval",
                                             "stepStates": [{"name": "approve",
                                                             "status": "pendingApproval"}]},
                      {"planArn": PLAN_ARN, "executionId": "ex-1"})
    stub.add_response("approve_plan_execution_step", {},
                      {"planArn": PLAN_ARN, "executionId": "ex-1", "stepName": "approve",
                       "approval": "approve", "comment": "hastack drill prod"})
    stub.add_response("get_plan_execution", {**base, "executionState": "completed",
                                             "endTime": T0 + timedelta(seconds=412)},
                      {"planArn": PLAN_ARN, "executionId": "ex-1"})
    events = [("e1", "stepStarted", "approve", 0), ("e2", "stepSucceeded", "approve", 60),
              ("e3", "stepStarted", "aurora", 61), ("e4", "stepSucceeded", "aurora", 300)]
    stub.add_response("list_plan_execution_events", {"items": [
        {"eventId": i, "type": kind, "stepName": step, "timestamp": T0 + timedelta(seconds=s)}
        for i, kind, step, s in events[:2]], "nextToken": "n"},
        {"planArn": PLAN_ARN, "executionId": "ex-1"})
    stub.add_response("list_plan_execution_events", {"items": [
        {"eventId": i, "type": kind, "stepName": step, "timestamp": T0 + timedelta(seconds=s)}
        for i, kind, step, s in events[2:]]},
        {"planArn": PLAN_ARN, "executionId": "ex-1", "nextToken": "n"})
    regions: list[str] = []

    def clients(service: str, where: str) -> Any:
        regions.append(where)
        return arc
    clock, slept = _clock()
    with stub:
        facts = region.run_region_switch(clients, PLAN_ARN, "us-west-2", clock=clock,
                                         approve=True, comment="hastack drill prod")
    stub.assert_no_pending_responses()
    assert regions == ["us-west-2"] and slept == [15]
    measured = region.measure(facts)
    assert [(p["term"], p["seconds"]) for p in measured["phases"]] == [
        ("execution", 412.0), ("approve", 60.0), ("aurora", 239.0)]
    assert measured["terms"][0]["seconds"] == 412.0 and measured["approvedSteps"] == ["approve"]


class _OneNodeCluster:
    """The Kubernetes API of a cluster whose one pool node has one pod to evict."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.evicted = False

    def request(self, method: str, path: str, body: Any = None,
                content_type: str = "application/json") -> tuple[int, Any]:
        self.calls.append((method, path))
        if path.startswith("/api/v1/nodes?"):
            return 200, {"items": [{"metadata": {"name": "gke-node-1"}}]}
        if path.startswith("/api/v1/pods?"):
            pods = [] if self.evicted else [{"metadata": {"name": "w", "namespace": "prefect"},
                                             "status": {"phase": "Running"}}]
            return 200, {"items": pods}
        if path.endswith("/eviction"):
            self.evicted = True
            return 201, {}
        return 200, {}


def test_gcp_node_drill_drains_a_node_of_the_regions_pool_without_secrets(
        project: Path, plan_once_per_content: None) -> None:
    """No kubeconfig (a secret output) and no --outputs: the API comes from the plan's
    cluster, as `hastack failover` reaches it; the pool is the plan's pool there."""
    import urllib.parse

    shutil.copy(REPO / "__main__.py", project / "__main__.py")  # the drill plans gcp-prod

    cluster = _OneNodeCluster()
    made: list[int] = []

    def kube() -> _OneNodeCluster:
        made.append(1)
        return cluster
    runtime = Runtime(aws=_no_cloud, gcp=_no_cloud, clock=_clock()[0], kube=kube,
                      assess=lambda root, env: {"domains": {"nodeFailure": {}}})
    assert drill_main(["gcp-prod", "--scenario", "node", "--yes", "--root", str(project)],
                      runtime) == 0
    assert made == [1]
    selector = urllib.parse.quote("cloud.google.com/gke-nodepool=hastack-gcp-prod-pool")
    assert cluster.calls[0] == ("GET", f"/api/v1/nodes?labelSelector={selector}")
    assert ("PATCH", "/api/v1/nodes/gke-node-1") in cluster.calls
    assert ("POST", "/api/v1/namespaces/prefect/pods/w/eviction") in cluster.calls
    (report,) = (project / "build" / "drill").glob("gcp-prod-node-*.json")
    assert json.loads(report.read_text())["status"] == "completed"


@mock_aws
@pytest.mark.parametrize(("zones", "refused"), [(["us-east-1b", "us-east-1a"], True),
                                                (["us-east-1a", "us-east-1b"], False)])
def test_cache_drill_needs_the_primary_in_the_zone_it_cuts(
        project: Path, capsys: pytest.CaptureFixture[str], zones: list[str],
        refused: bool) -> None:
    fis = boto3.client("fis", region_name="us-east-1")
    template = _fis_template(
        fis, {"ReplicationGroups-Target": {
            "resourceType": "aws:elasticache:replicationgroup", "selectionMode": "ALL",
            "resourceArns": [GROUP_ARN], "parameters": {"availabilityZoneIdentifier":
                                                         "us-east-1a"}}},
        {"Pause-ElastiCache": {
            "actionId": "aws:elasticache:replicationgroup-interrupt-az-power",
            "parameters": {"duration": "PT10M"},
            "targets": {"ReplicationGroups": "ReplicationGroups-Target"}}})
    # moto places the primary in the first of PreferredCacheClusterAZs.
    boto3.client("elasticache", region_name="us-east-1").create_replication_group(
        ReplicationGroupId="hastack-prod-us-east-1", ReplicationGroupDescription="cache",
        Engine="redis", CacheNodeType="cache.r7g.large", NumCacheClusters=2,
        PreferredCacheClusterAZs=zones)
    (project / "o.json").write_text(json.dumps({"drillTemplates": {"cache": {
        "us-east-1": template}}}))
    started: list[str] = []

    def run(root: Path, env: str) -> dict[str, Any]:
        started.append(env)
        raise SystemExit(0)  # past the preflight: the drill would start here
    runtime = Runtime(aws=lambda: lambda s, r: boto3.client(s, region_name=r),
                      clock=_clock()[0], confirm=lambda p: "prod", assess=run)
    argv = ["prod", "--scenario", "cache", "--outputs", str(project / "o.json"),
            "--root", str(project)]
    if refused:
        assert drill_main(argv, runtime) == 2
        assert "primary of hastack-prod-us-east-1 is in us-east-1b" in capsys.readouterr().err
        assert started == []
    else:
        with pytest.raises(SystemExit):
            drill_main(argv, runtime)
        assert started == ["prod"]
    assert fis.list_experiments()["experiments"] == []
