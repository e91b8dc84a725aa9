"""Idempotency and checksum helpers for workflow steps (no Pulumi, no orchestrator imports).

Flow images install this package (it is in the hastack wheel) so that Prefect tasks
and Argo steps checkpoint their output to the replicated artifact bucket the same way:
content-addressed data, a manifest that commits it, and a SHA-256 verified on every read.
"""

from hastack_workflows.checkpoints import (
    Checkpoint,
    CheckpointConflictError,
    CheckpointError,
    CorruptCheckpointError,
    committed_stages,
    load_checkpoint,
    run_stage,
    save_checkpoint,
)
from hastack_workflows.keys import RunKey, run_key
from hastack_workflows.stores import FsspecStore, MemoryStore, ObjectStore, store_from_url

__all__ = [
    "Checkpoint",
    "CheckpointConflictError",
    "CheckpointError",
    "CorruptCheckpointError",
    "FsspecStore",
    "MemoryStore",
    "ObjectStore",
    "RunKey",
    "committed_stages",
    "load_checkpoint",
    "run_key",
    "run_stage",
    "save_checkpoint",
    "store_from_url",
]
