"""Planning several targets at once: one process per target, as many as there are cores.

A target is what `hastack plan` takes: an environment (its infrastructure stack and
then its workloads stacks, which read the former's outputs, so they stay together
in one process) or a single workloads stack.

A plan is CPU-bound Python (the mock engine, the SDKs, the renderers), so threads
would share one core; processes use them all. Each process plans exactly as
`hastack plan <target>` does and writes the same bytes (the golden and CLI tests
compare them); results come back in the order of `targets`.

The targets are handed out in batches, one per process, each batch of one cloud
where there are enough processes: a process imports the provider SDK of every cloud
it plans (seconds of CPU each, the GCP SDK the most), so when both processes of a
2-core machine took environments as they came, both imported both clouds' SDKs.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

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


def batches(targets: Sequence[str], clouds: Mapping[str, str], weights: Mapping[str, int],
            count: int) -> list[list[str]]:
    """`targets` in at most `count` batches (none empty), each of one cloud where it can be.

    Start from one batch per cloud; while there are more batches than `count`, merge the
    two lightest; while fewer, split the heaviest batch that has several targets where
    its two halves are most even. `weights` are the targets' stack counts. Targets
    keep their order within a batch.
    """
    def weight(batch: Sequence[str]) -> int:
        return sum(weights.get(target, 1) for target in batch)

    groups: dict[str, list[str]] = {}
    for target in targets:
        groups.setdefault(clouds.get(target, ""), []).append(target)
    result = list(groups.values())
    while len(result) > max(1, count):
        result.sort(key=weight)
        result[:2] = [result[0] + result[1]]
    while len(result) < count:
        splittable = [b for b in result if len(b) > 1]
        if not splittable:
            break
        heaviest = max(splittable, key=weight)
        cut = min(range(1, len(heaviest)),
                  key=lambda i: abs(weight(heaviest[:i]) - weight(heaviest[i:])))
        result.remove(heaviest)
        result += [heaviest[:cut], heaviest[cut:]]
    return result


def _cloud_and_weight(root: Path, target: str) -> tuple[str, int]:
    """The target's cloud as its environment's stack file names it, and its stack count."""
    from hastack.stacks import environment_cloud, environment_stacks, stack_info

    info = stack_info(root, target)
    if info.layer == "workloads":
        return environment_cloud(root, info.environment), 1
    return environment_cloud(root, target), len(environment_stacks(root, target))


def _plan_batch(root: Path, batch: Sequence[str], out_dir: Path | None
                ) -> list[list[PlanResult] | tuple[str, list[tuple[str, str]]]]:
    outcomes: list[list[PlanResult] | tuple[str, list[tuple[str, str]]]] = []
    for target in batch:
        try:
            outcomes.append(plan_target(root, target, out_dir))
        except ConfigError as error:
            # ConfigError does not survive pickling as itself; send what rebuilds it.
            outcomes.append((error.source, error.problems))
    return outcomes


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
    facts = {target: _cloud_and_weight(root, target) for target in targets}
    split = batches(targets, {t: c for t, (c, _) in facts.items()},
                    {t: w for t, (_, w) in facts.items()}, count)
    # "spawn": a fresh interpreter per worker, never a fork of one holding gRPC state.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(split), mp_context=context) as pool:
        where: dict[str, tuple[Future[list[Any]], int]] = {}
        for batch in split:
            future = pool.submit(_plan_batch, root, batch, out_dir)
            where.update({target: (future, i) for i, target in enumerate(batch)})
        for target in targets:
            future, position = where[target]
            outcome = future.result()[position]
            if isinstance(outcome, list):
                yield target, outcome
            else:
                yield target, ConfigError(*outcome)
