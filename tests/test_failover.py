"""`hastack failover`: ordered dry-run, refusals, a failed run that resumes, AWS calls."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from hastack.failover.aws import AwsSteps, StepFailed
from hastack.failover.cli import failover_main
from hastack.failover.steps import KIND_ORDER, Step
from hastack.plan.pipeline import plan_single
from tests.conftest import REPO


@pytest.fixture
def project(tmp_path: Path, plan_once_per_content: None) -> Path:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "stacks", tmp_path / "stacks")
    return tmp_path


def _no_cloud(step: Step) -> str:
    raise AssertionError(f"a cloud call during a dry run: {step}")


def _dry_run(project: Path, env: str, to: str, mode: str) -> dict[str, Any]:
    out = project / f"{env}-{mode}.json"
    code = failover_main([env, "--to", to, "--mode", mode, "--dry-run", "--json", str(out),
                          "--root", str(project)], cloud_runner=_no_cloud)
    assert code == 0
    return json.loads(out.read_text())


@pytest.mark.parametrize("mode", ["planned", "unplanned"])
@pytest.mark.parametrize(("env", "to"), [("prod", "us-west-2"), ("gcp-prod", "us-east1")])
def test_dry_run_is_complete_and_ordered(project: Path, env: str, to: str, mode: str) -> None:
    before = (project / "stacks" / f"Pulumi.{env}.yaml").read_text()
    document = _dry_run(project, env, to, mode)
    assert (document["stack"], document["to"], document["mode"]) == (env, to, mode)
    assert document["from"] != to
    kinds = [step["kind"] for step in document["steps"]]
    assert set(kinds) == {"preflight", "database", "cache", "config", "dns", "workloads",
                          "verify"}
    assert kinds[0] == "preflight" and kinds[-1] == "verify"
    # The cloud steps come first (a GCP failover scales the standby itself, after the
    # database moved); the stack file only after every one of them; then the follow-ups.
    config = kinds.index("config")
    assert kinds[config:] == sorted(kinds[config:], key=KIND_ORDER.index)
    assert max(i for i, kind in enumerate(kinds) if kind == "preflight") < kinds.index("database")
    assert kinds.index("database") < config
    scale_ups = [i for i, step in enumerate(document["steps"])
                 if step["kind"] == "workloads" and step["region"] == to]
    assert kinds.index("database") < scale_ups[0]
    assert all(set(step) == {"kind", "action", "region"} for step in document["steps"])
    database = next(step for step in document["steps"] if step["kind"] == "database")
    if env == "prod":
        # prod has a Region switch plan: ARC does the Aurora failover/switchover.
        assert "ARC Region switch plan hastack-prod" in database["action"]
        assert ("(ungraceful: Aurora failover" if mode == "unplanned"
                else "(graceful: Aurora switchover") in database["action"]
        lag_checks = [s for s in document["steps"] if "AuroraGlobalDBRPOLag" in s["action"]]
        assert bool(lag_checks) == (mode == "unplanned")
    else:
        # gcp-prod is Enterprise Plus with a designated DR replica: Advanced DR.
        assert ("promoteReplica hastack-gcp-prod-us-east1-pg failover=true" if mode == "unplanned"
                else "instances.switchover hastack-gcp-prod-us-east1-pg") in database["action"]
    # A dry run changes nothing and leaves no journal.
    assert (project / "stacks" / f"Pulumi.{env}.yaml").read_text() == before
    assert not (project / "build" / "failover" / f"{env}.json").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["prod", "--to", "us-east-1", "--mode", "planned"], "already the active region"),
    (["prod", "--to", "eu-west-1", "--mode", "planned"], "not a region of prod"),
    (["dev", "--to", "us-west-2", "--mode", "planned"], "nowhere to fail over to"),
    (["prd", "--to", "us-west-2", "--mode", "planned"], "no environment 'prd'"),
    (["prod-us-east-1", "--to", "us-west-2", "--mode", "planned"], "workloads stack"),
    (["prod", "--to", "us-west-2", "--mode", "planned", "--accept-data-loss"], "unplanned only"),
])
def test_impossible_requests_are_refused(project: Path, args: list[str], message: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    before = (project / "stacks" / "Pulumi.prod.yaml").read_text()
    code = failover_main([*args, "--yes", "--root", str(project)], cloud_runner=_no_cloud)
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert (project / "stacks" / "Pulumi.prod.yaml").read_text() == before


def test_unconfirmed_run_without_a_terminal_is_refused(
        project: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = failover_main(["prod", "--to", "us-west-2", "--mode", "planned",
                          "--root", str(project)], cloud_runner=_no_cloud)
    assert code == 2 and "--yes" in capsys.readouterr().err


def test_a_failed_step_leaves_the_stack_file_alone_and_a_rerun_resumes(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack_file = project / "stacks" / "Pulumi.prod.yaml"
    before = stack_file.read_text()
    calls: list[str] = []

    def broken(step: Step) -> str:
        calls.append(step.kind)
        if step.kind == "database":
            raise RuntimeError("Throttling: rate exceeded")
        return "ok"

    args = ["prod", "--to", "us-west-2", "--mode", "planned", "--yes", "--root", str(project)]
    assert failover_main(args, cloud_runner=broken) == 1
    err = capsys.readouterr().err
    assert "step 2 (database" in err and "resume at step 2" in err
    assert stack_file.read_text() == before
    journal = json.loads((project / "build" / "failover" / "prod.json").read_text())
    assert journal["done"] == [0]

    # A different request is refused while this one is unfinished.
    other = ["prod", "--to", "us-west-2", "--mode", "unplanned", "--accept-data-loss", "--yes",
             "--root", str(project)]
    assert failover_main(other, cloud_runner=broken) == 2
    assert "unfinished failover" in capsys.readouterr().err

    calls.clear()
    assert failover_main(args, cloud_runner=lambda step: calls.append(step.kind) or "ok") == 0
    assert calls == ["database", "cache"]  # the preflight is not run again
    after = stack_file.read_text()
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True)
               if a != b]
    assert changed == [("  hastack:activeRegion: us-east-1", "  hastack:activeRegion: us-west-2")]
    assert not (project / "build" / "failover" / "prod.json").exists()

    # The next plan keeps the new region the writer and its orchestrator active.
    contract = plan_single(project, "prod", project / "out").plan["outputs"]["workloads"]
    assert contract["activeRegion"] == "us-west-2"
    assert contract["regions"]["us-west-2"]["role"] == "active"
    assert ".global-" in contract["regions"]["us-west-2"]["database"]["host"]
    # prod runs Prefect: its new standby (no pod until promotion) keeps the global writer
    # endpoint too, never us-east-1's own (now inactive) writer endpoint.
    assert contract["regions"]["us-east-1"]["role"] == "standby"
    assert ".global-" in contract["regions"]["us-east-1"]["database"]["host"]


# --- AWS steps against botocore's Stubber (moto has no global-cluster switchover) -----

ARN_EAST = "arn:aws:rds:us-east-1:123456789012:cluster:hastack-prod-aurora-us-east-1"
ARN_WEST = "arn:aws:rds:us-west-2:123456789012:cluster:hastack-prod-aurora-us-west-2"


def _global(writer: str, moving: bool = False) -> dict[str, Any]:
    cluster: dict[str, Any] = {"GlobalClusterIdentifier": "hastack-prod-aurora",
                               "GlobalClusterMembers": [
                                   {"DBClusterArn": ARN_EAST, "IsWriter": writer == ARN_EAST},
                                   {"DBClusterArn": ARN_WEST, "IsWriter": writer == ARN_WEST}]}
    if moving:
        cluster["FailoverState"] = {"Status": "switching-over", "ToDbClusterArn": ARN_WEST}
    return {"GlobalClusters": [cluster]}


def _database_step(allow_data_loss: bool) -> Step:
    return Step("database", "move", "us-west-2", {
        "globalClusterIdentifier": "hastack-prod-aurora",
        "targetCluster": "hastack-prod-aurora-us-west-2", "allowDataLoss": allow_data_loss})


@pytest.mark.parametrize("allow_data_loss", [False, True])
def test_the_writer_moves_with_the_documented_request_shapes(allow_data_loss: bool) -> None:
    rds = boto3.client("rds", region_name="us-west-2", aws_access_key_id="x",
                       aws_secret_access_key="x")
    stub = Stubber(rds)
    stub.add_response("describe_db_clusters", {"DBClusters": [{"DBClusterArn": ARN_WEST}]},
                      {"DBClusterIdentifier": "hastack-prod-aurora-us-west-2"})
    stub.add_response("describe_global_clusters", _global(ARN_EAST),
                      {"GlobalClusterIdentifier": "hastack-prod-aurora"})
    if allow_data_loss:
        stub.add_response("failover_global_cluster", {}, {
            "GlobalClusterIdentifier": "hastack-prod-aurora",
            "TargetDbClusterIdentifier": ARN_WEST, "AllowDataLoss": True})
    else:
        stub.add_response("switchover_global_cluster", {}, {
            "GlobalClusterIdentifier": "hastack-prod-aurora",
            "TargetDbClusterIdentifier": ARN_WEST})
    stub.add_response("describe_global_clusters", _global(ARN_EAST, moving=True),
                      {"GlobalClusterIdentifier": "hastack-prod-aurora"})
    stub.add_response("describe_global_clusters", _global(ARN_WEST),
                      {"GlobalClusterIdentifier": "hastack-prod-aurora"})
    steps = AwsSteps(lambda service, region: rds, rpo_target_seconds=20,
                     accept_data_loss=allow_data_loss, poll_seconds=5, sleep=lambda _s: None)
    with stub:
        outcome = steps.run(_database_step(allow_data_loss))
    stub.assert_no_pending_responses()
    assert "is the writer after 10 s" in outcome


def _lag_steps(datapoints: list[dict[str, Any]], accept: bool) -> tuple[AwsSteps, Stubber]:
    cloudwatch = boto3.client("cloudwatch", region_name="us-west-2", aws_access_key_id="x",
                              aws_secret_access_key="x")
    stub = Stubber(cloudwatch)
    stub.add_response("get_metric_statistics", {"Datapoints": datapoints})
    return AwsSteps(lambda service, region: cloudwatch, rpo_target_seconds=20,
                    accept_data_loss=accept), stub


LAG_STEP = Step("preflight", "lag", "us-west-2",
                {"check": "replication-lag", "cluster": "hastack-prod-aurora-us-west-2"})


@pytest.mark.parametrize(("datapoints", "accept", "message"), [
    ([], False, "unknown"),
    ([{"Timestamp": "2026-12-01T00:00:00Z", "Maximum": 45_000.0}], False, "above the RPO"),
])
def test_unplanned_refuses_an_unknown_or_excessive_lag(datapoints: list[dict[str, Any]],
                                                       accept: bool, message: str) -> None:
    steps, stub = _lag_steps(datapoints, accept)
    with stub, pytest.raises(StepFailed, match=message):
        steps.run(LAG_STEP)


def test_unplanned_goes_on_with_accept_data_loss_or_a_small_lag() -> None:
    steps, stub = _lag_steps([], accept=True)
    with stub:
        assert "--accept-data-loss" in steps.run(LAG_STEP)
    steps, stub = _lag_steps([{"Timestamp": "2026-12-01T00:00:00Z", "Maximum": 800.0}], False)
    with stub:
        assert "0.8 s" in steps.run(LAG_STEP)
