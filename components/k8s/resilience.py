"""Workflow-level resilience defaults per tier, in one table both orchestrators read.

Infrastructure failover keeps the orchestrator up; these defaults keep the *work*:
steps retry with exponential backoff (a node drained or lost mid-step is retried on
another node), results and logs land in the replicated artifact bucket, and finished
workflows are garbage-collected so etcd and the node pool do not fill up.

Argo: rendered into the controller's `workflowDefaults` (fields of the v4 WorkflowSpec:
retryStrategy{limit, retryPolicy, backoff{duration, factor, cap}, affinity}, podGC,
ttlStrategy, archiveLogs). Prefect: PREFECT_* settings on the worker, which passes
its settings on to every flow-run pod it creates (prefect.workers.base
`_base_environment`), so they apply without a per-deployment change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from components.base import Tier


@dataclass(frozen=True)
class WorkflowResilience:
    # Retries after the first attempt, for every task (Prefect) / step (Argo).
    step_retries: int
    # Exponential backoff: first delay, factor per retry, ceiling.
    backoff_seconds: int
    backoff_factor: int
    backoff_cap_seconds: int
    # Whole-flow retries (Prefect): a flow retry re-runs only the stages whose
    # checkpoints are missing, because the examples' stages are idempotent.
    flow_retries: int
    # How long finished Workflow objects stay for inspection before the controller
    # deletes them (the archive in PostgreSQL keeps them afterwards).
    ttl_after_success_seconds: int
    ttl_after_failure_seconds: int
    # Pod garbage collection: delete pods once the workflow finishes; keep them a
    # little so `kubectl logs` still works right after a failure.
    pod_gc_delete_delay: str

    def retry_delays(self) -> list[int]:
        """The delay before each retry (what Prefect takes as a list)."""
        return [min(self.backoff_cap_seconds, self.backoff_seconds * self.backoff_factor ** n)
                for n in range(self.step_retries)]


RESILIENCE: dict[Tier, WorkflowResilience] = {
    "dev": WorkflowResilience(step_retries=2, backoff_seconds=5, backoff_factor=2,
                              backoff_cap_seconds=60, flow_retries=0,
                              ttl_after_success_seconds=3600,
                              ttl_after_failure_seconds=86400, pod_gc_delete_delay="10m"),
    "staging": WorkflowResilience(step_retries=3, backoff_seconds=10, backoff_factor=2,
                                  backoff_cap_seconds=300, flow_retries=1,
                                  ttl_after_success_seconds=86400,
                                  ttl_after_failure_seconds=3 * 86400,
                                  pod_gc_delete_delay="30m"),
    "prod": WorkflowResilience(step_retries=3, backoff_seconds=15, backoff_factor=2,
                               backoff_cap_seconds=600, flow_retries=1,
                               ttl_after_success_seconds=86400,
                               ttl_after_failure_seconds=7 * 86400,
                               pod_gc_delete_delay="1h"),
}

# Retry every failure, infrastructure errors (pod deleted with its node, init/wait
# container errors) and application failures alike: `OnTransientError` alone would
# not retry a step whose node was lost, which is the failure this exists for. Steps
# must therefore be idempotent (see hastack_workflows).
ARGO_RETRY_POLICY = "Always"
# Caveat (workflow/controller/operator.go `retryStrategy()` at v4.0.6): the workflow-level
# retryStrategy applies to *every* template without its own, steps/DAG templates too,
# so retries compound with nesting. Templates that only group steps should set
# `retryStrategy: {limit: "0"}` (as examples/ai_pipeline/argo does).
ARGO_POD_GC_STRATEGY = "OnWorkflowCompletion"
# Per workflow (uid: a re-used name never overwrites an older run's artifacts), per pod.
ARGO_ARTIFACT_KEY_FORMAT = (
    "artifacts/{{workflow.namespace}}/{{workflow.name}}/{{workflow.uid}}/{{pod.name}}")

# Prefect: where flow-run checkpoints and results go inside the artifact bucket.
PREFECT_RESULTS_PREFIX = "prefect/results"
CHECKPOINTS_PREFIX = "checkpoints"
PREFECT_RESULT_BLOCK = "hastack-results"  # a RemoteFileSystem block
PREFECT_RESULT_BLOCK_SLUG = f"remote-file-system/{PREFECT_RESULT_BLOCK}"
CHECKPOINT_URL_ENV = "HASTACK_CHECKPOINT_URL"


def for_tier(tier: Tier) -> WorkflowResilience:
    return RESILIENCE[tier]


def argo_workflow_spec_defaults(tier: Tier) -> dict[str, Any]:
    """The `spec` part of the controller's workflowDefaults (v4 WorkflowSpec fields)."""
    r = for_tier(tier)
    return {
        "retryStrategy": {
            # IntOrString fields, written as strings: the v4 JSON schema types them
            # `string` (the controller accepts both).
            "limit": str(r.step_retries),
            "retryPolicy": ARGO_RETRY_POLICY,
            "backoff": {"duration": f"{r.backoff_seconds}s", "factor": str(r.backoff_factor),
                        "cap": f"{r.backoff_cap_seconds}s"},
            # The retry runs on another node (RetryNodeAntiAffinity must be empty).
            "affinity": {"nodeAntiAffinity": {}},
        },
        "podGC": {"strategy": ARGO_POD_GC_STRATEGY,
                  "deleteDelayDuration": r.pod_gc_delete_delay},
        "ttlStrategy": {"secondsAfterSuccess": r.ttl_after_success_seconds,
                        "secondsAfterFailure": r.ttl_after_failure_seconds},
        "archiveLogs": True,
    }


def bucket_url(cloud: str, bucket: str, prefix: str) -> str:
    scheme = "s3" if cloud == "aws" else "gs"
    return f"{scheme}://{bucket}/{prefix}"


def prefect_settings(tier: Tier, result_storage: bool = True) -> dict[str, str]:
    """PREFECT_* settings (names from prefect/settings/models in Prefect 3.8.3).

    `result_storage`: the bucket (and so the result block) exists; without it results
    would still persist, to the pod's local disk, which does not outlive the pod.
    """
    r = for_tier(tier)
    settings = {
        "PREFECT_TASKS_DEFAULT_RETRIES": str(r.step_retries),
        "PREFECT_TASKS_DEFAULT_RETRY_DELAY_SECONDS": json.dumps(r.retry_delays()),
        "PREFECT_FLOWS_DEFAULT_RETRIES": str(r.flow_retries),
        "PREFECT_FLOWS_DEFAULT_RETRY_DELAY_SECONDS": str(r.backoff_cap_seconds),
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true",
    }
    if result_storage:
        settings["PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK"] = PREFECT_RESULT_BLOCK_SLUG
    return settings
