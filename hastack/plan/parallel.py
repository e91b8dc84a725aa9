"""Planning several targets at once: one process per target, as many as there are cores.

A target is what `hastack plan` takes: an environment (its infrastructure stack and
then its workloads stacks, which read the former's outputs, so they stay together
in one process) or a single workloads stack.

A plan is CPU-bound Python (the mock engine, the SDKs, the renderers), so threads
would share one core; processes use them all. Each process plans exactly as
`hastack plan <target>` does and writes the same bytes (the golden and CLI tests
compare them); results come back in the order of `targets`.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from hastack.config import ConfigError
from hastack.plan.pipeline import PlanResult

Outcome = list[PlanResult] | ConfigError


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, not the machine's total)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def plan_target(root: Path, target: str, out_dir: Path | None) -> list[PlanResult]:
    """What `hastack plan <target>` plans: one workloads stack, or a whole environment."""
    from hastack.plan.pipeline import plan_environment, plan_stack
    from hastack.stacks import stack_info

    if stack_info(root, target).layer == "workloads":
        return [plan_stack(root, target, out_dir)]
    return plan_environment(root, target, out_dir)


def _plan_one(root: Path, target: str, out_dir: Path | None
              ) -> list[PlanResult] | tuple[str, list[tuple[str, str]]]:
    try:
        return plan_target(root, target, out_dir)
    except ConfigError as error:
        # ConfigError does not survive pickling as itself; send what rebuilds it.
        return error.source, error.problems


def plan_targets(root: Path, targets: Sequence[str], out_dir: Path | None = None, *,
                 workers: int | None = None) -> Iterator[tuple[str, Outcome]]:
    """(target, its PlanResults or ConfigError) for each of `targets`, in order.

    One target, or one worker, plans in this process; otherwise a pool of
    `workers` (default: the usable cores) processes plans them side by side.
    """
    count = min(len(targets), workers or usable_cores())
    if count <= 1:
        for target in targets:
            try:
                yield target, plan_target(root, target, out_dir)
            except ConfigError as error:
                yield target, error
        return
    # "spawn": a fresh interpreter per worker, never a fork of one holding gRPC state.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
        futures = [pool.submit(_plan_one, root, target, out_dir) for target in targets]
        for target, future in zip(targets, futures, strict=True):
            outcome = future.result()
            if isinstance(outcome, list):
                yield target, outcome
            else:
                yield target, ConfigError(*outcome)
