"""An AWS failover as one ARC Region switch plan execution (boto3 `arc-region-switch`).

Every call goes to the ARC data plane of the region being activated (the botocore
model routes only CreatePlan/UpdatePlan/GetPlan/ListPlans/ListRoute53HealthChecks/tags
to the partition's control plane; everything here is regional), so nothing depends on
the region that failed:

* ListPlansInRegion: the plan by its name (the infrastructure stack's plan), and its
  `activePlanExecution`, so a rerun follows (and resumes) the execution already under
  way instead of starting a second one;
* StartPlanExecution(action=activate, targetRegion, mode): planned = `graceful`
  (Aurora switchover), unplanned = `ungraceful` (Aurora failover with data loss);
* GetPlanExecution + ListPlanExecutionEvents: progress, step by step;
* ApprovePlanExecutionStep: only when the operator confirms (`--yes` or typing the
  environment's name); without it the execution stays pending and a rerun asks again;
* UpdatePlanExecution(action=resume): a rerun after a step failed and ARC paused.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from hastack.failover.aws import ClientFactory, StepFailed
from hastack.failover.steps import Step

DONE = frozenset({"completed", "completedWithExceptions", "completedMonitoringApplicationHealth"})
FAILED = frozenset({"failed", "canceled", "planExecutionTimedOut"})
PAUSED = frozenset({"pausedByFailedStep", "pausedByOperator"})
MODES = {"planned": "graceful", "unplanned": "ungraceful"}
Approver = Callable[[str], bool]   # step name -> may it be approved?


class ArcSteps:
    """Runs the `database` step of an ARC plan through ARC; other steps with `direct`
    (AwsSteps.run: the preflight checks stay the same)."""

    def __init__(self, clients: ClientFactory, direct: Callable[[Step], str], approve: Approver,
                 poll_seconds: float = 15.0, timeout_seconds: float = 7200.0,
                 sleep: Callable[[float], None] = time.sleep,
                 say: Callable[[str], None] = print) -> None:
        self.clients = clients
        self.direct = direct
        self.approve = approve
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        self.sleep = sleep
        self.say = say

    def run(self, step: Step) -> str:
        if step.kind == "database" and step.details.get("executor") == "arc":
            return self.execute(step)
        return self.direct(step)

    # ------------------------------------------------------------------ execution

    def execute(self, step: Step) -> str:
        region = step.details["targetRegion"]
        arc = self.clients("arc-region-switch", region)
        plan = self._plan(arc, step.details["planName"], region)
        arn = plan["arn"]
        execution_id = self._resumable(arc, arn, plan.get("activePlanExecution"), region)
        if execution_id is None:
            started = arc.start_plan_execution(
                planArn=arn, targetRegion=region, action="activate",
                mode=MODES[step.details["mode"]], latestVersion="true",
                comment=f"hastack failover {step.details['mode']} to {region}")
            execution_id = started["executionId"]
            self.say(f"      ARC execution {execution_id} started ({MODES[step.details['mode']]})")
        return self._follow(arc, arn, execution_id)

    def _plan(self, arc: Any, name: str, region: str) -> dict[str, Any]:
        token: str | None = None
        while True:
            page = arc.list_plans_in_region(**({"nextToken": token} if token else {}))
            for plan in page.get("plans", []):
                if plan["name"] == name:
                    return dict(plan)
            token = page.get("nextToken")
            if not token:
                raise StepFailed(f"no Region switch plan '{name}' in {region}'s ARC data "
                                 "plane: deploy the infrastructure stack first")

    def _resumable(self, arc: Any, arn: str, active: str | None, region: str) -> str | None:
        """The execution under way toward `region`, resumed if ARC paused it."""
        if not active:
            return None
        current = arc.get_plan_execution(planArn=arn, executionId=active)
        if current["executionAction"] != "activate" or current["executionRegion"] != region:
            raise StepFailed(f"another execution of the plan is under way ({active}: "
                             f"{current['executionAction']} {current['executionRegion']}, "
                             f"{current['executionState']}); let it finish or cancel it first")
        if current["executionState"] in PAUSED:
            arc.update_plan_execution(planArn=arn, executionId=active, action="resume",
                                      comment="hastack failover: rerun resumes")
            self.say(f"      ARC execution {active} resumed")
        else:
            self.say(f"      following ARC execution {active} ({current['executionState']})")
        return active

    def _follow(self, arc: Any, arn: str, execution_id: str) -> str:
        seen: set[str] = set()
        waited = 0.0
        while True:
            for event in self._new_events(arc, arn, execution_id, seen):
                where = f" {event['stepName']}" if event.get("stepName") else ""
                error = f": {event['error']}" if event.get("error") else ""
                self.say(f"      {event.get('type', 'event')}{where}{error}")
            state = arc.get_plan_execution(planArn=arn, executionId=execution_id)
            status = state["executionState"]
            if status in DONE:
                took = state.get("actualRecoveryTime")
                return (f"ARC execution {execution_id} {status}"
                        + (f" (recovery time {took})" if took else ""))
            if status in FAILED or status == "pausedByFailedStep":
                failed = [s["name"] for s in state.get("stepStates", [])
                          if s.get("status") == "failed"]
                then = ("rerun to resume it" if status == "pausedByFailedStep"
                        else "rerun to start a new execution")
                at = f" at step {', '.join(failed)}" if failed else ""
                raise StepFailed(f"ARC execution {execution_id} is {status}{at}; {then}")
            if status == "pendingManualApproval":
                self._approve(arc, arn, execution_id, state)
            if waited >= self.timeout_seconds:
                raise StepFailed(f"ARC execution {execution_id} still {status} after "
                                 f"{self.timeout_seconds:.0f} s; rerun to keep following it")
            self.sleep(self.poll_seconds)
            waited += self.poll_seconds

    def _approve(self, arc: Any, arn: str, execution_id: str, state: dict[str, Any]) -> None:
        for pending in [s["name"] for s in state.get("stepStates", [])
                        if s.get("status") == "pendingApproval"]:
            if not self.approve(pending):
                raise StepFailed(f"ARC step '{pending}' waits for approval and was not "
                                 "approved; rerun (with --yes or typing the environment's "
                                 "name) or approve it in the ARC console")
            arc.approve_plan_execution_step(
                planArn=arn, executionId=execution_id, stepName=pending, approval="approve",
                comment="approved through hastack failover")
            self.say(f"      approved ARC step {pending}")

    @staticmethod
    def _new_events(arc: Any, arn: str, execution_id: str, seen: set[str]
                    ) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = arc.list_plan_execution_events(
                planArn=arn, executionId=execution_id, **({"nextToken": token} if token else {}))
            events += page.get("items", [])
            token = page.get("nextToken")
            if not token:
                break
        fresh = [e for e in events if e["eventId"] not in seen]
        seen.update(e["eventId"] for e in fresh)
        return sorted(fresh, key=lambda e: (str(e.get("timestamp", "")), e["eventId"]))
