"""The pipeline as Prefect flows: `ai_pipeline` and `recover_ai_pipeline`.

Nothing here sets retries, retry delays, result persistence or result storage: the
platform's defaults apply (PREFECT_TASKS_DEFAULT_RETRIES, ..._RETRY_DELAY_SECONDS,
PREFECT_RESULTS_PERSIST_BY_DEFAULT, PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK on the
flow-run pods, see components/k8s/resilience.py). Prefect reads them when a task is
*defined*, i.e. at import time of this module in the flow-run pod.

Checkpoints go to `HASTACK_CHECKPOINT_URL` (the platform sets it to the region's
replicated bucket), keyed by the run parameters: a retry, a flow retry, a re-run or
the recovery flow all find what is already committed and compute only the rest.
"""

from __future__ import annotations

import os
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.client.schemas.objects import TaskRun
from prefect.states import State

from examples.ai_pipeline import stages
from hastack_workflows import (
    CheckpointError,
    ObjectStore,
    committed_stages,
    run_stage,
    store_from_url,
)

CHECKPOINT_URL_ENV = "HASTACK_CHECKPOINT_URL"


def checkpoint_store() -> ObjectStore:
    url = os.environ.get(CHECKPOINT_URL_ENV)
    if not url:
        raise RuntimeError(f"{CHECKPOINT_URL_ENV} is not set; the platform sets it on flow-run "
                           "pods to s3://<bucket>/checkpoints (gs:// on GCP)")
    return store_from_url(url)


def _retry_unless_checkpoint_error(_task: Any, _run: TaskRun, state: State) -> bool:
    # A corrupt or conflicting checkpoint will be just as corrupt on the next attempt.
    return not isinstance(state.data, CheckpointError)


@task(task_run_name="{stage}", retry_condition_fn=_retry_unless_checkpoint_error)
def pipeline_stage(stage: str, params: dict[str, Any]) -> dict[str, Any]:
    """Run one stage unless its checkpoint is committed; return what it committed."""
    store = checkpoint_store()
    run = stages.key_for(params)

    def work() -> bytes:
        return stages.compute(stage, params, stages.stage_input(store, run, stage))

    checkpoint, computed = run_stage(store, run, stage, work)
    get_run_logger().info("%s %s: %s (sha256 %s)", stage, "computed" if computed else "reused",
                          checkpoint.data_key, checkpoint.sha256)
    return {"stage": stage, "sha256": checkpoint.sha256, "dataKey": checkpoint.data_key,
            "computed": computed}


@flow(name="ai-pipeline")
def ai_pipeline(dataset: str = "reviews", documents: int = 20,
                model: str = "lexicon-v1") -> dict[str, Any]:
    params = stages.parameters(dataset, documents, model)
    results = [pipeline_stage(stage, params) for stage in stages.STAGES]
    return {"run": stages.key_for(params).prefix, "stages": results}


@flow(name="ai-pipeline-recover")
def recover_ai_pipeline(dataset: str = "reviews", documents: int = 20,
                        model: str = "lexicon-v1") -> dict[str, Any]:
    """Resume a run (same parameters) after its last good checkpoint.

    Every committed checkpoint is verified first; a corrupt one stops the recovery
    with `CorruptCheckpointError` before anything is computed on top of it.
    """
    params = stages.parameters(dataset, documents, model)
    run = stages.key_for(params)
    done = committed_stages(checkpoint_store(), run, stages.STAGES)
    remaining = stages.STAGES[len(done):]
    get_run_logger().info("run %s: committed %s, resuming with %s", run.prefix,
                          done or "nothing", list(remaining) or "nothing")
    results = [pipeline_stage(stage, params) for stage in remaining]
    return {"run": run.prefix, "resumedAfter": done[-1] if done else None, "stages": results}
