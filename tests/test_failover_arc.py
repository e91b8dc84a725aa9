"""`hastack failover` through an ARC Region switch plan: exact requests, approval, resume."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from hastack.failover.arc import ArcSteps
from hastack.failover.aws import StepFailed
from hastack.failover.cli import failover_main
from hastack.failover.steps import FailoverError, Step, build_steps
from hastack.plan.pipeline import PlanResult
from tests.conftest import REPO

PLAN_ARN = "arn:aws:arc-region-switch::123456789012:plan/hastack-prod:abc123"
T0 = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)


def _step(mode: str = "planned") -> Step:
    return Step("database", "ARC ...", "us-west-2", {
        "executor": "arc", "planName": "hastack-prod", "targetRegion": "us-west-2",
        "mode": mode, "steps": ["approve", "aurora-global-database"]})


class Arc:
    """One stubbed arc-region-switch client; every call is asserted in order."""

    def __init__(self) -> None:
        self.client = boto3.client("arc-region-switch", region_name="us-west-2",
                                   aws_access_key_id="x", aws_secret_access_key="x")
        self.stub = Stubber(self.client)
        self.regions: list[tuple[str, str]] = []

    def factory(self, service: str, region: str) -> Any:
        self.regions.append((service, region))
        return self.client

    def plans(self, active: str | None = None) -> None:
        plan: dict[str, Any] = {"arn": PLAN_ARN, "owner": "123456789012", "name": "hastack-prod",
                                "regions": ["us-east-1", "us-west-2"],
                                "recoveryApproach": "activePassive"}
        if active:
            plan["activePlanExecution"] = active
        other = {**plan, "arn": PLAN_ARN.replace("hastack-prod", "other"), "name": "other"}
        self.stub.add_response("list_plans_in_region", {"plans": [other, plan]}, {})

    def events(self, *items: tuple[str, str, str | None]) -> None:
        self.stub.add_response(
            "list_plan_execution_events",
            {"items": [{"eventId": eid, "type": kind, "timestamp": T0,
                        **({"stepName": step} if step else {})} for eid, kind, step in items]},
            {"planArn": PLAN_ARN, "executionId": "ex-1"})

    def state(self, status: str, steps: dict[str, str] | None = None,
              mode: str = "graceful") -> None:
        self.stub.add_response("get_plan_execution", {
            "planArn": PLAN_ARN, "executionId": "ex-1", "startTime": T0, "mode": mode,
            "executionState": status, "executionAction": "activate",
            "executionRegion": "us-west-2",
            "stepStates": [{"name": n, "status": s} for n, s in (steps or {}).items()]},
            {"planArn": PLAN_ARN, "executionId": "ex-1"})


def _arc_steps(arc: Arc, approvals: list[str], approve: bool = True,
               sleeps: list[float] | None = None) -> ArcSteps:
    def approver(name: str) -> bool:
        approvals.append(name)
        return approve

    return ArcSteps(arc.factory, lambda step: "preflight ok", approver, poll_seconds=5,
                    sleep=(sleeps if sleeps is not None else []).append, say=lambda _: None)


def test_planned_execution_is_graceful_waits_for_approval_and_follows_events() -> None:
    arc, approvals, sleeps = Arc(), [], []  # type: ignore[var-annotated]
    arc.plans()
    arc.stub.add_response("start_plan_execution", {"executionId": "ex-1"}, {
        "planArn": PLAN_ARN, "targetRegion": "us-west-2", "action": "activate",
        "mode": "graceful", "latestVersion": "true", "comment": ANY})
    arc.events(("e1", "executionStarted", None), ("e2", "stepPendingApproval", "approve"))
    arc.state("pendingManualApproval", {"approve": "pendingApproval"})
    arc.stub.add_response("approve_plan_execution_step", {}, {
        "planArn": PLAN_ARN, "executionId": "ex-1", "stepName": "approve",
        "approval": "approve", "comment": ANY})
    arc.events(("e1", "executionStarted", None), ("e3", "stepSucceeded", "approve"))
    arc.state("completed")
    with arc.stub:
        outcome = _arc_steps(arc, approvals, sleeps=sleeps).run(_step())
        arc.stub.assert_no_pending_responses()
    assert "ex-1 completed" in outcome
    assert approvals == ["approve"] and sleeps == [5]
    # The data plane of the region being activated, never the failing one.
    assert set(arc.regions) == {("arc-region-switch", "us-west-2")}


def test_unplanned_execution_is_ungraceful() -> None:
    arc = Arc()
    arc.plans()
    arc.stub.add_response("start_plan_execution", {"executionId": "ex-1"}, {
        "planArn": PLAN_ARN, "targetRegion": "us-west-2", "action": "activate",
        "mode": "ungraceful", "latestVersion": "true", "comment": ANY})
    arc.events()
    arc.state("completedWithExceptions", mode="ungraceful")
    with arc.stub:
        assert "completedWithExceptions" in _arc_steps(arc, []).run(_step("unplanned"))


def test_an_unconfirmed_approval_is_never_sent() -> None:
    arc, approvals = Arc(), []  # type: ignore[var-annotated]
    arc.plans()
    arc.stub.add_response("start_plan_execution", {"executionId": "ex-1"}, {
        "planArn": PLAN_ARN, "targetRegion": "us-west-2", "action": "activate",
        "mode": "graceful", "latestVersion": "true", "comment": ANY})
    arc.events()
    arc.state("pendingManualApproval", {"approve": "pendingApproval"})
    with arc.stub, pytest.raises(StepFailed, match="waits for approval"):
        _arc_steps(arc, approvals, approve=False).run(_step())
    assert approvals == ["approve"]   # asked, refused, nothing approved (stub has no call)


def test_a_failed_step_pauses_and_the_rerun_resumes_the_same_execution() -> None:
    arc = Arc()
    arc.plans()
    arc.stub.add_response("start_plan_execution", {"executionId": "ex-1"}, {
        "planArn": PLAN_ARN, "targetRegion": "us-west-2", "action": "activate",
        "mode": "graceful", "latestVersion": "true", "comment": ANY})
    arc.events(("e1", "stepFailed", "scale-orchestrator"))
    arc.state("pausedByFailedStep", {"aurora-global-database": "completed",
                                     "scale-orchestrator": "failed"})
    with arc.stub, pytest.raises(StepFailed, match="at step scale-orchestrator; rerun"):
        _arc_steps(arc, []).run(_step())

    rerun = Arc()
    rerun.plans(active="ex-1")
    rerun.state("pausedByFailedStep", {"scale-orchestrator": "failed"})
    rerun.stub.add_response("update_plan_execution", {}, {
        "planArn": PLAN_ARN, "executionId": "ex-1", "action": "resume", "comment": ANY})
    rerun.events(("e1", "stepFailed", "scale-orchestrator"), ("e2", "stepSucceeded", None))
    rerun.state("completed")
    with rerun.stub:   # no start_plan_execution: the same execution goes on
        assert "ex-1 completed" in _arc_steps(rerun, []).run(_step())
        rerun.stub.assert_no_pending_responses()


def test_a_different_execution_under_way_is_not_hijacked() -> None:
    arc = Arc()
    arc.plans(active="ex-1")
    arc.stub.add_response("get_plan_execution", {
        "planArn": PLAN_ARN, "executionId": "ex-1", "startTime": T0, "mode": "graceful",
        "executionState": "inProgress", "executionAction": "activate",
        "executionRegion": "us-east-1"}, {"planArn": PLAN_ARN, "executionId": "ex-1"})
    with arc.stub, pytest.raises(StepFailed, match="another execution"):
        _arc_steps(arc, []).run(_step())


def test_a_missing_plan_is_a_clear_failure() -> None:
    arc = Arc()
    arc.stub.add_response("list_plans_in_region", {"plans": []}, {})
    with arc.stub, pytest.raises(StepFailed, match="no Region switch plan 'hastack-prod'"):
        _arc_steps(arc, []).run(_step())


# --- the steps and the CLI ------------------------------------------------------------


@pytest.fixture(scope="module")
def prod_plan(stack_plan: Callable[[str], PlanResult]) -> dict[str, Any]:
    """The committed prod plan, this module's own copy of the session's."""
    return copy.deepcopy(stack_plan("prod").plan)


@pytest.mark.parametrize(("mode", "execution"), [("planned", "graceful"),
                                                 ("unplanned", "ungraceful")])
def test_with_a_plan_the_cloud_work_is_one_arc_execution(prod_plan: dict[str, Any], mode: str,
                                                         execution: str) -> None:
    steps = build_steps(prod_plan, "us-west-2", mode, "stacks/Pulumi.prod.yaml").steps  # type: ignore[arg-type]
    database = [s for s in steps if s.kind == "database"]
    assert len(database) == 1 and database[0].details["executor"] == "arc"
    assert f"({execution}:" in database[0].action
    assert database[0].details["steps"] == ["approve", "aurora-global-database",
                                            "scale-orchestrator", "route53-health-checks"]
    assert not any("switchover_global_cluster" in s.action or "failover_global_cluster"
                   in s.action for s in steps)
    # The unplanned preflight lag check stays, before ARC starts.
    lag = [i for i, s in enumerate(steps) if s.details.get("check") == "replication-lag"]
    assert bool(lag) == (mode == "unplanned")
    assert all(i < steps.index(database[0]) for i in lag)


def test_without_a_plan_the_direct_aurora_path_stays(prod_plan: dict[str, Any]) -> None:
    plain = copy.deepcopy(prod_plan)
    plain["resources"] = [r for r in plain["resources"]
                          if r["type"] != "aws:arcregionswitch/plan:Plan"]
    database = next(s for s in build_steps(plain, "us-west-2", "planned", "f").steps
                    if s.kind == "database")
    assert "switchover_global_cluster" in database.action
    assert "executor" not in database.details


def test_a_plan_without_a_workflow_for_the_target_is_refused(prod_plan: dict[str, Any]) -> None:
    broken = copy.deepcopy(prod_plan)
    plan = next(r for r in broken["resources"] if r["type"] == "aws:arcregionswitch/plan:Plan")
    plan["inputs"]["workflows"] = [w for w in plan["inputs"]["workflows"]
                                   if w["workflowTargetRegion"] != "us-west-2"]
    with pytest.raises(FailoverError, match="no workflow that activates us-west-2"):
        build_steps(broken, "us-west-2", "planned", "f")


def test_cli_failed_execution_keeps_the_stack_file_and_the_rerun_resumes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], plan_once_per_content: None) -> None:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "stacks", tmp_path / "stacks")
    stack_file = tmp_path / "stacks" / "Pulumi.prod.yaml"
    before = stack_file.read_text()
    args = ["prod", "--to", "us-west-2", "--mode", "planned", "--yes", "--root", str(tmp_path)]

    arc = Arc()
    arc.plans()
    arc.stub.add_response("start_plan_execution", {"executionId": "ex-1"}, {
        "planArn": PLAN_ARN, "targetRegion": "us-west-2", "action": "activate",
        "mode": "graceful", "latestVersion": "true", "comment": ANY})
    arc.events(("e1", "stepFailed", "aurora-global-database"))
    arc.state("pausedByFailedStep", {"aurora-global-database": "failed"})
    with arc.stub:
        assert failover_main(args, cloud_runner=_arc_steps(arc, []).run) == 1
    err = capsys.readouterr().err
    assert "(database: ARC Region switch plan hastack-prod" in err and "Traceback" not in err
    assert stack_file.read_text() == before
    journal = json.loads((tmp_path / "build" / "failover" / "prod.json").read_text())
    assert journal["done"] == [0]   # the preflight; the ARC step is pending

    rerun = Arc()
    rerun.plans(active="ex-1")
    rerun.state("pausedByFailedStep", {"aurora-global-database": "failed"})
    rerun.stub.add_response("update_plan_execution", {}, {
        "planArn": PLAN_ARN, "executionId": "ex-1", "action": "resume", "comment": ANY})
    rerun.events()
    rerun.state("completed")
    with rerun.stub:
        assert failover_main(args, cloud_runner=_arc_steps(rerun, []).run) == 0
        rerun.stub.assert_no_pending_responses()
    assert "hastack:activeRegion: us-west-2" in stack_file.read_text()
    assert not (tmp_path / "build" / "failover" / "prod.json").exists()
