"""`hastack failover` / `hastack failback`: make another region of an environment active.

    hastack failover ENV --to REGION --mode planned|unplanned
                     [--dry-run] [--json FILE] [--yes] [--accept-data-loss]
    hastack failback ENV [--dry-run] [--json FILE] [--yes]     (planned, to the primary)

The steps come from the environment's offline plan (steps.py). `--dry-run` prints
them (and writes `--json`) without any cloud call. A real run asks for the
environment's name to be typed (or `--yes`), runs the cloud steps, and only then
writes `hastack:activeRegion` into the stack file; the `pulumi up` of the
infrastructure stack and of each workloads stack follow (printed, in order). A run
that fails says which step; rerunning the same command resumes there
(`build/failover/<env>.json`). Exit: 0 done, 1 a step failed, 2 refused.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hastack.config import ConfigError
from hastack.failover.journal import Journal
from hastack.failover.stackfile_edit import StackFileEditError, set_scalar
from hastack.failover.steps import FailoverError, FailoverPlan, Step, build_steps

EXIT_FAILED, EXIT_USAGE = 1, 2
Runner = Callable[[Step], str]


def _parser(prog: str, failback: bool) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("env", help="the environment (its infrastructure stack name)")
    if not failback:
        parser.add_argument("--to", required=True, help="the region to make active")
        parser.add_argument("--mode", required=True, choices=("planned", "unplanned"),
                            help="planned: switchover, no data loss (both regions up); "
                                 "unplanned: the active region is down")
        parser.add_argument("--accept-data-loss", action="store_true",
                            help="unplanned only: go on when the replication lag is unknown "
                                 "or above the RPO target")
    parser.add_argument("--dry-run", action="store_true", help="print the steps; no cloud call")
    parser.add_argument("--json", type=Path, help="also write the steps as JSON here")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument("--root", type=Path, default=None, help=argparse.SUPPRESS)
    return parser


def _plan(root: Path, env: str, target: str | None, mode: str) -> tuple[FailoverPlan, Any]:
    from hastack.plan.pipeline import plan_single
    from hastack.stacks import environments, stack_info

    if env not in environments(root):
        known = ", ".join(environments(root))
        hint = ("; that is a workloads stack: name its environment"
                if (root / "stacks" / f"Pulumi.{env}.yaml").is_file()
                and stack_info(root, env).layer == "workloads" else "")
        raise FailoverError(f"no environment '{env}'{hint}; environments: {known}")
    result = plan_single(root, env, root / "build" / "failover" / "plans")
    config = result.environment
    region = target or config.regions.primary
    workloads = None
    if result.plan.get("cloud") == "gcp":
        from hastack.failover.gcp import workloads_plans

        workloads = workloads_plans(root, result, root / "build" / "failover" / "plans")
    plan = build_steps(result.plan, region, mode, f"stacks/Pulumi.{env}.yaml",  # type: ignore[arg-type]
                       workloads)
    return plan, config


def _print(plan: FailoverPlan, done: list[int]) -> None:
    print(f"{plan.mode} failover of {plan.stack}: {plan.source} -> {plan.target}")
    for index, step in enumerate(plan.steps, 1):
        mark = "done" if index - 1 in done else "    "
        print(f"  {index:2}. [{mark}] {step.kind:9} {step.region:14} {step.action}")


def _confirmed(env: str, yes: bool) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        print("error: not confirmed: pass --yes, or run in a terminal and type the "
              "environment's name", file=sys.stderr)
        return False
    answer = input(f"Type '{env}' to fail over {env}: ")
    return answer.strip() == env


def run_failover(plan: FailoverPlan, journal: Journal, root: Path,
                 cloud_runner: Runner) -> int:
    """Run the pending steps in order; stop at the first failure (journal kept)."""
    for index in journal.pending():
        step = plan.steps[index]
        try:
            if step.kind == "config":
                changed = set_scalar(root / step.details["stackFile"], step.details["key"],
                                     step.details["value"])
                outcome = (f"{step.details['stackFile']}: {step.details['key']} = "
                           f"{step.details['value']}" + ("" if changed else " (already)"))
            elif step.kind in ("dns", "workloads", "verify") and "scale" not in step.details:
                outcome = "next: " + _follow_up(step, plan)
            else:
                outcome = cloud_runner(step)
        except Exception as error:  # a cloud or file error: report it, keep the journal
            print(f"step {index + 1} ({step.kind}: {step.action}) failed: {error}\n"
                  f"Nothing after it was done. Rerun the same command to resume at step "
                  f"{index + 1}.", file=sys.stderr)
            return EXIT_FAILED
        journal.complete(index)
        print(f"  {index + 1:2}. done: {outcome}")
    journal.finish()
    print(f"{plan.stack} is now active in {plan.target}. Commit "
          f"stacks/Pulumi.{plan.stack}.yaml, then run the pulumi up steps above in order.")
    return 0


def _follow_up(step: Step, plan: FailoverPlan) -> str:
    if step.kind == "dns":
        # GCP: the roles were swapped by the Cloud SQL API; the state must read them
        # before the update (components/gcp/cloudsql.py).
        refresh = "--refresh " if plan.cloud == "gcp" else ""
        return f"pulumi up {refresh}--stack {plan.stack}"
    if step.kind == "workloads":
        return " ; ".join(f"pulumi up --stack {stack}" for stack in step.details["stacks"])
    return f"hastack verify --plan build/plan/{plan.stack}.json --outputs <outputs.json>"


def failover_main(argv: list[str], failback: bool = False,
                  cloud_runner: Runner | None = None) -> int:
    prog = "hastack failback" if failback else "hastack failover"
    try:
        args = _parser(prog, failback).parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0) if isinstance(exit_.code, int) else EXIT_USAGE
    from hastack.plan.stackfile import project_root

    root = (args.root or project_root()).resolve()
    mode = "planned" if failback else args.mode
    try:
        if not failback and args.accept_data_loss and mode == "planned":
            raise FailoverError("--accept-data-loss is for --mode unplanned only; a planned "
                                "switchover loses nothing")
        plan, config = _plan(root, args.env, None if failback else args.to, mode)
        journal = Journal(root / "build" / "failover" / f"{plan.stack}.json", plan)
    except (FailoverError, ConfigError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(plan.as_json(), indent=2) + "\n")
    _print(plan, journal.done)
    if args.dry_run:
        return 0
    if not _confirmed(plan.stack, args.yes):
        return EXIT_USAGE
    if cloud_runner is None and plan.cloud == "gcp":
        from hastack.failover.gcp import gcp_runner

        target = config.recovery.region_failure
        try:
            cloud_runner = gcp_runner(target.rpo_seconds if target else None, accept_data_loss=bool(
                getattr(args, "accept_data_loss", False)))
        except FailoverError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_USAGE
    if cloud_runner is None:
        from hastack.failover.aws import AwsSteps, boto3_clients

        target = config.recovery.region_failure
        clients = boto3_clients()
        cloud_runner = AwsSteps(clients, target.rpo_seconds if target else None,
                                accept_data_loss=bool(getattr(args, "accept_data_loss", False))
                                ).run
        if any(step.details.get("executor") == "arc" for step in plan.steps):
            cloud_runner = _arc_runner(plan, clients, cloud_runner, args.yes)
    try:
        return run_failover(plan, journal, root, cloud_runner)
    except StackFileEditError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED


def _arc_runner(plan: FailoverPlan, clients: Any, direct: Runner, yes: bool) -> Runner:
    """ARC runs the database/orchestrator/DNS work; approvals need --yes or the typed name."""
    from hastack.failover.arc import ArcSteps

    def approve(step_name: str) -> bool:
        print(f"ARC step '{step_name}' of {plan.stack} waits for approval.")
        return _confirmed(plan.stack, yes)

    return ArcSteps(clients, direct, approve).run


def failback_main(argv: list[str]) -> int:
    return failover_main(argv, failback=True)
