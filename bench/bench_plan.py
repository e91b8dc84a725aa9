"""Benchmark `hastack plan` against its floor, both as whole processes.

The plan: `hastack plan STACK` in a fresh interpreter, as a user runs it.
The floor, measured in the same run: a fresh interpreter that imports the provider
SDK modules defining the plan's resource types and registers the plan's custom
resources flat, as `pulumi.CustomResource`, under Pulumi's stock mocks. That is the
least any program building these resources pays (interpreter, SDK imports, one
RegisterResource each); the ratio plan/floor is what the components, the recording
monitor, the deterministic mocks and the renderers add on top.

Runs alternate (plan, floor, floor with the plan's garbage-collector setting, plan, ...)
so a busy machine slows all alike. Prints medians of wall time and CPU seconds (user+sys)
and their ratios; asserts nothing about time.

    uv run python bench/bench_plan.py [--stack prod] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def sdk_class(type_token: str) -> Any:
    """The SDK class for a type token, found through the SDK's own module registry."""
    import pulumi
    import pulumi.runtime.rpc as rpc

    if type_token.startswith("pulumi:pulumi:"):  # the core SDK's own (StackReference)
        return getattr(pulumi, type_token.rsplit(":", 1)[1])
    if type_token.startswith("pulumi:providers:"):
        pkg = type_token.rsplit(":", 1)[1]
        importlib.import_module(f"pulumi_{pkg}")
        info = rpc._RESOURCE_PACKAGES[pkg][0].pkg_info  # type: ignore[attr-defined]
    else:
        pkg, mod, _ = type_token.split(":")
        importlib.import_module(f"pulumi_{pkg}")
        module = rpc.get_resource_module(pkg, mod, "")
        if module is None and pkg == "kubernetes":
            # A CRD's kind (TargetGroupBinding, ...): the program builds it as the SDK's
            # generic apiextensions.CustomResource, so that is the class to import.
            return importlib.import_module("pulumi_kubernetes.apiextensions").CustomResource
        assert module is not None, f"no SDK module registers {type_token}"
        info = {"fqn": module.mod_info["fqn"],  # type: ignore[attr-defined]
                "class": module.mod_info["classes"][type_token]}  # type: ignore[attr-defined]
    return getattr(importlib.import_module(info["fqn"]), info["class"])


def floor(plan_dir: Path, *, plan_gc: bool = False) -> None:
    """Import the plans' SDK classes, then register their custom resources flat under mocks.

    `hastack plan <env>` writes one plan per stack of the environment; each becomes
    one mock run here, as each is one program run there. With `plan_gc`, the whole floor
    runs with the garbage-collector threshold the plan's program runs use
    (hastack/plan/collector.py), so the ratio beside it compares like with like.
    """
    if plan_gc:
        import gc

        from hastack.plan.collector import PROGRAM_GC_THRESHOLD

        gc.set_threshold(PROGRAM_GC_THRESHOLD, *gc.get_threshold()[1:])
    import pulumi
    import pulumi.runtime.resource
    from pulumi.runtime.mocks import MockMonitor, MockResourceArgs, Mocks, MockSettings
    from pulumi.runtime.proto import source_pb2
    from pulumi.runtime.settings import configure
    from pulumi.runtime.stack import run_in_stack

    # The plan's program runs register without a stack trace (the recording monitor never
    # reads one: hastack/plan/runner.py, without_source_positions); so does the floor, or
    # the ratio would credit the plan with work the floor does. Set here, not imported
    # from there: importing hastack's runner would add its own imports to the floor.
    pulumi.runtime.resource._get_stack_trace = source_pb2.StackTrace

    plans = [json.loads(path.read_text()) for path in sorted(plan_dir.glob("*.json"))]
    customs = [[r for r in plan["resources"] if r["custom"]] for plan in plans]
    for type_token in sorted({r["type"] for custom in customs for r in custom}):
        sdk_class(type_token)

    class Echo(Mocks):
        def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
            return f"{args.name}-id", dict(args.inputs)

        def call(self, args: Any) -> tuple[dict[str, Any], None]:
            return {}, None

    for plan, custom in zip(plans, customs, strict=True):
        configure(MockSettings(monitor=MockMonitor(Echo()), monitor_features=set(),
                               project=plan["project"], stack=plan["stack"], dry_run=True,
                               organization="organization", callbacks=None))

        def program(custom: list[dict[str, Any]] = custom) -> None:
            for item in custom:
                pulumi.CustomResource(item["type"], item["urn"].rsplit("::", 1)[1],
                                      item["inputs"])

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(run_in_stack(program))
        finally:
            loop.close()
            asyncio.set_event_loop(None)
    print(sum(len(custom) for custom in customs))


def timed(command: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user+sys) of one child process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed with exit status {process.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="prod",
                        help="what `hastack plan` is given: an environment or a stack")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--floor", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--floor-plan-gc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor:
        floor(args.floor, plan_gc=args.floor_plan_gc)
        return
    if args.runs < 3:
        parser.error("--runs must be at least 3 for a median")

    with tempfile.TemporaryDirectory(prefix="bench-plan-") as out:
        plan_cmd = [sys.executable, "-m", "hastack.cli", "plan", args.stack, "--quiet",
                    "--out", out]
        floor_cmd = [sys.executable, __file__, "--floor", out]
        tuned_cmd = [*floor_cmd, "--floor-plan-gc"]
        timed(plan_cmd)  # writes the plans the floor registers; warms the page cache
        written = [json.loads(path.read_text()) for path in sorted(Path(out).glob("*.json"))]
        total = sum(len(plan["resources"]) for plan in written)
        custom = sum(1 for plan in written for r in plan["resources"] if r["custom"])
        plans, floors, tuned = [], [], []
        for _ in range(args.runs):
            plans.append(timed(plan_cmd))
            floors.append(timed(floor_cmd))
            tuned.append(timed(tuned_cmd))

    def median(samples: list[tuple[float, float]], index: int) -> float:
        return statistics.median(sample[index] for sample in samples)

    plan_wall, floor_wall = median(plans, 0), median(floors, 0)
    plan_cpu, floor_cpu = median(plans, 1), median(floors, 1)
    print(f"plan target              {args.stack} ({len(written)} stacks, {total} resources, "
          f"{custom} custom)")
    print(f"runs                     {args.runs} of each, alternating; medians")
    print(f"plan                     {plan_wall:.2f} s wall, {plan_cpu:.2f} s CPU")
    print(f"floor                    {floor_wall:.2f} s wall, {floor_cpu:.2f} s CPU")
    print(f"plan/floor               {plan_wall / floor_wall:.2f}x wall, "
          f"{plan_cpu / floor_cpu:.2f}x CPU (goal <= 1.5x)")
    # The plan's program runs collect garbage less often than CPython's default; the same
    # setting in the floor shows how much of the ratio that setting alone buys.
    tuned_wall, tuned_cpu = median(tuned, 0), median(tuned, 1)
    print(f"floor, plan's GC setting {tuned_wall:.2f} s wall, {tuned_cpu:.2f} s CPU")
    print(f"plan/that floor          {plan_wall / tuned_wall:.2f}x wall, "
          f"{plan_cpu / tuned_cpu:.2f}x CPU")
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("note                     PYTHONDONTWRITEBYTECODE is set: both rely on the "
              "bytecode written at install")


if __name__ == "__main__":
    main()
