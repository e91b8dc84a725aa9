"""The region drill: the ARC Region switch plan in planned (graceful) mode, timed by its events.

Kept apart so `hastack failover` (hastack/failover/arc.py) can share it. Operations
and shapes are botocore's `arc-region-switch` 2022-07-26 model: StartPlanExecution
(planArn, targetRegion, action activate, mode graceful), GetPlanExecution
(executionState, startTime, endTime, stepStates), ApprovePlanExecutionStep (stepName,
approval approve), ListPlanExecutionEvents (timestamp, type stepStarted /
stepSucceeded / ..., stepName). These are data-plane operations (no
UseControlPlaneEndpoint in the model): they are called in the region being
activated, so a drill (or a real failover) never depends on the region it leaves.
"""

from __future__ import annotations

from typing import Any

from hastack.drill.clock import ClientFactory, Clock, timed

DONE = ("completed", "completedWithExceptions", "completedMonitoringApplicationHealth",
        "canceled", "planExecutionTimedOut", "failed")


def run_region_switch(clients: ClientFactory, plan_arn: str, target_region: str, *,
                      clock: Clock, approve: bool, comment: str) -> dict[str, Any]:
    """Start a graceful activation of `target_region` and follow it to its end.

    `approve`: the person already confirmed the drill (typed the environment's name or
    passed --yes), so the plan's approval steps are approved as they come up.
    """
    arc = clients("arc-region-switch", target_region)
    started = arc.start_plan_execution(planArn=plan_arn, targetRegion=target_region,
                                       action="activate", mode="graceful", comment=comment)
    execution_id = started["executionId"]
    execution: dict[str, Any] = {}
    approved: set[str] = set()
    for _ in range(clock.max_polls):
        execution = arc.get_plan_execution(planArn=plan_arn, executionId=execution_id)
        state = execution.get("executionState")
        if state in DONE:
            break
        if state == "pendingManualApproval" and approve:
            for step in execution.get("stepStates", []):
                if step.get("status") == "pendingApproval" and step["name"] not in approved:
                    arc.approve_plan_execution_step(
                        planArn=plan_arn, executionId=execution_id, stepName=step["name"],
                        approval="approve", comment=comment)
                    approved.add(step["name"])
        clock.sleep(clock.poll_seconds)
    events: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = arc.list_plan_execution_events(
            planArn=plan_arn, executionId=execution_id, **({"nextToken": token} if token else {}))
        events += page.get("items", [])
        token = page.get("nextToken")
        if not token:
            break
    return {"execution": execution, "events": events, "executionId": execution_id,
            "approved": sorted(approved)}


def measure(facts: dict[str, Any]) -> dict[str, Any]:
    """The execution and each step, from the plan's own event timestamps."""
    execution, events = facts["execution"], facts["events"]
    phases = [timed("execution", "arc-region-switch:GetPlanExecution",
                    execution.get("startTime"), execution.get("endTime"),
                    status=execution.get("executionState"),
                    executionId=facts["executionId"])]
    started: dict[str, Any] = {}
    for event in sorted(events, key=lambda e: (str(e.get("timestamp")), e.get("eventId", ""))):
        step, kind = event.get("stepName"), event.get("type")
        if not step:
            continue
        if kind == "stepStarted":
            started.setdefault(step, event)
        elif kind in ("stepSucceeded", "stepFailed", "stepSkipped", "stepCanceled"):
            begin = started.get(step)
            phases.append(timed(step, "arc-region-switch:ListPlanExecutionEvents",
                                begin and begin.get("timestamp"), event.get("timestamp"),
                                status=kind, block=event.get("executionBlockType")))
    terms = [timed("region-switch", "arc-region-switch:GetPlanExecution",
                   execution.get("startTime"), execution.get("endTime"),
                   actualRecoveryTime=execution.get("actualRecoveryTime"))]
    return {"phases": phases, "terms": terms, "status": execution.get("executionState"),
            "approvedSteps": facts.get("approved", [])}
