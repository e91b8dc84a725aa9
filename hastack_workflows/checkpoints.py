"""Checkpoints: content-addressed data plus a manifest that commits it.

Write order makes a stage's checkpoint all-or-nothing: the data object first (its
key is its SHA-256, see `RunKey.data_key`), the manifest last. A step killed between
the two leaves an orphan data object and no manifest, so the stage counts as not done
and is recomputed; a manifest always names bytes that were completely written.

Reads verify: the data's SHA-256 and size must equal the manifest's, or
`CorruptCheckpointError` is raised. Nothing silently recomputes over a corrupt
object, because a corrupt checkpoint means something else is wrong (a bad restore,
a tool writing into the bucket) and an operator should look before work continues.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hastack_workflows.keys import RunKey, check_name
from hastack_workflows.stores import ObjectStore

MANIFEST_VERSION = 1


class CheckpointError(Exception):
    """Base class: something about a checkpoint makes it unusable."""


class CorruptCheckpointError(CheckpointError):
    """The stored bytes do not match their manifest (or the manifest is unreadable)."""


class CheckpointConflictError(CheckpointError):
    """A stage is already committed with different content; nothing was overwritten."""


@dataclass(frozen=True)
class Checkpoint:
    stage: str
    sha256: str
    size: int
    data_key: str
    data: bytes


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_manifest(store: ObjectStore, run: RunKey, stage: str) -> dict[str, Any] | None:
    key = run.manifest_key(stage)
    raw = store.get(key)
    if raw is None:
        return None
    try:
        manifest = json.loads(raw)
        sha, size, data_key = manifest["sha256"], manifest["size"], manifest["dataKey"]
    except (ValueError, KeyError, TypeError) as error:
        raise CorruptCheckpointError(
            f"checkpoint manifest {key} is unreadable ({error}); refusing to use stage "
            f"{stage!r}") from error
    if (not isinstance(sha, str) or not isinstance(size, int)
            or data_key != run.data_key(stage, sha)):
        raise CorruptCheckpointError(
            f"checkpoint manifest {key} does not describe a checkpoint of stage {stage!r} "
            f"of run {run.prefix}")
    return dict(manifest)


def load_checkpoint(store: ObjectStore, run: RunKey, stage: str) -> Checkpoint | None:
    """The committed checkpoint of `stage`, verified; None when the stage is not done."""
    manifest = _read_manifest(store, run, stage)
    if manifest is None:
        return None
    data_key = manifest["dataKey"]
    data = store.get(data_key)
    if data is None:
        raise CorruptCheckpointError(
            f"checkpoint {data_key} is missing although {run.manifest_key(stage)} commits it")
    actual = _sha256(data)
    if actual != manifest["sha256"] or len(data) != manifest["size"]:
        raise CorruptCheckpointError(
            f"checkpoint {data_key} is corrupt: sha256 {actual} ({len(data)} bytes), "
            f"manifest says {manifest['sha256']} ({manifest['size']} bytes); refusing to "
            f"resume from stage {stage!r}. Restore the object from a noncurrent version "
            f"or delete {run.manifest_key(stage)} to recompute the stage.")
    return Checkpoint(stage, actual, len(data), data_key, data)


def save_checkpoint(store: ObjectStore, run: RunKey, stage: str, data: bytes) -> Checkpoint:
    """Commit `data` as the output of `stage`; idempotent for identical content.

    Saving the same bytes again (a retry, a re-run) writes nothing. Saving different
    bytes over a committed stage raises `CheckpointConflictError`: a committed stage is
    what later stages were computed from, and must not change under them.
    """
    check_name("stage", stage)
    sha = _sha256(data)
    existing = _read_manifest(store, run, stage)
    if existing is not None:
        if existing["sha256"] == sha:
            return Checkpoint(stage, sha, len(data), existing["dataKey"], data)
        raise CheckpointConflictError(
            f"stage {stage!r} of run {run.prefix} is already committed with sha256 "
            f"{existing['sha256']}; the new output has {sha}. Nothing was overwritten.")
    data_key = run.data_key(stage, sha)
    store.put(data_key, data)
    manifest = {"version": MANIFEST_VERSION, "pipeline": run.pipeline, "run": run.digest,
                "stage": stage, "sha256": sha, "size": len(data), "dataKey": data_key}
    store.put(run.manifest_key(stage), json.dumps(manifest, sort_keys=True).encode())
    return Checkpoint(stage, sha, len(data), data_key, data)


def run_stage(store: ObjectStore, run: RunKey, stage: str, compute: Callable[[], bytes]
              ) -> tuple[Checkpoint, bool]:
    """The stage's checkpoint, computing and committing it only if it is not done yet.

    Returns the checkpoint and whether `compute` ran.
    """
    done = load_checkpoint(store, run, stage)
    if done is not None:
        return done, False
    return save_checkpoint(store, run, stage, compute()), True


def committed_stages(store: ObjectStore, run: RunKey, stages: Sequence[str]) -> list[str]:
    """The leading stages (in pipeline order) whose checkpoints are committed and verify.

    Stops at the first stage that is not done: a later checkpoint is only trusted if
    every stage before it is there too. Raises `CorruptCheckpointError` on a bad one.
    """
    done: list[str] = []
    for stage in stages:
        if load_checkpoint(store, run, stage) is None:
            break
        done.append(stage)
    return done
